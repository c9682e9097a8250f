//! Core API group, volume sources: every source of a pod's `volumes[]` and of a
//! PersistentVolume, with Kubernetes' required fields and rules
//! (`validateVolumeSource`, `ValidatePersistentVolumeSpec` in `pkg/apis/core/validation`).
//! Accepting a source says nothing about whether a node can mount it: the kubelet decides.

use super::Errors;
use super::rules::*;
use crate::k8s::{self, LocalObjectReference, ObjectReference, SecretReference};
use crate::validation::{
    FieldError, is_dns1123_label, is_dns1123_subdomain, validate_annotations, validate_labels,
};

use k8s::volume::VolumeSource as S;

/// The source's field name in a manifest (`cinder`, `downwardAPI`, `scaleIO`), as
/// Kubernetes names a volume type in its messages.
pub fn volume_type(source: &S) -> &'static str {
    match source {
        S::HostPath(_) => "hostPath",
        S::EmptyDir(_) => "emptyDir",
        S::ConfigMap(_) => "configMap",
        S::Secret(_) => "secret",
        S::PersistentVolumeClaim(_) => "persistentVolumeClaim",
        S::DownwardApi(_) => "downwardAPI",
        S::Nfs(_) => "nfs",
        S::Projected(_) => "projected",
        S::AwsElasticBlockStore(_) => "awsElasticBlockStore",
        S::AzureDisk(_) => "azureDisk",
        S::AzureFile(_) => "azureFile",
        S::Cephfs(_) => "cephfs",
        S::Cinder(_) => "cinder",
        S::Csi(_) => "csi",
        S::Ephemeral(_) => "ephemeral",
        S::Fc(_) => "fc",
        S::FlexVolume(_) => "flexVolume",
        S::Flocker(_) => "flocker",
        S::GcePersistentDisk(_) => "gcePersistentDisk",
        S::GitRepo(_) => "gitRepo",
        S::Glusterfs(_) => "glusterfs",
        S::Image(_) => "image",
        S::Iscsi(_) => "iscsi",
        S::PhotonPersistentDisk(_) => "photonPersistentDisk",
        S::PortworxVolume(_) => "portworxVolume",
        S::Quobyte(_) => "quobyte",
        S::Rbd(_) => "rbd",
        S::ScaleIo(_) => "scaleIO",
        S::Storageos(_) => "storageos",
        S::VsphereVolume(_) => "vsphereVolume",
    }
}

/// A pod volume's source; `path` is the volume's (`spec.volumes[0]`).
pub(super) fn volume_source(source: Option<&S>, path: &str, e: &mut Errors) {
    let Some(source) = source else {
        e.push(FieldError::required(path, "must specify a volume type"));
        return;
    };
    let p = format!("{path}.{}", volume_type(source));
    let p = p.as_str();
    match source {
        S::HostPath(h) => required(p, "path", &h.path, e),
        S::EmptyDir(d) => {
            if let Some(limit) = &d.size_limit {
                quantity(&format!("{p}.sizeLimit"), limit, e);
            }
        }
        S::ConfigMap(c) => required(p, "name", &c.name, e),
        S::Secret(s) => required(p, "secretName", &s.secret_name, e),
        S::PersistentVolumeClaim(c) => required(p, "claimName", &c.claim_name, e),
        S::DownwardApi(_) | S::Projected(_) => {}
        S::Nfs(n) => nfs(p, n, e),
        S::AwsElasticBlockStore(a) => {
            required(p, "volumeID", &a.volume_id, e);
            partition(p, a.partition, e);
        }
        S::AzureDisk(a) => azure_disk(p, a, e),
        S::AzureFile(a) => {
            required(p, "secretName", &a.secret_name, e);
            required(p, "shareName", &a.share_name, e);
        }
        S::Cephfs(c) => monitors(p, &c.monitors, e),
        S::Cinder(c) => required(p, "volumeID", &c.volume_id, e),
        S::Csi(c) => {
            csi_driver(p, &c.driver, e);
            local_secret_ref(
                &format!("{p}.nodePublishSecretRef"),
                &c.node_publish_secret_ref,
                e,
            );
        }
        S::Ephemeral(eph) => ephemeral(p, eph, e),
        S::Fc(f) => fc(p, f, e),
        S::FlexVolume(f) => flex(p, &f.driver, &f.options, e),
        S::Flocker(f) => flocker(p, f, e),
        S::GcePersistentDisk(g) => {
            required(p, "pdName", &g.pd_name, e);
            partition(p, g.partition, e);
        }
        S::GitRepo(g) => {
            required(p, "repository", &g.repository, e);
            local_descending_path(&format!("{p}.directory"), &g.directory, e);
        }
        S::Glusterfs(g) => {
            required(p, "endpoints", &g.endpoints, e);
            required(p, "path", &g.path, e);
        }
        S::Image(i) => {
            required(p, "reference", &i.reference, e);
            if !i.pull_policy.is_empty() {
                supported(
                    &format!("{p}.pullPolicy"),
                    &i.pull_policy,
                    &["Always", "IfNotPresent", "Never"],
                    e,
                );
            }
        }
        S::Iscsi(i) => iscsi(
            p,
            IscsiFields {
                target_portal: &i.target_portal,
                iqn: &i.iqn,
                lun: i.lun.unwrap_or(0),
                chap: i.chap_auth_discovery || i.chap_auth_session,
                has_secret: i.secret_ref.is_some(),
                initiator_name: i.initiator_name.as_deref(),
            },
            e,
        ),
        S::PhotonPersistentDisk(ph) => required(p, "pdID", &ph.pd_id, e),
        S::PortworxVolume(px) => required(p, "volumeID", &px.volume_id, e),
        S::Quobyte(q) => quobyte(p, q, e),
        S::Rbd(r) => {
            monitors(p, &r.monitors, e);
            required(p, "image", &r.image, e);
        }
        S::ScaleIo(s) => scale_io(p, &s.gateway, &s.system, &s.volume_name, e),
        S::Storageos(s) => storageos(p, &s.volume_name, &s.volume_namespace, e),
        S::VsphereVolume(v) => required(p, "volumePath", &v.volume_path, e),
    }
}

