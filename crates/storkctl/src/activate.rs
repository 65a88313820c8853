//! `activate|deactivate migration(s)`: brings the standby copies in some namespaces of the cluster
//! storkctl points at to life (or idles them again), then marks the MigrationSchedules protecting those
//! namespaces, with Stork's lines.
//!
//! What changes is decided by the engine (`stork_migrate::core::activate`), for the copies stork-rs
//! migrated only (annotated `stork.libopenstorage.org/migrated`): unlike Stork, which flips every CronJob
//! of the namespace, a user's own CronJob or workload is never touched. Only objects that actually change
//! are reported (Stork also prints a line for a workload already at its target).

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::core::GroupVersionKind;
use stork_api::annotations::MIGRATION_NAMESPACE;
use stork_kube::Cluster;
use stork_migrate::Mode;
use stork_migrate::core::activate::{Direction, Whose};
use stork_migrate::io::activate::{Change, carry_out, mark_schedules, survey};
use thiserror::Error;

use crate::cli::{ActivateMigrationArgs, GlobalArgs};
use crate::client;

/// Deadline of every request to the cluster (a list of one type in one namespace, one patch).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How the cluster storkctl points at is named in request errors.
const CLUSTER: &str = "cluster";
/// Objects per page when looking for the namespace of the schedule that migrated a namespace.
const PAGE: u32 = 500;

/// Namespaced types, in Stork's order, whose objects may carry the namespace of the Migration that
/// copied them (`GetMigrationScheduleCRNamespace`). Stork also lists cluster-scoped types there (PVs,
/// ClusterRoles, webhooks), which cannot tell which namespace was activated: they are left out.
const MIGRATED_TYPES: [(&str, &str, &str, &str); 20] = [
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("apps", "v1", "StatefulSet", "statefulsets"),
    ("apps", "v1", "Deployment", "deployments"),
    ("apps.openshift.io", "v1", "DeploymentConfig", "deploymentconfigs"),
    ("", "v1", "Service", "services"),
    ("", "v1", "ConfigMap", "configmaps"),
    ("apps", "v1", "DaemonSet", "daemonsets"),
    ("apps", "v1", "ReplicaSet", "replicasets"),
    ("", "v1", "Secret", "secrets"),
    ("", "v1", "ServiceAccount", "serviceaccounts"),
    ("", "v1", "ResourceQuota", "resourcequotas"),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
    ("batch", "v1", "Job", "jobs"),
    ("batch", "v1", "CronJob", "cronjobs"),
    ("", "v1", "LimitRange", "limitranges"),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    ("image.openshift.io", "v1", "ImageStream", "imagestreams"),
    ("template.openshift.io", "v1", "Template", "templates"),
    ("route.openshift.io", "v1", "Route", "routes"),
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ActivateError {
    /// Stork prints the failures and exits 0; a script should learn that the application is not fully up.
    #[error("{failed} of {total} objects could not be updated (see above)")]
    Failed { failed: usize, total: usize },
}

/// A line for stdout or for stderr.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Out(String),
    Err(String),
}

/// `storkctl activate|deactivate migration(s)`.
pub async fn run(
    global: &GlobalArgs,
    args: &ActivateMigrationArgs,
    direction: Direction,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let cluster = Cluster::new(client.clone(), CLUSTER, REQUEST_TIMEOUT);
    let (namespaces, schedule_namespaces) = if args.all_namespaces {
        let all = all_namespaces(&client).await?;
        (all.clone(), all)
    } else {
        let ns = global.namespace.clone();
        // Stork looks for the schedules where the objects say their Migration ran: a schedule in the
        // admin namespace migrating `ns` is found through them.
        let schedules_in = schedule_namespace(&client, &ns).await.unwrap_or_else(|| ns.clone());
        (BTreeSet::from([ns]), BTreeSet::from([schedules_in]))
    };
    // A dry run has the API server check each change without keeping it.
    let mode = if args.dry_run { Mode::DryRun } else { Mode::Apply };
    let changes = survey(&cluster, &namespaces, direction, Whose::Copies, None).await?;
    let done = carry_out(&cluster, changes, mode).await;
    let mut failed = 0;
    for change in &done {
        match change_line(change, args.dry_run) {
            Line::Out(text) => writeln!(out, "{text}")?,
            Line::Err(text) => {
                failed += 1;
                writeln!(err, "{text}")?;
            }
        }
    }
    let activated = direction == Direction::Activate;
    // As Stork: activating marks every schedule migrating those namespaces, deactivating only the static
    // copies kept on a destination.
    let marked = mark_schedules(&cluster, &schedule_namespaces, &namespaces, activated, !activated, mode).await?;
    for name in &marked {
        writeln!(out, "{}", schedule_line(name, activated, args.dry_run))?;
    }
    if failed > 0 {
        return Err(ActivateError::Failed { failed, total: done.len() }.into());
    }
    Ok(())
}

