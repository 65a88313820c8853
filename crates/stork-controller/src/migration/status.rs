//! A Migration's status at each point of its life (running, retrying, finished, failed) and how it is
//! written: status through the status subresource, the complete per-resource list into a ConfigMap
//! beside it that this Migration owns.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use stork_api::annotations::{DETAILS_OF_MIGRATION, FIELD_MANAGER};
use stork_api::{Migration, MigrationStage, MigrationStatus, MigrationStatusType, MigrationSummary, ResourceCounts};
use stork_kube::{Cluster, RequestError};
use stork_migrate::Outcome;
use stork_migrate::core::report::{bounded, compressed_details};

use crate::clock::now;

/// Status while a run goes on.
pub fn running(previous: Option<&MigrationStatus>, full: bool, attempt: u32) -> MigrationStatus {
    MigrationStatus {
        stage: MigrationStage::Applications,
        status: MigrationStatusType::InProgress,
        migration_type: if full { "Full" } else { "Incremental" }.to_string(),
        volume_migration_finish_timestamp: Some(now()),
        attempts: attempt,
        retrying_since: previous.and_then(|s| s.retrying_since.clone()),
        // While retrying, the reason says why until this attempt is done.
        reason: previous.map(|s| s.reason.clone()).filter(|r| r.starts_with(RETRYING)).unwrap_or_default(),
        ..Default::default()
    }
}

/// Prefix of the reason of a Migration waiting to be tried again.
pub const RETRYING: &str = "retrying: ";

/// Status after attempt `attempt` failed for a reason that may pass; the next one comes in `delay`.
pub fn retrying(
    previous: Option<&MigrationStatus>,
    attempt: u32,
    reason: &str,
    delay: Duration,
    give_up_at: &Time,
) -> MigrationStatus {
    let previous = previous.cloned().unwrap_or_default();
    MigrationStatus {
        stage: if previous.stage == MigrationStage::Final { MigrationStage::Initial } else { previous.stage },
        status: if previous.stage == MigrationStage::Applications {
            MigrationStatusType::InProgress
        } else {
            MigrationStatusType::Pending
        },
        migration_type: previous.migration_type.clone(),
        attempts: attempt,
        retrying_since: previous.retrying_since.clone().or_else(|| Some(now())),
        reason: format!(
            "{RETRYING}{reason} (attempt {attempt}; next in {}, failing for good after {})",
            stork_kube::duration::format_millis(delay),
            give_up_at.0
        ),
        ..Default::default()
    }
}

/// Terminal failure with `reason`.
pub fn failed(previous: Option<&MigrationStatus>, reason: &str) -> MigrationStatus {
    MigrationStatus {
        stage: MigrationStage::Final,
        status: MigrationStatusType::Failed,
        reason: stork_kube::bounded(reason, 2 * stork_kube::MAX_MESSAGE),
        finish_timestamp: Some(now()),
        attempts: previous.map(|s| s.attempts).unwrap_or_default(),
        retrying_since: previous.and_then(|s| s.retrying_since.clone()),
        ..Default::default()
    }
}

/// The final status of a run that completed; `details` names the ConfigMap with the complete list, if it
/// was written.
pub fn finished(
    running: &MigrationStatus,
    outcome: &Outcome,
    elapsed: Duration,
    details: Option<String>,
) -> MigrationStatus {
    let counts = outcome.counts.clone();
    let (resources, truncated) = bounded(&outcome.entries);
    let failed = counts.failed;
    let succeeded = counts.created + counts.updated + counts.unchanged;
    let finished = now();
    let mut reasons = Vec::new();
    if failed > 0 {
        reasons.push(format!(
            "{failed} of {} objects could not be applied on the destination; their reasons are in status.resources",
            counts.total
        ));
    }
    if !outcome.unreadable.is_empty() {
        reasons.push(unreadable_reason(&outcome.unreadable));
    }
    MigrationStatus {
        stage: MigrationStage::Final,
        status: if failed == 0 && outcome.unreadable.is_empty() {
            MigrationStatusType::Successful
        } else if succeeded > 0 || failed == 0 {
            MigrationStatusType::PartialSuccess
        } else {
            MigrationStatusType::Failed
        },
        reason: reasons.join("; "),
        summary: Some(MigrationSummary {
            total_number_of_resources: counts.total,
            num_of_migrated_resources: succeeded.min(counts.total),
            elapsed_time_for_volume_migration: "0s".to_string(),
            elapsed_time_for_resource_migration: stork_kube::duration::format_millis(elapsed),
            ..Default::default()
        }),
        resources,
        resources_truncated: truncated,
        resource_details: details.unwrap_or_default(),
        resource_counts: Some(counts),
        finish_timestamp: Some(finished.clone()),
        resource_migration_finish_timestamp: Some(finished),
        retrying_since: None,
        ..running.clone()
    }
}