/// A PersistentVolume's source: exactly one, each checked as Kubernetes does.
pub(super) fn pv_sources(spec: &k8s::PersistentVolumeSpec, e: &mut Errors) {
    let present = [
        ("hostPath", spec.host_path.is_some()),
        ("gcePersistentDisk", spec.gce_persistent_disk.is_some()),
        (
            "awsElasticBlockStore",
            spec.aws_elastic_block_store.is_some(),
        ),
        ("glusterfs", spec.glusterfs.is_some()),
        ("flocker", spec.flocker.is_some()),
        ("nfs", spec.nfs.is_some()),
        ("rbd", spec.rbd.is_some()),
        ("quobyte", spec.quobyte.is_some()),
        ("cephfs", spec.cephfs.is_some()),
        ("iscsi", spec.iscsi.is_some()),
        ("cinder", spec.cinder.is_some()),
        ("fc", spec.fc.is_some()),
        ("flexVolume", spec.flex_volume.is_some()),
        ("azureFile", spec.azure_file.is_some()),
        ("vsphereVolume", spec.vsphere_volume.is_some()),
        (
            "photonPersistentDisk",
            spec.photon_persistent_disk.is_some(),
        ),
        ("portworxVolume", spec.portworx_volume.is_some()),
        ("azureDisk", spec.azure_disk.is_some()),
        ("scaleIO", spec.scale_io.is_some()),
        ("local", spec.local.is_some()),
        ("storageos", spec.storageos.is_some()),
        ("csi", spec.csi.is_some()),
    ];
    let mut seen = false;
    for (name, here) in present {
        if here {
            if seen {
                e.push(FieldError::forbidden(
                    format!("spec.{name}"),
                    "may not specify more than 1 volume type",
                ));
            }
            seen = true;
        }
    }
    if !seen {
        e.push(FieldError::required("spec", "must specify a volume type"));
    }
    if let Some(h) = &spec.host_path {
        required("spec.hostPath", "path", &h.path, e);
    }
    if let Some(n) = &spec.nfs {
        nfs("spec.nfs", n, e);
    }
    if let Some(l) = &spec.local {
        required("spec.local", "path", &l.path, e);
        if !l.path.is_empty() {
            local_descending_path_parts("spec.local.path", &l.path, e);
        }
    }
    if let Some(g) = &spec.gce_persistent_disk {
        required("spec.gcePersistentDisk", "pdName", &g.pd_name, e);
        partition("spec.gcePersistentDisk", g.partition, e);
    }
    if let Some(a) = &spec.aws_elastic_block_store {
        required("spec.awsElasticBlockStore", "volumeID", &a.volume_id, e);
        partition("spec.awsElasticBlockStore", a.partition, e);
    }
    if let Some(g) = &spec.glusterfs {
        let p = "spec.glusterfs";
        required(p, "endpoints", &g.endpoints, e);
        required(p, "path", &g.path, e);
        if let Some(ns) = &g.endpoints_namespace {
            let f = format!("{p}.endpointsNamespace");
            if ns.is_empty() {
                e.push(FieldError::invalid(
                    f,
                    ns,
                    "if the endpointnamespace is set, it must be a valid namespace name",
                ));
            } else {
                for msg in is_dns1123_label(ns) {
                    e.push(FieldError::invalid(&f, ns, msg));
                }
            }
        }
    }
    if let Some(f) = &spec.flocker {
        flocker("spec.flocker", f, e);
    }
    if let Some(r) = &spec.rbd {
        monitors("spec.rbd", &r.monitors, e);
        required("spec.rbd", "image", &r.image, e);
    }
    if let Some(q) = &spec.quobyte {
        quobyte("spec.quobyte", q, e);
    }
    if let Some(c) = &spec.cephfs {
        monitors("spec.cephfs", &c.monitors, e);
    }
    if let Some(i) = &spec.iscsi {
        iscsi(
            "spec.iscsi",
            IscsiFields {
                target_portal: &i.target_portal,
                iqn: &i.iqn,
                lun: i.lun.unwrap_or(0),
                chap: i.chap_auth_discovery || i.chap_auth_session,
                has_secret: i.secret_ref.is_some(),
                initiator_name: i.initiator_name.as_deref(),
            },
            e,
        );
    }
    if let Some(c) = &spec.cinder {
        required("spec.cinder", "volumeID", &c.volume_id, e);
        secret_ref("spec.cinder.secretRef", &c.secret_ref, e);
    }
    if let Some(f) = &spec.fc {
        fc("spec.fc", f, e);
    }
    if let Some(f) = &spec.flex_volume {
        flex("spec.flexVolume", &f.driver, &f.options, e);
    }
    if let Some(a) = &spec.azure_file {
        let p = "spec.azureFile";
        required(p, "secretName", &a.secret_name, e);
        required(p, "shareName", &a.share_name, e);
        if a.secret_namespace.as_deref() == Some("") {
            e.push(FieldError::required(format!("{p}.secretNamespace"), ""));
        }
    }
    if let Some(v) = &spec.vsphere_volume {
        required("spec.vsphereVolume", "volumePath", &v.volume_path, e);
    }
    if let Some(ph) = &spec.photon_persistent_disk {
        required("spec.photonPersistentDisk", "pdID", &ph.pd_id, e);
    }
    if let Some(px) = &spec.portworx_volume {
        required("spec.portworxVolume", "volumeID", &px.volume_id, e);
    }
    if let Some(a) = &spec.azure_disk {
        azure_disk("spec.azureDisk", a, e);
    }
    if let Some(s) = &spec.scale_io {
        scale_io("spec.scaleIO", &s.gateway, &s.system, &s.volume_name, e);
        secret_ref("spec.scaleIO.secretRef", &s.secret_ref, e);
    }
    if let Some(s) = &spec.storageos {
        storageos("spec.storageos", &s.volume_name, &s.volume_namespace, e);
        object_secret_ref("spec.storageos.secretRef", &s.secret_ref, e);
    }
    if let Some(c) = &spec.csi {
        let p = "spec.csi";
        csi_driver(p, &c.driver, e);
        required(p, "volumeHandle", &c.volume_handle, e);
        for (field, r) in [
            (
                "controllerPublishSecretRef",
                &c.controller_publish_secret_ref,
            ),
            ("nodeStageSecretRef", &c.node_stage_secret_ref),
            ("nodePublishSecretRef", &c.node_publish_secret_ref),
            ("controllerExpandSecretRef", &c.controller_expand_secret_ref),
            ("nodeExpandSecretRef", &c.node_expand_secret_ref),
        ] {
            csi_secret_ref(&format!("{p}.{field}"), r, e);
        }
    }
}

