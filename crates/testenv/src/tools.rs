//! The ecosystem tools tests run for real (helm, promtool), built by `scripts/tools build`.

use anyhow::bail;
use std::path::PathBuf;

const HINT: &str =
    "build them once with: scripts/tools build   (then tests find them automatically, or set STORK_TOOLS_BIN)";

/// Path of `name` (`helm` or `promtool`): in `$STORK_TOOLS_BIN`, else where `scripts/tools path` says.
/// Never skips: a missing tool is an error that says how to build it.
pub fn locate(name: &str) -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("STORK_TOOLS_BIN") {
        Some(dir) => PathBuf::from(dir),
        None => crate::binaries::path_from_script("scripts/tools", "helm and promtool are not built", HINT)?,
    };
    let path = dir.join(name);
    if !path.is_file() {
        bail!("{} is missing; {HINT}", path.display());
    }
    Ok(path)
}
