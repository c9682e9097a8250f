//! Generates prost/tonic code and the serde (proto3 JSON = Kubernetes JSON) mapping for
//! every `.proto` under `protos/`. protoc comes from a crate, so a fresh machine needs none.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_path = out.join("descriptor.bin");
    let mut protos: Vec<PathBuf> = std::fs::read_dir("protos")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    protos.sort();
    // The directory too, so a new .proto file reruns this script.
    println!("cargo:rerun-if-changed=protos");
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // Deterministic maps: stable hashes, golden tests, stable YAML output.
    config.btree_map(["."]);
    config.file_descriptor_set_path(&descriptor_path);
    // Every `Object` is as large as its largest kind, and debug builds keep many of them in
    // each async frame: boxing the big, rarely set parts of a pod template keeps a worker's
    // stack well under tokio's 2 MiB (a CronJob carried three nested pod specs inline).
    config.boxed(".k8s.PodSpec.security_context");
    config.boxed(".k8s.PodSpec.affinity");
    config.boxed(".k8s.CronJobSpec.job_template");
    // A PersistentVolume names one of its many sources: the others cost a pointer each.
    for source in [
        "gce_persistent_disk",
        "aws_elastic_block_store",
        "glusterfs",
        "rbd",
        "iscsi",
        "cinder",
        "cephfs",
        "fc",
        "flocker",
        "flex_volume",
        "azure_file",
        "vsphere_volume",
        "quobyte",
        "azure_disk",
        "photon_persistent_disk",
        "portworx_volume",
        "scale_io",
        "storageos",
        "csi",
    ] {
        config.boxed(format!(".k8s.PersistentVolumeSpec.{source}"));
    }
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_with_config(config, &protos, &[PathBuf::from("protos")])?;

    let descriptors = std::fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .btree_map(["."])
        // Kubernetes writes ExtraValue as a bare array of strings: hand-written serde.
        .exclude([".k8s.ExtraValue", ".k8s.FieldsV1", ".k8s.RawExtension"])
        .build(&[".k8s"])?;
    Ok(())
}
