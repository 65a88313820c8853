//! The two clusters of an Action: this one (the destination of the original migrations) and the source,
//! reached through the ClusterPair on this cluster with the schedule's pair name — the pair
//! `storkctl create clusterpair` makes in the other direction.

use std::time::Duration;

use kube::api::Api;
use stork_api::ClusterPair;
use stork_kube::Cluster;

use super::flow::Direction;
use crate::context::Context;

/// Attempts at `/version` before the source counts as out of reach (a few seconds in all, as a
/// disaster is exactly when waiting minutes hurts).
const REACH_ATTEMPTS: u32 = 3;
const REACH_TIMEOUT: Duration = Duration::from_secs(2);
const REACH_PAUSE: Duration = Duration::from_secs(1);

pub struct Sides {
    /// This cluster, named `destination` in messages.
    pub local: Cluster,
    /// The source, or why it cannot be used.
    pub remote: Result<Cluster, String>,
}

impl Sides {
    /// The cluster the application leaves.
    pub fn from(&self, direction: Direction) -> Result<&Cluster, String> {
        match direction {
            Direction::Failover => self.remote.as_ref().map_err(Clone::clone),
            Direction::Failback => Ok(&self.local),
        }
    }

    /// The cluster the application goes to.
    pub fn to(&self, direction: Direction) -> Result<&Cluster, String> {
        match direction {
            Direction::Failover => Ok(&self.local),
            Direction::Failback => self.remote.as_ref().map_err(Clone::clone),
        }
    }
}

/// Why the source could not be reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Unreachable {
    /// There is no pair to reach it with (a setup mistake, not a disaster).
    NoPair(String),
    /// The pair's kubeconfig cannot be used.
    BadPair(String),
    /// It did not answer.
    Down(String),
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoPair(m) | Self::BadPair(m) | Self::Down(m) => f.write_str(m),
        }
    }
}

/// The source through ClusterPair `namespace/pair` on this cluster, once it answered `/version`.
pub async fn reach(ctx: &Context, namespace: &str, pair: &str) -> Result<Cluster, Unreachable> {
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), namespace);
    let found = ctx
        .source
        .within(format!("reading ClusterPair {namespace}/{pair}"), pairs.get_opt(pair))
        .await
        .map_err(|e| Unreachable::Down(e.to_string()))?;
    let Some(found) = found else {
        return Err(Unreachable::NoPair(format!(
            "no ClusterPair {namespace}/{pair} on this cluster to reach the source with; create it (storkctl create \
             clusterpair makes one on each side), or skip the source's steps if it is lost"
        )));
    };
    let remote = ctx
        .remotes
        .get(&found)
        .await
        .map_err(|e| Unreachable::BadPair(format!("ClusterPair {namespace}/{pair} cannot be used: {e}")))?;
    let probe = Cluster::new(remote.client.clone(), "source", REACH_TIMEOUT);
    let mut last = String::new();
    for attempt in 1..=REACH_ATTEMPTS {
        match probe.within(format!("GET {}/version", remote.server), remote.client.apiserver_version()).await {
            Ok(_) => return Ok(Cluster::new(remote.client, "source", ctx.settings.request_timeout)),
            Err(e) => last = e.message,
        }
        if attempt < REACH_ATTEMPTS {
            tokio::time::sleep(REACH_PAUSE).await;
        }
    }
    Err(Unreachable::Down(format!(
        "the source {} did not answer /version {REACH_ATTEMPTS} times in a row: {last}",
        remote.server
    )))
}
