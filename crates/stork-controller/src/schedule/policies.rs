//! SchedulePolicies as a schedule finds them: a NamespacedSchedulePolicy of its namespace first, then the
//! cluster's SchedulePolicy of that name (Stork's lookup order); and Stork's default policies, created
//! once the controller runs, never overwriting a user's edits.

use kube::api::{Api, PostParams};
use stork_api::{NamespacedSchedulePolicy, SchedulePolicy, SchedulePolicyFields, SchedulePolicyItem};
use stork_kube::{Cluster, RequestError};

/// Where a schedule's policy came from, and what it says.
#[derive(Debug, Clone)]
pub struct Found {
    /// `NamespacedSchedulePolicy ns/name` or `SchedulePolicy name`, for messages.
    pub source: String,
    pub policy: SchedulePolicyItem,
}

/// The policy `name` for a schedule in `namespace`, or `None` when neither kind has it.
pub async fn find(cluster: &Cluster, namespace: &str, name: &str) -> Result<Option<Found>, RequestError> {
    let namespaced: Api<NamespacedSchedulePolicy> = Api::namespaced(cluster.client().clone(), namespace);
    let what = format!("reading NamespacedSchedulePolicy {namespace}/{name}");
    if let Some(p) = cluster.within(what, namespaced.get_opt(name)).await? {
        return Ok(Some(Found {
            source: format!("NamespacedSchedulePolicy {namespace}/{name}"),
            policy: p.spec.policy,
        }));
    }
    let cluster_wide: Api<SchedulePolicy> = Api::all(cluster.client().clone());
    let found = cluster.within(format!("reading SchedulePolicy {name}"), cluster_wide.get_opt(name)).await?;
    Ok(found.map(|p| Found { source: format!("SchedulePolicy {name}"), policy: p.spec.policy }))
}

/// Creates the default policies that do not exist; existing ones (a user's edits) are left as they are.
pub async fn ensure_defaults(cluster: &Cluster) -> Result<(), RequestError> {
    let api: Api<SchedulePolicy> = Api::all(cluster.client().clone());
    for (name, policy) in stork_migrate::schedule::policy::defaults() {
        let object = SchedulePolicy::new(name, SchedulePolicyFields { policy });
        match cluster
            .within(format!("creating SchedulePolicy {name}"), api.create(&PostParams::default(), &object))
            .await
        {
            Ok(_) => tracing::info!(policy = name, "created default schedule policy"),
            Err(e) if e.code == Some(409) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
