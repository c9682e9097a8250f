//! The corpus' autoscaling/v1 HorizontalPodAutoscalers through ctl's manifest path: `ctl
//! apply -f` reads each v1 document as the stored autoscaling/v2 kind (its
//! targetCPUUtilizationPercentage a cpu Utilization metric), the real apiserver stores it,
//! and a second apply finds nothing to change (the conversion is deterministic).

use std::path::{Path, PathBuf};
use std::time::Duration;

use integration_tests::{ctl_kubeconfig, free_addr, spawn_tls_apiserver, text, wait_ready_tls};
use proto::k8s::{HorizontalPodAutoscaler, Namespace, ObjectMeta};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("k8s-corpus")
}

/// The corpus files that hold an autoscaling/v1 document, sorted.
fn v1_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.contains("apiVersion: autoscaling/v1"))
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_v1_hpas_apply_through_ctl_as_v2() {
    let test = "corpus_v1_hpas_apply_through_ctl_as_v2";
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        testkit::unmet(test, &format!("needs the corpus at {}", corpus.display()));
        return;
    }
    let files = v1_files(&corpus);
    assert!(
        files.len() >= 3,
        "the corpus has {} autoscaling/v1 files",
        files.len()
    );
    let dir = tempfile::Builder::new()
        .prefix(&format!("it-{test}-"))
        .tempdir()
        .expect("temp dir");
    let data = dir.path().join("apiserver");
    let mut server = spawn_tls_apiserver(&data, free_addr(), dir.path().join("apiserver.log"));
    let client = wait_ready_tls(&data, &mut server, Duration::from_secs(30)).await;
    let config = data.join("admin.kubeconfig");

    let mut applied = Vec::new();
    for file in &files {
        let yaml = std::fs::read_to_string(file).unwrap();
        for doc in proto::manifest::load_documents(&yaml).expect("the corpus file loads") {
            let ns = doc.meta().namespace.clone();
            if !ns.is_empty() && ns != "default" {
                let namespaces: client::Api<Namespace> = client::Api::all(client.clone());
                let object = Namespace {
                    metadata: Some(ObjectMeta {
                        name: ns.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                // Several files share a namespace.
                let _ = namespaces.create(&object).await;
            }
            applied.push((
                if ns.is_empty() {
                    "default".to_string()
                } else {
                    ns
                },
                doc.meta().name.clone(),
            ));
        }
        let path = file.to_string_lossy().into_owned();
        let out = ctl_kubeconfig(&config, &["apply", "-f", &path], None);
        assert!(
            out.status.success(),
            "ctl apply -f {path}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).contains("horizontalpodautoscaler.autoscaling/"),
            "{path}: {}",
            text(&out.stdout)
        );
        // Again: the same v2 object, nothing to change.
        let again = ctl_kubeconfig(&config, &["apply", "-f", &path], None);
        assert!(
            text(&again.stdout).trim_end().ends_with("unchanged"),
            "second apply of {path}: {}\n{}",
            text(&again.stdout),
            text(&again.stderr)
        );
    }
    assert_eq!(applied.len(), files.len(), "one HPA per file: {applied:?}");
    for (ns, name) in &applied {
        let api: client::Api<HorizontalPodAutoscaler> = client::Api::namespaced(client.clone(), ns);
        let hpa = api
            .get(name)
            .await
            .unwrap_or_else(|e| panic!("{ns}/{name}: {e}"));
        let spec = hpa.spec.expect("a spec");
        assert_eq!(spec.metrics.len(), 1, "{ns}/{name}: {:?}", spec.metrics);
        let resource = spec.metrics[0].resource.clone().expect("a resource metric");
        assert_eq!(resource.name, "cpu");
        let target = resource.target.expect("a target");
        assert_eq!(
            (target.r#type.as_str(), target.average_utilization),
            ("Utilization", Some(50)),
            "{ns}/{name}"
        );
        assert!(spec.max_replicas >= 1);
        assert!(
            hpa.metadata
                .unwrap_or_default()
                .annotations
                .keys()
                .all(|k| !k.starts_with("autoscaling.alpha.kubernetes.io/")),
            "{ns}/{name}: no round-trip annotation is stored"
        );
    }
}
