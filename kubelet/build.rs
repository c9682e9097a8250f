//! Generates the kubelet's gRPC service (`proto/kubelet.proto`); protoc comes from a crate.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/kubelet.proto");
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_with_config(config, &["proto/kubelet.proto"], &["proto"])?;
    Ok(())
}
