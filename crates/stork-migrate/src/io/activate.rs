//! Activation's IO: which workloads and CronJobs of some namespaces a direction changes (read whole,
//! decided by [`crate::core::activate`]), carrying those changes out (or only listing them), and the
//! `applicationActivated` mark on the MigrationSchedules that protect those namespaces.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::{StreamExt, stream};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use stork_api::MigrationSchedule;
use stork_api::annotations::STATIC_COPY;
use stork_kube::Cluster;

use super::read::{for_each_listed, name_of};
use crate::core::activate::{Activation, Direction, Whose, activation, is_activatable, is_copy, winding_down};
use crate::core::model::{ObjectId, TypeKey};
use crate::error::EngineError;
use crate::job::Mode;

/// Patches in flight at once.
const CONCURRENT_PATCHES: usize = 16;

/// One object's activation: what changes, and whether it was made (planned only: `Ok`).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: ObjectId,
    pub activation: Activation,
    pub result: Result<(), String>,
}

/// The order Stork reports changes in: StatefulSets, Deployments, ReplicaSets, DeploymentConfigs, then
/// CronJobs, each by namespace and name.
fn report_order(id: &ObjectId) -> (String, u8, String) {
    let rank = match id.key.kind.as_str() {
        "StatefulSet" => 0,
        "Deployment" => 1,
        "ReplicaSet" => 2,
        "DeploymentConfig" => 3,
        _ => 4,
    };
    (id.namespace.clone(), rank, id.name.clone())
}

/// `(kind, namespace, name)`: the same application object on either cluster.
pub type Identity = (String, String, String);

fn identity(id: &ObjectId) -> Identity {
    (id.key.kind.clone(), id.namespace.clone(), id.name.clone())
}

/// What `direction` changes in `namespaces` on `cluster`, for the objects of `whose`; with `only`, just
/// for those objects (a failover idles on the source what the destination would bring up).
pub async fn survey(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    direction: Direction,
    whose: Whose,
    only: Option<&BTreeSet<Identity>>,
) -> Result<Vec<(ObjectId, Activation)>, EngineError> {
    let mut out = Vec::new();
    for_each_activatable(cluster, namespaces, only, |id, key, object| {
        if let Some(change) = activation(key, object, direction, whose) {
            out.push((id, change));
        }
    })
    .await?;
    out.sort_by_key(|(id, _)| report_order(id));
    Ok(out)
}

/// The workloads and CronJobs in `namespaces` on `cluster` that stork-rs migrated there: what a switch
/// brings up on one side, and so what it idles (and a rollback brings back) on the other.
pub async fn copies(cluster: &Cluster, namespaces: &BTreeSet<String>) -> Result<BTreeSet<Identity>, EngineError> {
    let mut out = BTreeSet::new();
    for_each_activatable(cluster, namespaces, None, |id, _, object| {
        if is_copy(object) {
            out.insert(identity(&id));
        }
    })
    .await?;
    Ok(out)
}

/// The idled workloads among `only` in `namespaces` that still have pods.
pub async fn still_running(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    only: &BTreeSet<Identity>,
) -> Result<Vec<ObjectId>, EngineError> {
    let mut out = Vec::new();
    for_each_activatable(cluster, namespaces, Some(only), |id, key, object| {
        if winding_down(key, object) {
            out.push(id);
        }
    })
    .await?;
    out.sort_by_key(report_order);
    Ok(out)
}

/// Calls `visit` with every workload and CronJob (whole) in `namespaces`, or only those of `only`.
async fn for_each_activatable(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    only: Option<&BTreeSet<Identity>>,
    mut visit: impl FnMut(ObjectId, &TypeKey, &serde_json::Value),
) -> Result<(), EngineError> {
    let types: Vec<Arc<TypeKey>> = cluster
        .discover()
        .await?
        .into_iter()
        .map(|t| TypeKey::of(&t.ar, t.namespaced))
        .filter(is_activatable)
        .map(Arc::new)
        .collect();
    let scopes: Vec<Option<String>> = namespaces.iter().cloned().map(Some).collect();
    for key in types {
        if only.is_some_and(|only| !only.iter().any(|(kind, _, _)| *kind == key.kind)) {
            continue;
        }
        let ar = key.resource();
        for_each_listed(cluster, &ar, &scopes, false, |object| {
            let id =
                ObjectId::new(&key, object["metadata"]["namespace"].as_str().unwrap_or_default(), name_of(&object));
            if only.is_none_or(|only| only.contains(&identity(&id))) {
                visit(id, &key, &object);
            }
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// The identities of what a survey found, to find the same objects on the other cluster.
pub fn identities(changes: &[(ObjectId, Activation)]) -> BTreeSet<Identity> {
    changes.iter().map(|(id, _)| identity(id)).collect()
}

/// Makes the changes (merge patches, concurrently), or in [`Mode::PlanOnly`] only lists them, or in
/// [`Mode::DryRun`] has the cluster check them without keeping them; in report order. A change that fails says why; the others are made anyway.
pub async fn carry_out(cluster: &Cluster, changes: Vec<(ObjectId, Activation)>, mode: Mode) -> Vec<Change> {
    let mut done: Vec<Change> = stream::iter(changes)
        .map(|(id, activation)| async move {
            let result = match mode {
                Mode::PlanOnly => Ok(()),
                // A dry run lets the cluster's admission judge the change without keeping it.
                Mode::Apply | Mode::DryRun => {
                    let api: Api<DynamicObject> =
                        Api::namespaced_with(cluster.client().clone(), &id.namespace, &id.key.resource());
                    let what = format!("updating {} {}/{}", id.key.kind.to_lowercase(), id.namespace, id.name);
                    let patch = Patch::Merge(&activation.patch);
                    let params = PatchParams { dry_run: mode == Mode::DryRun, ..Default::default() };
                    cluster
                        .within(what, api.patch(&id.name, &params, &patch))
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            };
            Change { id, activation, result }
        })
        .buffer_unordered(CONCURRENT_PATCHES)
        .collect()
        .await;
    done.sort_by_key(|c| report_order(&c.id));
    done
}

/// Sets `status.applicationActivated` to `activated` on the MigrationSchedules in `in_namespaces` that
/// migrate any of `namespaces` (with `static_copies_only`, only on the copies kept on a destination);
/// returns `namespace/name` of each one set. As Stork, this drives autoSuspend and stops scheduled
/// Migrations into activated applications.
pub async fn mark_schedules(
    cluster: &Cluster,
    in_namespaces: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
    activated: bool,
    static_copies_only: bool,
    mode: Mode,
) -> Result<Vec<String>, EngineError> {
    let mut marked = Vec::new();
    for ns in in_namespaces {
        let api: Api<MigrationSchedule> = Api::namespaced(cluster.client().clone(), ns);
        let listed =
            cluster.within(format!("listing MigrationSchedules in {ns}"), api.list(&Default::default())).await?;
        for schedule in listed.items {
            let name = schedule.metadata.name.clone().unwrap_or_default();
            let is_copy = schedule.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(STATIC_COPY));
            let migrates = schedule.spec.template.spec.namespaces.iter().any(|n| namespaces.contains(n));
            if !migrates || (static_copies_only && !is_copy) {
                continue;
            }
            if mode == Mode::Apply {
                let patch = serde_json::json!({"status": {"applicationActivated": activated}});
                let what = format!("marking MigrationSchedule {ns}/{name}");
                cluster.within(what, api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))).await?;
            }
            marked.push(format!("{ns}/{name}"));
        }
    }
    Ok(marked)
}
