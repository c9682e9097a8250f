//! Image garbage collection, as Kubernetes' image GC manager: when the image filesystem is
//! used above the high threshold (default 85%), images no container uses are removed,
//! oldest first, until usage would be under the low threshold (default 80%). The kubelet's
//! own images are never removed.

use crate::error::Result;
use crate::runtime::{ImageInfo, Runtime};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub high_percent: u8,
    pub low_percent: u8,
}

/// Which images to remove (pure): none below the high threshold; else unused, unprotected
/// images oldest first until the bytes freed bring usage to the low threshold.
pub fn images_to_remove(
    images: &[ImageInfo],
    in_use: &HashSet<String>,
    protected: &[&str],
    used: u64,
    total: u64,
    t: Thresholds,
) -> Vec<String> {
    if total == 0 || t.high_percent >= 100 || used * 100 < total * u64::from(t.high_percent) {
        return vec![];
    }
    let target = total * u64::from(t.low_percent.min(t.high_percent)) / 100;
    let mut to_free = used.saturating_sub(target);
    let mut candidates: Vec<&ImageInfo> = images
        .iter()
        .filter(|i| !in_use.contains(&i.id))
        .filter(|i| !i.tags.iter().any(|t| in_use.contains(t)))
        .filter(|i| !i.tags.iter().any(|t| protected.contains(&t.as_str())))
        .collect();
    candidates.sort_by_key(|i| (i.created, i.id.clone()));
    let mut out = Vec::new();
    for i in candidates {
        if to_free == 0 {
            break;
        }
        out.push(i.id.clone());
        to_free = to_free.saturating_sub(u64::try_from(i.size).unwrap_or(0));
    }
    out
}

/// One collection pass; returns the images removed. Images used by any container on the
/// host (the kubelet's or not) are kept.
pub async fn collect<R: Runtime>(
    runtime: &R,
    protected: &[&str],
    t: Thresholds,
) -> Result<Vec<String>> {
    let (used, total) = runtime.image_fs_usage().await?;
    if total == 0 || used * 100 < total * u64::from(t.high_percent) {
        return Ok(vec![]);
    }
    let mut in_use = HashSet::new();
    for c in runtime.list_containers(&[]).await? {
        in_use.insert(c.image_id.clone());
        in_use.insert(c.image.clone());
    }
    let images = runtime.list_images().await?;
    let remove = images_to_remove(&images, &in_use, protected, used, total, t);
    let mut removed = Vec::new();
    for id in remove {
        match runtime.remove_image(&id).await {
            Ok(()) => {
                tracing::info!(image = %id, "image garbage-collected");
                removed.push(id);
            }
            Err(e) => {
                tracing::warn!(image = %id, error = %e, "image garbage collection: removal failed")
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(id: &str, tag: &str, size: i64, created: i64) -> ImageInfo {
        ImageInfo {
            id: id.into(),
            tags: vec![tag.into()],
            size,
            created,
        }
    }

    const T: Thresholds = Thresholds {
        high_percent: 85,
        low_percent: 80,
    };

    #[test]
    fn nothing_below_the_high_threshold() {
        let images = vec![img("a", "a:1", 10, 1)];
        assert!(images_to_remove(&images, &HashSet::new(), &[], 84, 100, T).is_empty());
    }

    #[test]
    fn oldest_unused_first_until_the_low_threshold() {
        let images = vec![
            img("new", "new:1", 3, 30),
            img("old", "old:1", 3, 10),
            img("used", "used:1", 50, 1),
            img("pause", "kubelet.local/pause:busybox", 50, 0),
            img("mid", "mid:1", 3, 20),
        ];
        let in_use: HashSet<String> = ["used:1".to_string()].into();
        // 90 of 100 used: 10 bytes to free to reach 80.
        let got = images_to_remove(
            &images,
            &in_use,
            &["kubelet.local/pause:busybox"],
            90,
            100,
            T,
        );
        assert_eq!(got, vec!["old", "mid", "new",]);
        let got = images_to_remove(
            &images,
            &in_use,
            &["kubelet.local/pause:busybox"],
            86,
            100,
            T,
        );
        assert_eq!(got, vec!["old", "mid"], "6 bytes free enough");
    }

    #[tokio::test]
    async fn collect_removes_through_the_runtime_and_keeps_images_in_use() {
        use crate::runtime::{ContainerConfig, fake::FakeRuntime};
        let rt = FakeRuntime::new();
        rt.add_sized_image("old:1", 20, 1);
        rt.add_sized_image("busy:1", 20, 2);
        rt.add_sized_image("newer:1", 20, 3);
        rt.set_fs_usage(90, 100);
        rt.create_container(&ContainerConfig {
            name: "x".into(),
            image: "busy:1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        let removed = collect(&rt, &[], T).await.unwrap();
        assert_eq!(removed, vec!["sha256:old:1"]);
        assert_eq!(rt.image_fs_usage().await.unwrap().0, 70);
        assert!(
            collect(&rt, &[], T).await.unwrap().is_empty(),
            "below the threshold now"
        );
    }
}
