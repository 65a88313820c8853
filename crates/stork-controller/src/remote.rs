//! One destination client per ClusterPair, rebuilt only when the pair's kubeconfig changes, so
//! connections are reused across reconciles (Stork rebuilt clients on almost every call).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use stork_api::PairKubeconfig;
use stork_kube::PairConfigError;
use stork_kube::pair_config::{RemoteTimeouts, client_config_for_pair};

/// What a cached client was built from.
#[derive(Clone)]
pub struct RemoteClient {
    pub client: kube::Client,
    /// `https://host:port` of the destination, for messages.
    pub server: String,
    /// User of the current context, for messages.
    pub user: String,
}

#[derive(Default)]
pub struct RemoteClients {
    cache: Mutex<HashMap<(String, String), (u64, RemoteClient)>>,
}

impl RemoteClients {
    /// The client for pair `namespace/name`, built from `config` if it is new or changed.
    pub async fn get(
        &self,
        namespace: &str,
        name: &str,
        config: &PairKubeconfig,
    ) -> Result<RemoteClient, PairConfigError> {
        let key = (namespace.to_string(), name.to_string());
        let fingerprint = fingerprint(config);
        if let Some((cached_fp, client)) = self.lock().get(&key)
            && *cached_fp == fingerprint
        {
            return Ok(client.clone());
        }
        let kube_config = client_config_for_pair(config, RemoteTimeouts::default()).await?;
        let server = kube_config.cluster_url.to_string();
        let client = kube::Client::try_from(kube_config).map_err(|e| PairConfigError::Unusable(e.to_string()))?;
        let user = config.contexts.get(&config.current_context).map(|c| c.user.clone()).unwrap_or_default();
        let remote = RemoteClient { client, server: server.trim_end_matches('/').to_string(), user };
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

fn fingerprint(config: &PairKubeconfig) -> u64 {
    let mut hasher = DefaultHasher::new();
    serde_json::to_string(config).unwrap_or_default().hash(&mut hasher);
    hasher.finish()
}