fn required(path: &str, field: &str, value: &str, e: &mut Errors) {
    if value.is_empty() {
        e.push(FieldError::required(format!("{path}.{field}"), ""));
    }
}

fn nfs(p: &str, n: &k8s::NfsVolumeSource, e: &mut Errors) {
    required(p, "server", &n.server, e);
    if n.path.is_empty() {
        e.push(FieldError::required(format!("{p}.path"), ""));
    } else if !n.path.starts_with('/') {
        e.push(FieldError::invalid(
            format!("{p}.path"),
            &n.path,
            "must be an absolute path",
        ));
    }
}

/// Kubernetes' pdPartitionErrorMsg: 0 means the whole disk.
fn partition(p: &str, partition: i32, e: &mut Errors) {
    if !(0..=255).contains(&partition) {
        e.push(FieldError::invalid(
            format!("{p}.partition"),
            partition,
            "must be between 1 and 255, inclusive",
        ));
    }
}

fn monitors(p: &str, monitors: &[String], e: &mut Errors) {
    if monitors.is_empty() {
        e.push(FieldError::required(format!("{p}.monitors"), ""));
    }
}

fn azure_disk(p: &str, a: &k8s::AzureDiskVolumeSource, e: &mut Errors) {
    required(p, "diskName", &a.disk_name, e);
    required(p, "diskURI", &a.disk_uri, e);
    if let Some(mode) = &a.caching_mode {
        const MODES: &[&str] = &["None", "ReadOnly", "ReadWrite"];
        if !MODES.contains(&mode.as_str()) {
            e.push(FieldError::not_supported(
                format!("{p}.cachingMode"),
                mode,
                MODES,
            ));
        }
    }
    if let Some(kind) = &a.kind {
        const KINDS: &[&str] = &["Dedicated", "Managed", "Shared"];
        if !KINDS.contains(&kind.as_str()) {
            e.push(FieldError::not_supported(format!("{p}.kind"), kind, KINDS));
        }
        // An unmanaged disk is a blob URL; a managed disk is an ARM resource id.
        let https = a.disk_uri.starts_with("https");
        if kind != "Managed" && !https && !a.disk_uri.is_empty() {
            e.push(FieldError::invalid(
                format!("{p}.diskURI"),
                &a.disk_uri,
                "should be a valid non-managed disk URI",
            ));
        }
        if kind == "Managed" && https {
            e.push(FieldError::invalid(
                format!("{p}.diskURI"),
                &a.disk_uri,
                "should be a valid managed disk URI",
            ));
        }
    }
}

