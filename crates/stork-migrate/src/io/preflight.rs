//! What switching an application from one cluster to the other would do, and whether it should: run
//! before every failover and failback and shown by their dry runs. A failover switches from the source to
//! the destination, a failback back; both idle the cluster they leave, copy what changed since the last
//! migration, and bring up the cluster they go to. Everything here only reads, or asks the clusters to
//! judge a change without keeping it.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::Api;
use stork_api::{MigrationSchedule, MigrationSpec};
use stork_kube::Cluster;

use super::activate::{Change, carry_out, identities, survey};
use crate::core::activate::{Activation, Direction, Whose};
use crate::core::model::{EntryResult, ObjectId, Outcome, Progress, UpdateReason};
use crate::error::EngineError;
use crate::job::{Clusters, Job, Memory, Mode};

/// What a switch would do.
#[derive(Debug, Default)]
pub struct Switch {
    /// Reasons not to start (a switch refuses them unless forced).
    pub blockers: Vec<String>,
    pub warnings: Vec<String>,
    /// What the cluster left would be idled by (empty when it is out of reach).
    pub scale_down: Vec<(ObjectId, Activation)>,
    /// What the last-mile migration would write, each write checked by the cluster switched to.
    pub last_mile: Option<Outcome>,
    /// What the cluster switched to would be brought up by, each change checked by that cluster.
    pub scale_up: Vec<Change>,
}

/// How the last-mile Migration would run: as the schedule's template says, from the schedule's
/// namespace (where its ResourceTransformation is read), with admin rights or not.
#[derive(Debug, Clone, Copy)]
pub struct LastMile<'a> {
    pub template: &'a MigrationSpec,
    pub namespace: &'a str,
    /// The schedule is in the admin namespace: its Migrations may write cluster-scoped objects.
    pub admin: bool,
}