/// Why objects of some types were not copied: the controller may not list them, and how to change that.
fn unreadable_reason(types: &[String]) -> String {
    format!(
        "the controller may not list {} on the source, so their objects were not copied: grant get and list on them \
         through a ClusterRole labelled stork-rs.io/aggregate-to-read: \"true\", or leave them out with \
         spec.excludeResourceTypes",
        types.join(", ")
    )
}

/// The name of the details ConfigMap of Migration `namespace/migration`, in the controller's namespace:
/// `<namespace>.<migration>-resources`, or for names too long for that, a digest of them.
pub fn details_name(namespace: &str, migration: &str) -> String {
    let name = format!("{namespace}.{migration}-resources");
    if name.len() <= 253 {
        return name;
    }
    let digest = stork_migrate::cache::fingerprint(&(namespace, migration));
    format!("{}-{digest:016x}-resources", &migration[..migration.len().min(200)].trim_end_matches(['.', '-']))
}

/// Annotation on a details ConfigMap: the UID of the Migration it belongs to.
const DETAILS_OWNER_UID: &str = "stork-rs.io/migration-uid";

/// Writes `status` (server-side apply of the status subresource).
pub async fn write(
    source: &Cluster,
    namespace: &str,
    name: &str,
    status: &MigrationStatus,
) -> Result<(), RequestError> {
    let api: Api<Migration> = Api::namespaced(source.client().clone(), namespace);
    let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "Migration", "status": status});
    let params = PatchParams::apply(FIELD_MANAGER).force();
    source
        .within(
            format!("writing the status of Migration {namespace}/{name}"),
            api.patch_status(name, &params, &Patch::Apply(patch)),
        )
        .await?;
    Ok(())
}

/// The progress counter only, for `storkctl ... --wait`.
pub async fn write_progress(
    source: &Cluster,
    namespace: &str,
    name: &str,
    base: &MigrationStatus,
    done: u64,
) -> Result<(), RequestError> {
    let mut status = base.clone();
    status.resource_counts = Some(ResourceCounts { processed: done, ..Default::default() });
    write(source, namespace, name, &status).await
}

/// Why the details ConfigMap was not written.
#[derive(Debug, thiserror::Error)]
pub enum DetailsError {
    #[error(
        "ConfigMap {namespace}/{name} exists and does not belong to this Migration; it was left alone and the complete resource list was not kept"
    )]
    NotOurs { namespace: String, name: String },
    #[error("{0}")]
    Request(#[from] RequestError),
    #[error("cannot compress the resource list: {0}")]
    Compress(#[from] std::io::Error),
}

/// Writes the complete per-resource list into the Migration's details ConfigMap in the controller's own
/// namespace (the only place the controller writes ConfigMaps), and returns `<namespace>/<name>`. It is
/// deleted with the Migration (see [`delete_details`]); one of that name that is not this Migration's
/// is never touched.
pub async fn write_details(
    source: &Cluster,
    home: &str,
    migration: &Migration,
    entries: &[stork_migrate::Entry],
) -> Result<String, DetailsError> {
    let name = details_name(&migration.namespace().unwrap_or_default(), &migration.name_any());
    let data = compressed_details(entries)?;
    let uid = migration.uid().unwrap_or_default();
    let cm = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(home.to_string()),
            labels: Some([(DETAILS_OF_MIGRATION.to_string(), "true".to_string())].into()),
            annotations: Some(
                [
                    (DETAILS_OWNER_UID.to_string(), uid.clone()),
                    (
                        stork_api::annotations::MIGRATION_NAMESPACE.to_string(),
                        migration.namespace().unwrap_or_default(),
                    ),
                    (stork_api::annotations::MIGRATION_NAME.to_string(), migration.name_any()),
                ]
                .into(),
            ),
            ..Default::default()
        },
        binary_data: Some([("resources.jsonl.gz".to_string(), k8s_openapi::ByteString(data))].into()),
        ..Default::default()
    };
    let api: Api<ConfigMap> = Api::namespaced(source.client().clone(), home);
    let what = || format!("writing ConfigMap {home}/{name}");
    let named = format!("{home}/{name}");
    match source.within(what(), api.create(&PostParams::default(), &cm)).await {
        Ok(_) => return Ok(named),
        Err(e) if e.code == Some(409) => {}
        Err(e) => return Err(e.into()),
    }
    let existing = source.within(what(), api.get(&name)).await?;
    if !is_details_of(&existing, &uid) {
        return Err(DetailsError::NotOurs { namespace: home.to_string(), name });
    }
    let mut replacement = cm;
    replacement.metadata.resource_version = existing.resource_version();
    source.within(what(), api.replace(&name, &PostParams::default(), &replacement)).await?;
    Ok(named)
}

