//! The checked-in CRD manifests — deploy/crds and the Helm chart's crds/ — must be exactly what the
//! types generate, and nothing else may sit beside them.

use std::path::Path;

const DIRS: [&str; 2] = ["deploy/crds", "deploy/helm/stork-rs/crds"];

#[test]
fn checked_in_crds_match_the_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stale = Vec::new();
    for dir in DIRS {
        let dir = root.join(dir);
        let mut expected = Vec::new();
        for crd in stork_api::crds::all() {
            let name = stork_api::crds::file_name(&crd);
            let want = stork_api::crds::render(&crd).expect("render CRD");
            let have = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
            if have != want {
                stale.push(dir.join(&name).display().to_string());
            }
            expected.push(name);
        }
        let entries = std::fs::read_dir(&dir).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default();
        for entry in entries {
            let name = entry.file_name().to_string_lossy().to_string();
            if !expected.contains(&name) {
                stale.push(format!("{} (no type generates it)", entry.path().display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "CRD manifests are out of date: {stale:?}\nregenerate with: cargo run -p stork-api --bin crdgen -- {}",
        DIRS.join(" ")
    );
}
