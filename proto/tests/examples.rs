//! Every manifest under `examples/` (what a new user tries first) loads and is valid.

use std::path::Path;

#[test]
fn examples_load_and_validate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples found in {}", dir.display());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable example");
        let objects = proto::manifest::load_documents(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!objects.is_empty(), "{} holds no object", file.display());
        for mut o in objects {
            proto::defaults::apply_defaults(&mut o);
            let errors = proto::kind_validation::validate(&o);
            assert!(
                errors.is_empty(),
                "{}: {}",
                file.display(),
                proto::validation::join(&errors)
            );
        }
    }
}