/// Kubernetes' validateCSIDriverName.
fn csi_driver(p: &str, driver: &str, e: &mut Errors) {
    let f = format!("{p}.driver");
    if driver.is_empty() {
        e.push(FieldError::required(f, ""));
        return;
    }
    if driver.len() > 63 {
        e.push(FieldError::too_long(&f, 63));
    }
    let ok_inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let first = driver
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let last = driver
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !(first && last && driver.chars().all(ok_inner)) {
        e.push(FieldError::invalid(
            f,
            driver,
            "a CSI driver name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ));
    }
}

fn local_secret_ref(p: &str, r: &Option<LocalObjectReference>, e: &mut Errors) {
    if let Some(r) = r
        && r.name.is_empty()
    {
        e.push(FieldError::required(format!("{p}.name"), ""));
    }
}

/// A PersistentVolume's SecretReference: both name and namespace when given.
fn secret_ref(p: &str, r: &Option<SecretReference>, e: &mut Errors) {
    if let Some(r) = r {
        required(p, "name", &r.name, e);
        required(p, "namespace", &r.namespace, e);
    }
}

/// A CSI PersistentVolume's secret references: name a subdomain, namespace a label.
fn csi_secret_ref(p: &str, r: &Option<SecretReference>, e: &mut Errors) {
    let Some(r) = r else { return };
    if r.name.is_empty() {
        e.push(FieldError::required(format!("{p}.name"), ""));
    } else {
        for msg in is_dns1123_subdomain(&r.name) {
            e.push(FieldError::invalid(format!("{p}.name"), &r.name, msg));
        }
    }
    if r.namespace.is_empty() {
        e.push(FieldError::required(format!("{p}.namespace"), ""));
    } else {
        for msg in is_dns1123_label(&r.namespace) {
            e.push(FieldError::invalid(
                format!("{p}.namespace"),
                &r.namespace,
                msg,
            ));
        }
    }
}

fn object_secret_ref(p: &str, r: &Option<ObjectReference>, e: &mut Errors) {
    if let Some(r) = r {
        required(p, "name", &r.name, e);
        required(p, "namespace", &r.namespace, e);
    }
}

fn ephemeral(p: &str, eph: &k8s::EphemeralVolumeSource, e: &mut Errors) {
    let Some(template) = &eph.volume_claim_template else {
        e.push(FieldError::required(format!("{p}.volumeClaimTemplate"), ""));
        return;
    };
    let tp = format!("{p}.volumeClaimTemplate");
    // A template's metadata carries labels and annotations for the claim it makes.
    if let Some(meta) = &template.metadata {
        e.extend(validate_labels(
            &meta.labels,
            &format!("{tp}.metadata.labels"),
        ));
        e.extend(validate_annotations(
            &meta.annotations,
            &format!("{tp}.metadata.annotations"),
        ));
    }
    super::core::pvc_spec(
        &template.spec.clone().unwrap_or_default(),
        &format!("{tp}.spec"),
        e,
    );
}

fn fc(p: &str, f: &k8s::FcVolumeSource, e: &mut Errors) {
    match (f.target_wwns.is_empty(), f.wwids.is_empty()) {
        (true, true) => e.push(FieldError::required(
            format!("{p}.targetWWNs"),
            "must specify either targetWWNs or wwids, but not both",
        )),
        (false, false) => e.push(FieldError::invalid(
            format!("{p}.targetWWNs"),
            &f.target_wwns,
            "targetWWNs and wwids can not be specified simultaneously",
        )),
        _ => {}
    }
    if !f.target_wwns.is_empty() {
        match f.lun {
            None => e.push(FieldError::required(
                format!("{p}.lun"),
                "lun is required if targetWWNs is specified",
            )),
            Some(lun) if !(0..=255).contains(&lun) => e.push(FieldError::invalid(
                format!("{p}.lun"),
                lun,
                "must be between 0 and 255, inclusive",
            )),
            Some(_) => {}
        }
    }
}

fn flex(
    p: &str,
    driver: &str,
    options: &std::collections::BTreeMap<String, String>,
    e: &mut Errors,
) {
    required(p, "driver", driver, e);
    // Options under kubernetes.io/ are the kubelet's own, passed to every driver.
    for k in options.keys() {
        let namespace = k.to_ascii_lowercase();
        let namespace = namespace.split('/').next().unwrap_or("");
        if k.contains('/')
            && (namespace == "kubernetes.io" || namespace.ends_with(".kubernetes.io"))
        {
            e.push(FieldError::invalid(
                format!("{p}.options"),
                k,
                "kubernetes.io and subdomains are reserved",
            ));
        }
    }
}

fn flocker(p: &str, f: &k8s::FlockerVolumeSource, e: &mut Errors) {
    match (f.dataset_name.is_empty(), f.dataset_uuid.is_empty()) {
        (true, true) => e.push(FieldError::required(
            p,
            "one of datasetName and datasetUUID is required",
        )),
        (false, false) => e.push(FieldError::invalid(
            p,
            "resource",
            "datasetName and datasetUUID can not be specified simultaneously",
        )),
        _ => {}
    }
    if f.dataset_name.contains('/') {
        e.push(FieldError::invalid(
            format!("{p}.datasetName"),
            &f.dataset_name,
            "must not contain '/'",
        ));
    }
}

/// Kubernetes' validateLocalDescendingPath: relative, and no `..` element.
fn local_descending_path(path: &str, value: &str, e: &mut Errors) {
    if value.starts_with('/') {
        e.push(FieldError::invalid(path, value, "must be a relative path"));
    }
    local_descending_path_parts(path, value, e);
}

fn local_descending_path_parts(path: &str, value: &str, e: &mut Errors) {
    if value.split(['/', '\\']).any(|part| part == "..") {
        e.push(FieldError::invalid(path, value, "must not contain '..'"));
    }
}

struct IscsiFields<'a> {
    target_portal: &'a str,
    iqn: &'a str,
    lun: i32,
    chap: bool,
    has_secret: bool,
    initiator_name: Option<&'a str>,
}

fn iscsi(p: &str, i: IscsiFields<'_>, e: &mut Errors) {
    required(p, "targetPortal", i.target_portal, e);
    if i.iqn.is_empty() {
        e.push(FieldError::required(format!("{p}.iqn"), ""));
    } else if let Some(msg) = iscsi_name_error(i.iqn) {
        e.push(FieldError::invalid(format!("{p}.iqn"), i.iqn, msg));
    }
    if !(0..=255).contains(&i.lun) {
        e.push(FieldError::invalid(
            format!("{p}.lun"),
            i.lun,
            "must be between 0 and 255, inclusive",
        ));
    }
    if i.chap && !i.has_secret {
        e.push(FieldError::required(format!("{p}.secretRef"), ""));
    }
    if let Some(name) = i.initiator_name
        && let Some(msg) = iscsi_name_error(name)
    {
        e.push(FieldError::invalid(format!("{p}.initiatorname"), name, msg));
    }
}

/// iSCSI qualified names: `iqn.yyyy-mm.reversed.domain[:id]`, `eui.` and 16 hex-ish
/// characters, or `naa.` and 32 (Kubernetes' iscsiInitiator*Regex).
fn iscsi_name_error(name: &str) -> Option<&'static str> {
    let alnum = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_alphanumeric());
    if let Some(rest) = name.strip_prefix("iqn") {
        let ok = rest.strip_prefix('.').is_some_and(|r| {
            let date_ok = r.len() > 8
                && r[..4].chars().all(|c| c.is_ascii_digit())
                && &r[4..5] == "-"
                && r[5..7].chars().all(|c| c.is_ascii_digit())
                && &r[7..8] == ".";
            if !date_ok {
                return false;
            }
            let tail = &r[8..];
            let (domain, id) = match tail.find(':') {
                Some(i) => (&tail[..i], Some(&tail[i + 1..])),
                None => (tail, None),
            };
            !domain.is_empty()
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && id.is_some_and(|id| {
                    !id.is_empty()
                        && !id
                            .chars()
                            .any(|c| c.is_whitespace() || ",;*&$|".contains(c))
                })
        });
        return (!ok).then_some("must be valid format");
    }
    if let Some(rest) = name.strip_prefix("eui") {
        let ok = rest.len() == 17 && alnum(&rest[1..], 16);
        return (!ok).then_some("must be valid format");
    }
    if let Some(rest) = name.strip_prefix("naa") {
        let ok = rest.len() == 33 && alnum(&rest[1..], 32);
        return (!ok).then_some("must be valid format");
    }
    Some("must be valid format starting with iqn, eui, or naa")
}

