//! The other cluster of a ClusterPair, as a failover or failback on this cluster sees it: a client built
//! from the pair's `spec.config`, and whether that cluster answers at all. A dry run must say what it
//! can rather than hang on a source that is gone, so the first answer is awaited a few seconds only.

use std::time::Duration;

use stork_api::ClusterPair;
use stork_kube::pair_config::RemoteTimeouts;

/// How long the other cluster may take to answer `GET /version` before it counts as out of reach.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

fn pair_policy(pair: &ClusterPair) -> stork_kube::pair_config::PairPolicy {
    stork_kube::pair_config::PairPolicy::of(pair.metadata.annotations.as_ref().unwrap_or(&Default::default()))
}

/// A client for the cluster `pair` points to, once it answered; otherwise why not.
pub async fn reach(pair: &ClusterPair) -> Result<kube::Client, String> {
    let name = pair.metadata.name.as_deref().unwrap_or_default();
    let config = stork_kube::client_config_for_pair(&pair.spec.config, pair_policy(pair), RemoteTimeouts::default())
        .await
        .map_err(|e| format!("ClusterPair {name}: {e}"))?;
    let client =
        kube::Client::try_from(config).map_err(|e| format!("ClusterPair {name}: {}", stork_kube::error_chain(&e)))?;
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(e)) => Err(format!("GET /version through ClusterPair {name} failed: {}", stork_kube::error_chain(&e))),
        Err(_) => Err(format!(
            "no answer to GET /version through ClusterPair {name} within {}",
            stork_kube::duration::format(PROBE_TIMEOUT)
        )),
    }
}
