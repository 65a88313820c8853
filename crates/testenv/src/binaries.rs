//! Locating the control-plane binaries built by `scripts/control-plane build`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const HINT: &str = "build them once with: scripts/control-plane build   (then tests find them automatically, \
                    or set STORK_CONTROL_PLANE_BIN to their directory)";

/// Paths of the four binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    /// `$STORK_CONTROL_PLANE_BIN`, else what `scripts/control-plane path` reports. Never skips: a missing
    /// binary is an error that says how to build it.
    pub fn locate() -> anyhow::Result<Self> {
        let dir = match std::env::var_os("STORK_CONTROL_PLANE_BIN") {
            Some(dir) => PathBuf::from(dir),
            None => Self::from_script()?,
        };
        let bins = Self { dir };
        for name in ["etcd", "kube-apiserver", "kube-controller-manager", "kubectl"] {
            let path = bins.dir.join(name);
            if !path.is_file() {
                bail!("control-plane binary {} is missing; {HINT}", path.display());
            }
        }
        Ok(bins)
    }

    fn from_script() -> anyhow::Result<PathBuf> {
        path_from_script("scripts/control-plane", "control-plane binaries are not built", HINT)
    }

    pub fn etcd(&self) -> PathBuf {
        self.dir.join("etcd")
    }
    pub fn apiserver(&self) -> PathBuf {
        self.dir.join("kube-apiserver")
    }
    pub fn controller_manager(&self) -> PathBuf {
        self.dir.join("kube-controller-manager")
    }
    pub fn kubectl(&self) -> PathBuf {
        self.dir.join("kubectl")
    }
}

/// What `bash <script> path` prints (a directory the script builds and caches); `missing` and `hint`
/// say what is not there and how to build it.
pub(crate) fn path_from_script(script: &str, missing: &str, hint: &str) -> anyhow::Result<PathBuf> {
    let script = repo_root().join(script);
    let out = Command::new("bash")
        .arg(&script)
        .arg("path")
        .output()
        .with_context(|| format!("cannot run {}; {hint}", script.display()))?;
    if !out.status.success() {
        bail!("{missing} ({}); {hint}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The workspace root (two levels above this crate).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