fn quobyte(p: &str, q: &k8s::QuobyteVolumeSource, e: &mut Errors) {
    const REGISTRY: &str = "must be a host:port pair or multiple pairs separated by commas";
    if q.registry.is_empty() {
        e.push(FieldError::required(format!("{p}.registry"), REGISTRY));
    } else if q.tenant.len() >= 65 {
        e.push(FieldError::invalid(
            format!("{p}.tenant"),
            &q.tenant,
            "must be a UUID and may not exceed a length of 64 characters",
        ));
    } else if q.registry.split(',').any(|pair| !is_host_port(pair)) {
        e.push(FieldError::invalid(
            format!("{p}.registry"),
            &q.registry,
            REGISTRY,
        ));
    }
    required(p, "volume", &q.volume, e);
}

/// Go's net.SplitHostPort succeeding: `host:port` or `[v6]:port`.
fn is_host_port(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix('[') {
        return rest
            .split_once("]:")
            .is_some_and(|(host, _)| !host.contains(['[', ']']));
    }
    s.matches(':').count() == 1
}

fn scale_io(p: &str, gateway: &str, system: &str, volume_name: &str, e: &mut Errors) {
    required(p, "gateway", gateway, e);
    required(p, "system", system, e);
    required(p, "volumeName", volume_name, e);
}

