//! One destination client per ClusterPair, rebuilt only when the pair's kubeconfig changes, so
//! connections are reused across reconciles (Stork rebuilt clients on almost every call).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use stork_api::PairKubeconfig;
use stork_kube::PairConfigError;
use stork_kube::pair_config::{PairPolicy, RemoteTimeouts, client_config_for_pair};

/// What a cached client was built from.
#[derive(Clone)]
pub struct RemoteClient {
    pub client: kube::Client,
    /// For watches: its read timeout outlasts a watch request (see `stork_migrate::io::watch`).
    pub watcher: kube::Client,
    /// `https://host:port` of the destination, for messages.
    pub server: String,
    /// User of the current context, quoted, and whom it acts as: for messages.
    pub user: String,
}

/// Read timeout of watch clients: longer than a watch request stays open with no event but bookmarks.
const WATCH_READ_TIMEOUT: std::time::Duration =
    std::time::Duration::from_secs(stork_migrate::io::watch::WATCH_SECONDS as u64 + 30);

#[derive(Default)]
pub struct RemoteClients {
    cache: Mutex<HashMap<(String, String), (u64, RemoteClient)>>,
}

impl RemoteClients {
    /// The client for ClusterPair `pair`, built from its `spec.config` (and what its annotations allow)
    /// if it is new or changed.
    pub async fn get(&self, pair: &stork_api::ClusterPair) -> Result<RemoteClient, PairConfigError> {
        let namespace = pair.metadata.namespace.as_deref().unwrap_or_default();
        let name = pair.metadata.name.as_deref().unwrap_or_default();
        let config = &pair.spec.config;
        let policy = PairPolicy::of(pair.metadata.annotations.as_ref().unwrap_or(&Default::default()));
        let key = (namespace.to_string(), name.to_string());
        let fingerprint = fingerprint(config, policy);
        if let Some((cached_fp, client)) = self.lock().get(&key)
            && *cached_fp == fingerprint
        {
            return Ok(client.clone());
        }
        let kube_config = client_config_for_pair(config, policy, RemoteTimeouts::default()).await?;
        let server = kube_config.cluster_url.to_string();
        let mut watch_config = kube_config.clone();
        watch_config.read_timeout = Some(WATCH_READ_TIMEOUT);
        let client = kube::Client::try_from(kube_config).map_err(|e| PairConfigError::Unusable(e.to_string()))?;
        let watcher = kube::Client::try_from(watch_config).map_err(|e| PairConfigError::Unusable(e.to_string()))?;
        let name = config.contexts.get(&config.current_context).map(|c| c.user.clone()).unwrap_or_default();
        // Messages name the identity the destination sees.
        let user = match config.users.get(&name).and_then(|u| u.act_as.as_deref()) {
            Some(acting) => format!("{name:?} (acting as {acting:?})"),
            None => format!("{name:?}"),
        };
        let remote = RemoteClient { client, watcher, server: server.trim_end_matches('/').to_string(), user };
        self.lock().insert(key, (fingerprint, remote.clone()));
        Ok(remote)
    }

    pub fn forget(&self, namespace: &str, name: &str) {
        self.lock().remove(&(namespace.to_string(), name.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), (u64, RemoteClient)>> {
        // A panic while holding this lock cannot leave the map inconsistent; keep serving.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn fingerprint(config: &PairKubeconfig, policy: PairPolicy) -> u64 {
    let mut hasher = DefaultHasher::new();
    serde_json::to_string(config).unwrap_or_default().hash(&mut hasher);
    policy.allow_plain_http.hash(&mut hasher);
    hasher.finish()
}