/// What switching `namespaces` from `from` to `to` would do, the last mile migrating as `mile` says
/// and `from_schedule` (the schedule that migrates `from` → `to`, as `from` holds it) telling how recent
/// the copy is. `from` is `Err` with why when it is out of reach (a failover in a disaster).
pub async fn switch(
    from: Result<&Cluster, String>,
    to: &Cluster,
    mile: LastMile<'_>,
    from_schedule: Option<&MigrationSchedule>,
    namespaces: &BTreeSet<String>,
    now: Timestamp,
) -> Result<Switch, EngineError> {
    let mut out = Switch::default();
    let up = survey(to, namespaces, Direction::Activate, Whose::Copies, None).await?;
    if up.is_empty() {
        out.warnings.push(format!(
            "nothing to bring up on the {} cluster in {}: no migrated workload or CronJob there",
            to.name(),
            namespaces.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    match from {
        Err(why) => out.warnings.push(format!(
            "the source is out of reach ({why}): it will not be idled and no last-mile migration runs; the {} cluster \
             is brought up with the copy it has",
            to.name()
        )),
        Ok(from) => {
            out.scale_down =
                survey(from, namespaces, Direction::Deactivate, Whose::Originals, Some(&identities(&up))).await?;
            recovery_point(from_schedule, now, &mut out);
            missing_storage_classes(from, to, namespaces, &mut out).await?;
            let last_mile = last_mile(from, to, mile, namespaces).await?;
            let drifted: Vec<String> = last_mile
                .entries
                .iter()
                .filter(|e| e.why == Some(UpdateReason::Drifted))
                .map(|e| e.id.to_string())
                .collect();
            if !drifted.is_empty() {
                out.warnings.push(format!(
                    "{} objects drifted on the {} cluster (the last mile rewrites them): {}",
                    drifted.len(),
                    to.name(),
                    sample(&drifted)
                ));
            }
            for entry in &last_mile.entries {
                if let EntryResult::Failed(reason) = &entry.result {
                    out.blockers.push(format!("the {} cluster would refuse {}: {reason}", to.name(), entry.id));
                }
            }
            out.last_mile = Some(last_mile);
        }
    }
    out.scale_up = carry_out(to, up, Mode::DryRun).await;
    for change in &out.scale_up {
        if let Err(e) = &change.result {
            out.blockers.push(format!("the {} cluster would refuse to bring up {}: {e}", to.name(), change.id));
        }
    }
    Ok(out)
}

/// The last-mile migration as a dry run: planned, every write checked by the cluster written to.
async fn last_mile(
    source: &Cluster,
    destination: &Cluster,
    mile: LastMile<'_>,
    namespaces: &BTreeSet<String>,
) -> Result<Outcome, EngineError> {
    let mut spec = mile.template.clone();
    spec.namespaces = namespaces.iter().cloned().collect();
    spec.namespace_selectors.clear();
    spec.start_applications = Some(false);
    let transforms = match spec.transform_specs.first() {
        Some(name) => super::source::load_rules(source, mile.namespace, name, namespaces).await?,
        None => Default::default(),
    };
    let job = Job {
        name: "preflight".into(),
        namespace: mile.namespace.to_string(),
        spec: spec.clone(),
        namespaces: namespaces.clone(),
        cluster_namespaces: 0,
        full: false,
        time: String::new(),
        concurrency: 16,
        transforms,
        transform_name: spec.transform_specs.first().cloned().unwrap_or_default(),
        mode: Mode::DryRun,
        admin: mile.admin,
        writer: crate::job::writer(&super::source::cluster_id(source).await?, mile.namespace, &spec.cluster_pair),
    };
    let clusters = Clusters {
        source: source.clone(),
        destination: destination.clone(),
        cluster_destination: destination.clone(),
        destination_id: 0,
        fence: Default::default(),
    };
    crate::io::run(&clusters, &job, &Memory::default(), &Progress::default()).await
}

/// The age of the newest successful copy, against the schedule's own rhythm.
fn recovery_point(schedule: Option<&MigrationSchedule>, now: Timestamp, out: &mut Switch) {
    let Some(schedule) = schedule else {
        out.warnings.push(
            "the MigrationSchedule that copies the application was not found there: the recovery point is unknown"
                .to_string(),
        );
        return;
    };
    let Some(status) = schedule.status.as_ref() else {
        out.blockers.push("the schedule has not run yet: the copy may be incomplete".to_string());
        return;
    };
    match &status.last_success_timestamp {
        None => {
            out.blockers.push("the schedule has no successful migration yet: the copy may be incomplete".to_string())
        }
        Some(last) => {
            let age = Duration::try_from(now.duration_since(last.0)).unwrap_or_default();
            let rhythm = status
                .next_trigger_timestamp
                .as_ref()
                .and_then(|next| Duration::try_from(next.0.duration_since(last.0)).ok());
            let text = stork_kube::duration::format(Duration::from_secs(age.as_secs()));
            if rhythm.is_some_and(|rhythm| age > rhythm * 2) {
                out.warnings.push(format!(
                    "the newest successful copy is {text} old, more than twice the schedule's interval; the last mile copies what changed since"
                ));
            }
            if status.consecutive_failures > 0 {
                out.warnings.push(format!("the schedule's last {} migrations failed", status.consecutive_failures));
            }
        }
    }
}

/// Claims whose StorageClass the cluster switched to lacks cannot bind there.
async fn missing_storage_classes(
    source: &Cluster,
    destination: &Cluster,
    namespaces: &BTreeSet<String>,
    out: &mut Switch,
) -> Result<(), EngineError> {
    let classes: Api<StorageClass> = Api::all(destination.client().clone());
    let present: BTreeSet<String> = destination
        .within("listing StorageClasses".to_string(), classes.list_metadata(&Default::default()))
        .await?
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    for ns in namespaces {
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(source.client().clone(), ns);
        let listed =
            source.within(format!("listing persistentvolumeclaims in {ns}"), claims.list(&Default::default())).await?;
        for claim in listed.items {
            let class = claim.spec.and_then(|s| s.storage_class_name).unwrap_or_default();
            if !class.is_empty() && !present.contains(&class) {
                out.blockers.push(format!(
                    "PersistentVolumeClaim {ns}/{} uses StorageClass {class}, which the {} cluster does not have",
                    claim.metadata.name.unwrap_or_default(),
                    destination.name()
                ));
            }
        }
    }
    Ok(())
}

/// The first few of `items`, and how many more.
fn sample(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
    match items.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_sampled() {
        let items: Vec<String> = (0..8).map(|i| format!("o{i}")).collect();
        assert_eq!(sample(&items[..2]), "o0, o1");
        assert_eq!(sample(&items), "o0, o1, o2, o3, o4 and 3 more");
    }
}