/// Deletes the details ConfigMap of `migration` (gone or never written: nothing to do), never one that
/// belongs to another Migration.
pub async fn delete_details(source: &Cluster, home: &str, migration: &Migration) -> Result<(), RequestError> {
    let name = details_name(&migration.namespace().unwrap_or_default(), &migration.name_any());
    let uid = migration.uid().unwrap_or_default();
    let api: Api<ConfigMap> = Api::namespaced(source.client().clone(), home);
    let Some(existing) = source.within(format!("reading ConfigMap {home}/{name}"), api.get_opt(&name)).await? else {
        return Ok(());
    };
    if !is_details_of(&existing, &uid) {
        return Ok(());
    }
    match source
        .within(format!("deleting ConfigMap {home}/{name}"), api.delete(&name, &kube::api::DeleteParams::default()))
        .await
    {
        Err(e) if !e.is_not_found() => Err(e),
        _ => Ok(()),
    }
}

fn is_details_of(cm: &ConfigMap, uid: &str) -> bool {
    !uid.is_empty() && cm.annotations().get(DETAILS_OWNER_UID).is_some_and(|u| u == uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stork_migrate::{Entry, EntryResult, ObjectId, TypeKey};

    fn outcome(results: Vec<EntryResult>) -> Outcome {
        let key = std::sync::Arc::new(TypeKey::builtin("", "v1", "ConfigMap", "configmaps", true));
        let mut outcome = Outcome::default();
        for (i, result) in results.into_iter().enumerate() {
            outcome.record(Entry::new(ObjectId::new(&key, "ns", &format!("c{i}")), result));
        }
        outcome.finish_counts();
        outcome
    }

    #[test]
    fn the_final_status_says_what_happened() {
        let start = running(None, false, 1);
        let done = finished(
            &start,
            &outcome(vec![EntryResult::Created, EntryResult::Unchanged]),
            Duration::from_millis(1500),
            None,
        );
        assert_eq!((done.stage, done.status), (MigrationStage::Final, MigrationStatusType::Successful));
        assert_eq!(done.summary.as_ref().map(|s| s.elapsed_time_for_resource_migration.as_str()), Some("1.5s"));
        assert_eq!(done.migration_type, "Incremental");
        assert_eq!(done.attempts, 1);
        assert!(done.resource_details.is_empty(), "no details ConfigMap named unless written");
        let partial = finished(
            &start,
            &outcome(vec![EntryResult::Created, EntryResult::Failed("no".into())]),
            Duration::ZERO,
            None,
        );
        assert_eq!(partial.status, MigrationStatusType::PartialSuccess);
        assert!(partial.reason.starts_with("1 of 2 objects"), "{}", partial.reason);
        let none = finished(&start, &outcome(vec![EntryResult::Failed("no".into())]), Duration::ZERO, None);
        assert_eq!(none.status, MigrationStatusType::Failed);
    }

    #[test]
    fn retrying_keeps_the_first_failure_time_and_says_when_it_ends() {
        let give_up = now();
        let first =
            retrying(None, 1, "destination: listing configmaps: connection refused", Duration::from_secs(2), &give_up);
        assert_eq!(first.status, MigrationStatusType::Pending);
        assert!(
            first
                .reason
                .starts_with("retrying: destination: listing configmaps: connection refused (attempt 1; next in 2s"),
            "{}",
            first.reason
        );
        let since = first.retrying_since.clone().expect("since");
        let again = running(Some(&first), false, 2);
        assert_eq!(again.retrying_since, Some(since.clone()));
        assert!(again.reason.starts_with(RETRYING), "the reason stays visible while the attempt runs");
        let second = retrying(Some(&again), 2, "timeout", Duration::from_secs(4), &give_up);
        assert_eq!((second.stage, second.status), (MigrationStage::Applications, MigrationStatusType::InProgress));
        assert_eq!(second.retrying_since, Some(since));
        let done = finished(&running(Some(&second), false, 3), &outcome(vec![]), Duration::ZERO, None);
        assert_eq!((done.retrying_since, done.reason.as_str(), done.attempts), (None, "", 3));
        let gave_up = failed(Some(&second), &"x".repeat(10_000));
        assert!(gave_up.reason.len() <= 2 * stork_kube::MAX_MESSAGE);
        assert_eq!(gave_up.attempts, 2);
    }
}