fn storageos(p: &str, volume_name: &str, volume_namespace: &str, e: &mut Errors) {
    if volume_name.is_empty() {
        e.push(FieldError::required(format!("{p}.volumeName"), ""));
    } else {
        for msg in is_dns1123_label(volume_name) {
            e.push(FieldError::invalid(
                format!("{p}.volumeName"),
                volume_name,
                msg,
            ));
        }
    }
    if !volume_namespace.is_empty() {
        for msg in is_dns1123_label(volume_namespace) {
            e.push(FieldError::invalid(
                format!("{p}.volumeNamespace"),
                volume_namespace,
                msg,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{load_documents, to_document};
    use serde_json::{Value, json};

    /// Every pod volume source of the core API, written as a user writes it.
    const POD_SOURCES: &[&str] = &[
        "awsElasticBlockStore: {volumeID: vol-0a1b2c, fsType: ext4, partition: 1}",
        "azureDisk: {diskName: d, diskURI: 'https://acct.blob.core.windows.net/vhds/d.vhd', cachingMode: ReadOnly, fsType: ext4, readOnly: true, kind: Shared}",
        "azureFile: {secretName: s, shareName: share, readOnly: true}",
        "cephfs: {monitors: ['10.0.0.1:6789'], path: /, user: admin, secretFile: /etc/ceph/s, secretRef: {name: ceph}, readOnly: true}",
        "cinder: {volumeID: bd82f7e2-wece-4c01-a505-4acf60b07f4a, fsType: ext4, secretRef: {name: c}}",
        "csi: {driver: inline.storage.kubernetes.io, readOnly: true, fsType: ext4, volumeAttributes: {foo: bar}, nodePublishSecretRef: {name: s}}",
        "ephemeral: {volumeClaimTemplate: {metadata: {labels: {type: scratch}}, spec: {accessModes: [ReadWriteOnce], storageClassName: fast, resources: {requests: {storage: 1Gi}}}}}",
        "fc: {targetWWNs: ['500a0982991b8dc5'], lun: 2, fsType: ext4, readOnly: true}",
        "flexVolume: {driver: kubernetes.io/lvm, fsType: ext4, secretRef: {name: s}, options: {volumeID: v, size: 1000m}}",
        "flocker: {datasetName: data}",
        "gcePersistentDisk: {pdName: my-data-disk, fsType: ext4, partition: 1, readOnly: true}",
        "gitRepo: {repository: 'https://example.com/r.git', revision: abc, directory: .}",
        "glusterfs: {endpoints: glusterfs-cluster, path: kube_vol, readOnly: true}",
        "image: {reference: 'quay.io/crio/artifact:v2', pullPolicy: IfNotPresent}",
        "iscsi: {targetPortal: '10.0.2.15:3260', portals: ['10.0.2.16:3260'], iqn: 'iqn.2001-04.com.example:storage.kube.sys1.xyz', lun: 0, fsType: ext4, readOnly: true, chapAuthDiscovery: true, chapAuthSession: true, secretRef: {name: chap}, initiatorName: 'iqn.1996-04.de.suse:01:a1b2'}",
        "nfs: {server: nfs.example.com, path: /exports, readOnly: true}",
        "photonPersistentDisk: {pdID: 'TEST-PD-ID', fsType: ext4}",
        "portworxVolume: {volumeID: pxvol, fsType: ext4}",
        "quobyte: {registry: 'registry:7861', volume: testVolume, readOnly: true, user: root, group: root, tenant: t}",
        "rbd: {monitors: ['10.16.154.78:6789'], image: foo, fsType: ext4, pool: kube, user: admin, keyring: /etc/ceph/keyring, secretRef: {name: ceph-secret}, readOnly: true}",
        "scaleIO: {gateway: 'https://localhost:443/api', system: scaleio, protectionDomain: pd, storagePool: sp, storageMode: ThinProvisioned, volumeName: vol-0, secretRef: {name: sio}, sslEnabled: true, fsType: xfs}",
        "storageos: {volumeName: redis-vol01, volumeNamespace: default, fsType: ext4, secretRef: {name: s}}",
        "vsphereVolume: {volumePath: '[DatastoreName] volumes/myDisk', fsType: ext4, storagePolicyName: gold, storagePolicyID: id-1}",
    ];

    fn pod(source: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{{name: c, image: i, volumeMounts: [{{name: v, mountPath: /v}}]}}]\n  volumes:\n  - name: v\n    {source}\n"
        )
    }

    fn errors(yaml: &str) -> Vec<String> {
        let object = load_documents(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))[0].clone();
        super::super::validate(&object)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_pod_volume_source_loads_validates_and_round_trips() {
        for source in POD_SOURCES {
            let text = pod(source);
            let objects = load_documents(&text).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(errors(&text), Vec::<String>::new(), "{source}");
            // What is stored and printed is what was written.
            let written: Value = serde_saphyr::from_str(&text).unwrap();
            let stored = to_document(&objects[0]);
            assert_eq!(
                stored["spec"]["volumes"][0], written["spec"]["volumes"][0],
                "{source}"
            );
            assert_eq!(
                load_documents(&crate::manifest::to_yaml(&objects[0])).unwrap(),
                objects,
                "{source}"
            );
        }
    }

    #[test]
    fn every_pod_volume_source_names_its_required_fields() {
        let cases: &[(&str, &[&str])] = &[
            (
                "awsElasticBlockStore: {}",
                &["awsElasticBlockStore.volumeID: Required value"],
            ),
            (
                "azureDisk: {}",
                &[
                    "azureDisk.diskName: Required value",
                    "azureDisk.diskURI: Required value",
                ],
            ),
            (
                "azureFile: {}",
                &[
                    "azureFile.secretName: Required value",
                    "azureFile.shareName: Required value",
                ],
            ),
            ("cephfs: {}", &["cephfs.monitors: Required value"]),
            ("cinder: {}", &["cinder.volumeID: Required value"]),
            ("csi: {}", &["csi.driver: Required value"]),
            (
                "ephemeral: {}",
                &["ephemeral.volumeClaimTemplate: Required value"],
            ),
            (
                "fc: {}",
                &[
                    "fc.targetWWNs: Required value: must specify either targetWWNs or wwids, but not both",
                ],
            ),
            (
                "fc: {targetWWNs: [a]}",
                &["fc.lun: Required value: lun is required if targetWWNs is specified"],
            ),
            ("flexVolume: {}", &["flexVolume.driver: Required value"]),
            (
                "flocker: {}",
                &["flocker: Required value: one of datasetName and datasetUUID is required"],
            ),
            (
                "gcePersistentDisk: {pdName: d, partition: 256}",
                &["gcePersistentDisk.partition: Invalid value: 256"],
            ),
            (
                "gitRepo: {repository: r, directory: ../x}",
                &["gitRepo.directory: Invalid value: \"../x\": must not contain '..'"],
            ),
            (
                "glusterfs: {}",
                &[
                    "glusterfs.endpoints: Required value",
                    "glusterfs.path: Required value",
                ],
            ),
            ("image: {}", &["image.reference: Required value"]),
            (
                "iscsi: {targetPortal: p, iqn: foo}",
                &[
                    "iscsi.iqn: Invalid value: \"foo\": must be valid format starting with iqn, eui, or naa",
                ],
            ),
            (
                "iscsi: {}",
                &[
                    "iscsi.targetPortal: Required value",
                    "iscsi.iqn: Required value",
                ],
            ),
            (
                "nfs: {server: s, path: exports}",
                &["nfs.path: Invalid value: \"exports\": must be an absolute path"],
            ),
            (
                "photonPersistentDisk: {}",
                &["photonPersistentDisk.pdID: Required value"],
            ),
            (
                "portworxVolume: {}",
                &["portworxVolume.volumeID: Required value"],
            ),
            (
                "quobyte: {}",
                &[
                    "quobyte.registry: Required value",
                    "quobyte.volume: Required value",
                ],
            ),
            (
                "rbd: {}",
                &["rbd.monitors: Required value", "rbd.image: Required value"],
            ),
            (
                "scaleIO: {}",
                &[
                    "scaleIO.gateway: Required value",
                    "scaleIO.system: Required value",
                    "scaleIO.volumeName: Required value",
                ],
            ),
            ("storageos: {}", &["storageos.volumeName: Required value"]),
            (
                "vsphereVolume: {}",
                &["vsphereVolume.volumePath: Required value"],
            ),
        ];
        for (source, want) in cases {
            let got = errors(&pod(source));
            for w in *want {
                let w = format!("spec.volumes[0].{w}");
                assert!(
                    got.iter().any(|g| g.starts_with(&w)),
                    "{source}: want {w}, got {got:?}"
                );
            }
        }
        // Two sources in one volume: Kubernetes' words.
        let e = load_documents(&pod(
            "cinder: {volumeID: a}\n    nfs: {server: s, path: /p}",
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("may not specify more than 1 volume type"), "{e}");
    }

    fn pv(source: &str) -> String {
        format!(
            "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: pv}}\nspec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  {source}\n"
        )
    }

    #[test]
    fn persistent_volume_sources_load_validate_and_name_their_fields() {
        let valid = [
            "cinder: {volumeID: v, fsType: ext4, secretRef: {name: s, namespace: ns}}",
            "csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1, fsType: ext4, nodePublishSecretRef: {name: s, namespace: ns}}",
            "glusterfs: {endpoints: e, path: p, endpointsNamespace: ns}",
            "rbd: {monitors: [m], image: i, secretRef: {name: s, namespace: ns}}",
            "iscsi: {targetPortal: p, iqn: 'iqn.2001-04.com.example:s', lun: 0}",
            "cephfs: {monitors: [m], secretRef: {name: s, namespace: ns}}",
            "flexVolume: {driver: d, secretRef: {name: s, namespace: ns}}",
            "azureFile: {secretName: s, shareName: x, secretNamespace: ns}",
            "scaleIO: {gateway: g, system: s, volumeName: v, secretRef: {name: s, namespace: ns}}",
            "storageos: {volumeName: v, secretRef: {name: s, namespace: ns}}",
            "gcePersistentDisk: {pdName: d}",
            "awsElasticBlockStore: {volumeID: v}",
            "vsphereVolume: {volumePath: p}",
            "local: {path: /mnt/disks/ssd1}",
            "nfs: {server: s, path: /p}",
            "hostPath: {path: /tmp/pv}",
        ];
        for source in valid {
            let text = pv(source);
            let objects = load_documents(&text).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(errors(&text), Vec::<String>::new(), "{source}");
            let written: Value = serde_saphyr::from_str(&text).unwrap();
            assert_eq!(
                to_document(&objects[0])["spec"],
                written["spec"],
                "{source}"
            );
        }
        let cases: &[(&str, &str)] = &[
            (
                "cinder: {volumeID: v, secretRef: {name: s}}",
                "spec.cinder.secretRef.namespace: Required value",
            ),
            ("csi: {driver: d}", "spec.csi.volumeHandle: Required value"),
            (
                "glusterfs: {endpoints: e, path: p, endpointsNamespace: ''}",
                "spec.glusterfs.endpointsNamespace: Invalid value",
            ),
            (
                "azureFile: {secretName: s, shareName: x, secretNamespace: ''}",
                "spec.azureFile.secretNamespace: Required value",
            ),
            (
                "volumeMode: Filesystem",
                "spec: Required value: must specify a volume type",
            ),
        ];
        for (source, want) in cases {
            let got = errors(&pv(source));
            assert!(
                got.iter().any(|g| g.starts_with(want)),
                "{source}: want {want}, got {got:?}"
            );
        }
        let got = errors(&pv("cinder: {volumeID: v}\n  nfs: {server: s, path: /p}"));
        assert!(
            got.contains(
                &"spec.cinder: Forbidden: may not specify more than 1 volume type".to_string()
            ),
            "{got:?}"
        );
    }

    #[test]
    fn sources_have_kubernetes_defaults() {
        let mut object = load_documents(&pod("rbd: {monitors: [m], image: i}")).unwrap()[0].clone();
        crate::defaults::apply_defaults(&mut object);
        let rbd = &to_document(&object)["spec"]["volumes"][0]["rbd"];
        assert_eq!(rbd["pool"], json!("rbd"));
        assert_eq!(rbd["user"], json!("admin"));
        assert_eq!(rbd["keyring"], json!("/etc/ceph/keyring"));
        let mut object =
            load_documents(&pod("azureDisk: {diskName: d, diskURI: 'https://x/d.vhd'}")).unwrap()
                [0]
            .clone();
        crate::defaults::apply_defaults(&mut object);
        assert_eq!(
            to_document(&object)["spec"]["volumes"][0]["azureDisk"],
            json!({"diskName": "d", "diskURI": "https://x/d.vhd", "cachingMode": "ReadWrite", "fsType": "ext4", "readOnly": false, "kind": "Shared"})
        );
        // A volume that names no source is an emptyDir.
        let mut object = load_documents(&pod("{}").replace("- name: v\n    {}", "- name: v"))
            .unwrap()[0]
            .clone();
        crate::defaults::apply_defaults(&mut object);
        assert_eq!(
            to_document(&object)["spec"]["volumes"][0],
            json!({"name": "v", "emptyDir": {}})
        );
    }

    #[test]
    fn iscsi_names() {
        assert_eq!(iscsi_name_error("iqn.2015-02.example.com:test"), None);
        assert_eq!(
            iscsi_name_error("iqn.2015-02.example.com"),
            Some("must be valid format")
        );
        assert_eq!(iscsi_name_error("eui.02004567A425678D"), None);
        assert_eq!(
            iscsi_name_error("naa.62004567BA64678D0123456789ABCDEF"),
            None
        );
        assert_eq!(
            iscsi_name_error("foo"),
            Some("must be valid format starting with iqn, eui, or naa")
        );
    }

    #[test]
    fn host_ports() {
        assert!(is_host_port("registry:7861"));
        assert!(is_host_port("[::1]:7861"));
        assert!(!is_host_port("registry"));
    }
}
