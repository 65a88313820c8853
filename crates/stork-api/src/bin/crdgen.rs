//! Writes the CRD manifests to a directory (`crdgen deploy/crds`) or prints them all to stdout.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let target = std::env::args().nth(1).map(PathBuf::from);
    for crd in stork_api::crds::all() {
        let text = stork_api::crds::render(&crd)?;
        match &target {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(stork_api::crds::file_name(&crd));
                std::fs::write(&path, text)?;
                eprintln!("wrote {}", path.display());
            }
            None => print!("---\n{text}"),
        }
    }
    Ok(())
}