/// Every namespace, by name (Stork's order for `-a`).
async fn all_namespaces(client: &kube::Client) -> anyhow::Result<BTreeSet<String>> {
    let api: Api<Namespace> = Api::all(client.clone());
    let list = tokio::time::timeout(REQUEST_TIMEOUT, api.list_metadata(&ListParams::default()))
        .await
        .map_err(|_| anyhow::anyhow!("listing namespaces: no answer within {}s", REQUEST_TIMEOUT.as_secs()))??;
    Ok(list.items.into_iter().filter_map(|n| n.metadata.name).collect())
}

/// The `migrationNamespace` annotation of the first object in `ns` that has one, in Stork's type order;
/// a type the cluster does not serve (or that cannot be listed) is skipped, as in Stork.
async fn schedule_namespace(client: &kube::Client, ns: &str) -> Option<String> {
    for (group, version, kind, plural) in MIGRATED_TYPES {
        let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let mut params = ListParams::default().limit(PAGE);
        loop {
            let Ok(Ok(page)) = tokio::time::timeout(REQUEST_TIMEOUT, api.list_metadata(&params)).await else {
                break;
            };
            let found = page.items.iter().find_map(|o| {
                o.metadata.annotations.as_ref()?.get(MIGRATION_NAMESPACE).filter(|v| !v.is_empty()).cloned()
            });
            if found.is_some() {
                return found;
            }
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
    }
    None
}

/// Stork's line for one change: `Updated replicas for deployment shop/web to 3`,
/// `Updated suspend option for cronjob shop/nightly to false`, or its error on stderr; a dry run says
/// what would change, from what to what.
pub fn change_line(change: &Change, dry_run: bool) -> Line {
    let id = &change.id;
    let kind = id.key.kind.to_lowercase();
    let what = match change.activation.field {
        "suspend" => "suspend option",
        field => field,
    };
    let (from, to) = (&change.activation.from, &change.activation.to);
    let object = format!("{} {}/{}", kind, id.namespace, id.name);
    match (&change.result, dry_run) {
        (Ok(()), false) => Line::Out(format!("Updated {what} for {object} to {to}")),
        (Ok(()), true) => Line::Out(format!("Would update {what} for {object} from {from} to {to}")),
        (Err(_), false) => {
            // Stork's error line spells the CronJob kind `cronJob`.
            let spelled = if what == "suspend option" {
                format!("{} {}/{}", lower_first(&id.key.kind), id.namespace, id.name)
            } else {
                object
            };
            Line::Err(format!("Error updating {what} for {spelled} : {}", change_reason(change)))
        }
        (Err(_), true) => Line::Err(format!(
            "Would fail to update {what} for {object} from {from} to {to} : {}",
            change_reason(change)
        )),
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// Why a change failed, without the `<cluster>: updating <kind> <ns>/<name>: ` the engine's request
/// error starts with (every line names the object already).
pub fn change_reason(change: &Change) -> &str {
    let Err(text) = &change.result else { return "" };
    let id = &change.id;
    let marker = format!(": updating {} {}/{}: ", id.key.kind.to_lowercase(), id.namespace, id.name);
    text.find(&marker).map_or(text.as_str(), |at| &text[at + marker.len()..])
}

/// Stork's line for a marked schedule (`namespace/name`), or what a dry run would mark.
pub fn schedule_line(schedule: &str, activated: bool, dry_run: bool) -> String {
    let verb = if dry_run { "Would set" } else { "Setting" };
    format!("{verb} the ApplicationActivated status in the MigrationSchedule {schedule} to {activated}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use stork_migrate::core::activate::Activation;
    use stork_migrate::{ObjectId, TypeKey};

    fn change(group: &str, kind: &str, field: &'static str, from: &str, to: &str, result: Result<(), &str>) -> Change {
        let key = Arc::new(TypeKey::builtin(group, "v1", kind, "", true));
        Change {
            id: ObjectId::new(&key, "dep", "migratedDeployment"),
            activation: Activation { field, from: from.into(), to: to.into(), patch: serde_json::Value::Null },
            result: result.map_err(String::from),
        }
    }

    #[test]
    fn item_18_lines() {
        let up = change("apps", "Deployment", "replicas", "0", "1", Ok(()));
        assert_eq!(
            change_line(&up, false),
            Line::Out("Updated replicas for deployment dep/migratedDeployment to 1".into())
        );
        let sts = change("apps", "StatefulSet", "replicas", "0", "3", Ok(()));
        assert_eq!(
            change_line(&sts, false),
            Line::Out("Updated replicas for statefulset dep/migratedDeployment to 3".into())
        );
        let down = change("apps", "Deployment", "replicas", "1", "0", Ok(()));
        assert_eq!(
            change_line(&down, false),
            Line::Out("Updated replicas for deployment dep/migratedDeployment to 0".into())
        );
        let cron = change("batch", "CronJob", "suspend", "true", "false", Ok(()));
        assert_eq!(
            change_line(&cron, false),
            Line::Out("Updated suspend option for cronjob dep/migratedDeployment to false".into())
        );
        assert_eq!(
            schedule_line("adminNs/test-migrationSchedule-1", true, false),
            "Setting the ApplicationActivated status in the MigrationSchedule adminNs/test-migrationSchedule-1 to true"
        );
        assert_eq!(
            schedule_line("ns/copy", false, false),
            "Setting the ApplicationActivated status in the MigrationSchedule ns/copy to false"
        );
    }

    #[test]
    fn errors_go_to_stderr_without_the_engines_prefix() {
        let refused = change(
            "apps",
            "Deployment",
            "replicas",
            "0",
            "3",
            Err("cluster: updating deployment dep/migratedDeployment: admission webhook denied the request"),
        );
        assert_eq!(
            change_line(&refused, false),
            Line::Err(
                "Error updating replicas for deployment dep/migratedDeployment : admission webhook denied the request"
                    .into()
            )
        );
        let cron = change("batch", "CronJob", "suspend", "true", "false", Err("forbidden"));
        assert_eq!(
            change_line(&cron, false),
            Line::Err("Error updating suspend option for cronJob dep/migratedDeployment : forbidden".into()),
            "Stork's spelling, and a reason without the prefix is kept whole"
        );
    }

    #[test]
    fn dry_run_lines_say_from_what_to_what() {
        let up = change("apps", "Deployment", "replicas", "0", "3", Ok(()));
        assert_eq!(
            change_line(&up, true),
            Line::Out("Would update replicas for deployment dep/migratedDeployment from 0 to 3".into())
        );
        let cron = change("batch", "CronJob", "suspend", "false", "true", Ok(()));
        assert_eq!(
            change_line(&cron, true),
            Line::Out("Would update suspend option for cronjob dep/migratedDeployment from false to true".into())
        );
        let refused = change(
            "apps",
            "ReplicaSet",
            "replicas",
            "0",
            "2",
            Err("cluster: updating replicaset dep/migratedDeployment: quota"),
        );
        assert_eq!(
            change_line(&refused, true),
            Line::Err("Would fail to update replicas for replicaset dep/migratedDeployment from 0 to 2 : quota".into())
        );
        assert_eq!(
            schedule_line("ns/s", true, true),
            "Would set the ApplicationActivated status in the MigrationSchedule ns/s to true"
        );
        assert_eq!(
            ActivateError::Failed { failed: 1, total: 3 }.to_string(),
            "1 of 3 objects could not be updated (see above)"
        );
    }
}
