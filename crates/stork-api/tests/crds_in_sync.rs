//! The checked-in manifests in deploy/crds must be exactly what the types generate.

use std::path::Path;

#[test]
fn deploy_crds_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    let mut stale = Vec::new();
    for crd in stork_api::crds::all() {
        let path = dir.join(stork_api::crds::file_name(&crd));
        let want = stork_api::crds::render(&crd).expect("render CRD");
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "CRD manifests are out of date: {stale:?}\nregenerate with: cargo run -p stork-api --bin crdgen -- deploy/crds"
    );
}
