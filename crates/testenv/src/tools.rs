//! The ecosystem tools tests run for real (helm, promtool), built by `scripts/tools build`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

const HINT: &str =
    "build them once with: scripts/tools build   (then tests find them automatically, or set STORK_TOOLS_BIN)";

/// Path of `name` (`helm` or `promtool`): in `$STORK_TOOLS_BIN`, else where `scripts/tools path` says.
/// Never skips: a missing tool is an error that says how to build it.
pub fn locate(name: &str) -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os("STORK_TOOLS_BIN") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let script = crate::binaries::repo_root().join("scripts/tools");
            let out = Command::new("bash")
                .arg(&script)
                .arg("path")
                .output()
                .with_context(|| format!("cannot run {}; {HINT}", script.display()))?;
            if !out.status.success() {
                bail!("helm and promtool are not built ({}); {HINT}", String::from_utf8_lossy(&out.stderr).trim());
            }
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    let path = dir.join(name);
    if !path.is_file() {
        bail!("{} is missing; {HINT}", path.display());
    }
    Ok(path)
}
