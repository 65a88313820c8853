//! Writes the CRD manifests to each directory given (`crdgen deploy/crds deploy/helm/stork-rs/crds`) or
//! prints them all to stdout.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let targets: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    for crd in stork_api::crds::all() {
        let text = stork_api::crds::render(&crd)?;
        if targets.is_empty() {
            print!("---\n{text}");
        }
        for dir in &targets {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(stork_api::crds::file_name(&crd));
            std::fs::write(&path, &text)?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
