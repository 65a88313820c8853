//! Kubeconfig loading and clients, resolved the way kubectl does: `--kubeconfig`, else the files listed in
//! `KUBECONFIG` (merged, first wins), else `~/.kube/config`, else the in-cluster service account (storkctl
//! is often run inside the stork pod).

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("cannot load kubeconfig {path}: {source}")]
    Load { path: String, source: KubeconfigError },
    #[error(
        "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config (or run inside a cluster)"
    )]
    NoConfig,
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot create a Kubernetes client: {0}")]
    Client(String),
}

/// A kubeconfig and the file its current context came from (recorded as `LocationOfOrigin` by generate).
pub struct LoadedKubeconfig {
    pub kubeconfig: Kubeconfig,
    pub origin: Option<PathBuf>,
}

/// Reads one kubeconfig file; relative certificate/key/token paths are resolved against its directory.
pub fn read_file(path: &Path) -> Result<Kubeconfig, ClientError> {
    Kubeconfig::read_from(path).map_err(|source| ClientError::Load { path: path.display().to_string(), source })
}

/// The user's kubeconfig, or `None` when there is none at all.
pub fn load(explicit: Option<&Path>, context: Option<&str>) -> Result<Option<LoadedKubeconfig>, ClientError> {
    if let Some(path) = explicit {
        return Ok(Some(LoadedKubeconfig { kubeconfig: read_file(path)?, origin: Some(absolute(path)) }));
    }
    let env_paths: Vec<PathBuf> = std::env::var_os("KUBECONFIG")
        .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
        .unwrap_or_default();
    if !env_paths.is_empty() {
        // Like client-go: missing files are skipped, and ~/.kube/config is not consulted.
        let existing: Vec<PathBuf> = env_paths.into_iter().filter(|p| p.exists()).collect();
        if existing.is_empty() {
            return Ok(None);
        }
        let mut kubeconfig = Kubeconfig::default();
        for path in &existing {
            kubeconfig = kubeconfig
                .merge(read_file(path)?)
                .map_err(|source| ClientError::Load { path: path.display().to_string(), source })?;
        }
        let wanted = context.map(str::to_string).or_else(|| kubeconfig.current_context.clone());
        let origin = origin_among(&existing, wanted.as_deref());
        return Ok(Some(LoadedKubeconfig { kubeconfig, origin }));
    }
    let default = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"));
    match default {
        Some(path) if path.is_file() => {
            Ok(Some(LoadedKubeconfig { kubeconfig: read_file(&path)?, origin: Some(path) }))
        }
        _ => Ok(None),
    }
}

/// With several files merged, the context's entry comes from the first file defining it.
fn origin_among(paths: &[PathBuf], context: Option<&str>) -> Option<PathBuf> {
    let context = context?;
    paths
        .iter()
        .find(|p| Kubeconfig::read_from(p).is_ok_and(|kc| kc.contexts.iter().any(|c| c.name == context)))
        .map(|p| absolute(p))
}

/// client-go records where an entry came from; a relative path would mean nothing on another machine.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Client for the cluster selected by `--kubeconfig`/`--context` (or their defaults).
pub async fn from_flags(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<kube::Client, ClientError> {
    let config = match load(kubeconfig, context)? {
        Some(loaded) => config_from(loaded.kubeconfig, context).await?,
        None if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
            kube::Config::incluster().map_err(|e| ClientError::Config(stork_kube::error_chain(&e)))?
        }
        None => return Err(ClientError::NoConfig),
    };
    kube::Client::try_from(config).map_err(|e| ClientError::Client(stork_kube::error_chain(&e)))
}

/// Client for the current context of a kubeconfig (the `--src-kube-file`/`--dest-kube-file` of create).
pub async fn from_kubeconfig(kubeconfig: Kubeconfig) -> Result<kube::Client, ClientError> {
    let config = config_from(kubeconfig, None).await?;
    kube::Client::try_from(config).map_err(|e| ClientError::Client(stork_kube::error_chain(&e)))
}

async fn config_from(kubeconfig: Kubeconfig, context: Option<&str>) -> Result<kube::Config, ClientError> {
    let options = KubeConfigOptions { context: context.map(str::to_string), ..Default::default() };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ClientError::Config(stork_kube::error_chain(&e)))
}

/// An error as Go's `%v` shows it inside one of Stork's messages: an API error is its status message
/// (`schedulepolicies.stork.libopenstorage.org "x" not found`), anything else its chain of causes.
pub fn api_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => status.message.clone(),
        other => stork_kube::error_chain(other),
    }
}
