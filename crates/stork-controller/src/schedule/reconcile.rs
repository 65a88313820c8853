//! One look at a MigrationSchedule: bring its items up to date with their Migrations, keep the static
//! copy on the destination, create the next Migration when the policy fires (one in flight at a time),
//! prune what the policy does not retain, and say in status whether protection holds.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{OwnerReference, Time};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use serde_json::json;
use stork_api::annotations::{
    FIELD_MANAGER, MIGRATION_SCHEDULE_NAME, MIGRATION_TYPE, MIGRATION_TYPE_REASON, STATIC_COPY,
};
use stork_api::{
    ClusterPair, Migration, MigrationSchedule, MigrationScheduleStatus, MigrationStage, MigrationStatusType,
    SchedulePolicyType, ScheduledMigrationStatus,
};
use stork_migrate::schedule::{policy, series, trigger};

use super::Error;
use super::continuous;
use super::policies;
use super::progress::{consecutive_failures, history, last_success, names, running};
use super::static_copy::{self, Copy};
use crate::context::Context;

pub(super) async fn reconcile(schedule: &MigrationSchedule, ctx: &Arc<Context>) -> Result<Action, Error> {
    let namespace = schedule.namespace().ok_or(Error::NoNamespace)?;
    let name = schedule.name_any();
    // The copy on the destination never runs, even when resumed there.
    if schedule.annotations().contains_key(STATIC_COPY) {
        return Ok(Action::await_change());
    }
    let resync = ctx.settings.schedule_resync_interval;
    let tz = &ctx.settings.schedule_time_zone;
    let now = ctx.clock.now();
    // `status.continuous` is the sync's own to write (another field manager): never written from here.
    let old = MigrationScheduleStatus { continuous: None, ..schedule.status.clone().unwrap_or_default() };
    let mut status = old.clone();
    status.time_zone = tz.iana_name().unwrap_or("Local").to_string();

    refresh_items(ctx, schedule, &mut status).await?;
    status.last_success_timestamp = last_success(&status.items).map(Time);
    status.consecutive_failures = consecutive_failures(&status.items);

    let found = policies::find(&ctx.source, &namespace, &schedule.spec.schedule_policy_name).await?;
    let policy = match found.map(|f| (policy::validate(&f.policy).map_err(|e| format!("{}: {e}", f.source)), f)) {
        None => Err(format!(
            "schedule policy {:?} not found: neither a NamespacedSchedulePolicy in {namespace} nor a SchedulePolicy; create it or correct spec.schedulePolicyName",
            schedule.spec.schedule_policy_name
        )),
        Some((Err(e), _)) => Err(format!("Error checking if migration should be triggered: {e}")),
        Some((Ok(()), found)) => Ok(found.policy),
    };
    let policy = match policy {
        Ok(policy) => policy,
        Err(message) => {
            if status.message != message {
                publish(ctx, schedule, true, "InvalidPolicy", &message).await;
            }
            status.message = message;
            status.next_trigger_timestamp = None;
            stop_continuous(ctx, schedule).await;
            write_status(ctx, &namespace, &name, &old, &status).await?;
            ctx.metrics.set_schedule(&namespace, &name, &status, now);
            ctx.metrics.set_schedule_period(&namespace, &name, None);
            return Ok(Action::requeue(resync));
        }
    };

    let suspended = keep_static_copy(ctx, schedule, &mut status).await || schedule.spec.suspend == Some(true);
    match policy::continuous(&policy) {
        Some(continuous) if !suspended => ctx.continuous.ensure(ctx, schedule, continuous),
        // Suspended (by a failover, say): what is pending is written first, and status says so.
        Some(_) => ctx.continuous.drain(&namespace, &name),
        None => stop_continuous(ctx, schedule).await,
    }
    let mut requeue = resync;
    if suspended {
        status.next_trigger_timestamp = None;
        status.message = "suspended".to_string();
    } else {
        let created = schedule.creation_timestamp().map(|t| t.0).unwrap_or(now);
        let in_flight = status.items.values().flatten().any(running);
        let due = if in_flight { None } else { trigger::due(&policy, &history(&status, created), now, tz) };
        if let Some(due) = due {
            start_migration(ctx, schedule, &mut status, due, now).await?;
        } else if !in_flight && status.message.starts_with("started") && !status.message.contains(" late by ") {
            // How late the last run started stays until the next one; that it started does not.
            status.message.clear();
        }
        status.next_trigger_timestamp = trigger::next(&policy, &history(&status, created), now, tz).map(Time);
        if let Some(next) = &status.next_trigger_timestamp {
            let wait = Duration::try_from(next.0.duration_since(now)).unwrap_or_default();
            requeue = requeue.min(wait.max(Duration::from_secs(1)));
        }
    }
    prune(ctx, schedule, &policy, &mut status).await?;
    write_status(ctx, &namespace, &name, &old, &status).await?;
    ctx.metrics.set_schedule(&namespace, &name, &status, now);
    ctx.metrics.set_schedule_period(&namespace, &name, policy::period(&policy));
    Ok(Action::requeue(requeue))
}

/// Stops the schedule's continuous sync, if one runs, and removes what it said in status.
async fn stop_continuous(ctx: &Context, schedule: &MigrationSchedule) {
    let (namespace, name) = (schedule.namespace().unwrap_or_default(), schedule.name_any());
    let stopped = ctx.continuous.stop(&namespace, &name);
    if stopped || schedule.status.as_ref().is_some_and(|s| s.continuous.is_some()) {
        continuous::clear_status(ctx, &namespace, &name).await;
    }
}

/// Items follow their Migrations' status; a finished one gets its finish time and an event.
async fn refresh_items(
    ctx: &Context,
    schedule: &MigrationSchedule,
    status: &mut MigrationScheduleStatus,
) -> Result<(), Error> {
    let namespace = schedule.namespace().unwrap_or_default();
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    for item in status.items.values_mut().flatten().filter(|i| running(i)) {
        let what = format!("reading Migration {namespace}/{}", item.name);
        let Some(migration) = ctx.source.within(what, api.get_opt(&item.name)).await? else {
            item.status = MigrationStatusType::Failed;
            item.finish_timestamp = Some(Time(ctx.clock.now()));
            let message = format!("Scheduled migration ({}) status Failed: the Migration is gone", item.name);
            publish(ctx, schedule, true, "Failed", &message).await;
            continue;
        };
        let Some(m) = migration.status else { continue };
        if m.stage != MigrationStage::Final {
            item.status =
                if m.status == MigrationStatusType::Initial { MigrationStatusType::Pending } else { m.status };
            continue;
        }
        item.status = m.status;
        item.finish_timestamp = m.finish_timestamp.or_else(|| Some(Time(ctx.clock.now())));
        let (warning, reason, message) = match m.status {
            MigrationStatusType::Successful => {
                (false, "Successful", format!("Scheduled migration ({}) completed successfully", item.name))
            }
            other => (true, "Failed", format!("Scheduled migration ({}) status {}", item.name, other.as_str())),
        };
        publish(ctx, schedule, warning, reason, &message).await;
    }
    Ok(())
}

/// Keeps the copy on the destination; returns true when the schedule must stop (its applications were
/// activated on the destination and it asks to suspend itself then). A destination out of reach does not
/// stop the schedule: the Migration would find it out of reach too, and says so.
async fn keep_static_copy(ctx: &Context, schedule: &MigrationSchedule, status: &mut MigrationScheduleStatus) -> bool {
    let namespace = schedule.namespace().unwrap_or_default();
    let pair_name = &schedule.spec.template.spec.cluster_pair;
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), &namespace);
    let pair = match ctx
        .source
        .within(format!("reading ClusterPair {namespace}/{pair_name}"), pairs.get_opt(pair_name))
        .await
    {
        Ok(Some(pair))
            if pair.status.as_ref().is_some_and(|s| s.scheduler_status == stork_api::ClusterPairStatusType::Ready) =>
        {
            pair
        }
        _ => return false,
    };
    let Ok(remote) = ctx.remotes.get(&pair).await else { return false };
    let destination = stork_kube::Cluster::new(remote.client, "destination", ctx.settings.request_timeout);
    match static_copy::sync(&destination, schedule).await {
        Ok(Copy::Synced { activated: true }) if schedule.spec.auto_suspend && schedule.spec.suspend != Some(true) => {
            let api: Api<MigrationSchedule> = Api::namespaced(ctx.client.clone(), &namespace);
            let patch = json!({"spec": {"suspend": true}});
            let what = format!("suspending MigrationSchedule {namespace}/{}", schedule.name_any());
            if ctx
                .source
                .within(what, api.patch(&schedule.name_any(), &PatchParams::default(), &Patch::Merge(&patch)))
                .await
                .is_ok()
            {
                let message = "Suspending migration schedule since migrated apps on remote cluster are active";
                publish(ctx, schedule, true, "Suspended", message).await;
            }
            true
        }
        Ok(Copy::Synced { .. }) => false,
        Ok(Copy::Foreign) => {
            let message =
                "a non static-copy migrationSchedule with the same name and namespace found in the remote cluster";
            if !status.message.contains(message) {
                publish(ctx, schedule, true, "StaticCopy", message).await;
            }
            false
        }
        Err(e) => {
            tracing::warn!(schedule = %format!("{namespace}/{}", schedule.name_any()), error = %e, "static copy not updated");
            false
        }
    }
}

/// Records the item first (so a crash cannot create a Migration the schedule does not know), then
/// creates the Migration.
async fn start_migration(
    ctx: &Context,
    schedule: &MigrationSchedule,
    status: &mut MigrationScheduleStatus,
    due: trigger::Due,
    now: Timestamp,
) -> Result<(), Error> {
    let namespace = schedule.namespace().unwrap_or_default();
    let name = schedule.name_any();
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), &namespace);
    let pair_name = &schedule.spec.template.spec.cluster_pair;
    let pair =
        ctx.source.within(format!("reading ClusterPair {namespace}/{pair_name}"), pairs.get_opt(pair_name)).await?;
    let mode = pair.as_ref().and_then(|p| p.spec.options.get(stork_api::OPTION_MODE)).map(String::as_str);
    let sequence = status.migrations_created + 1;
    let (full, reason) = series::full_or_incremental(sequence, &name, mode);
    let migration_name =
        series::migration_name(&name, due.kind, now, &ctx.settings.schedule_time_zone, &names(&status.items));
    status.items.entry(due.kind).or_default().push(ScheduledMigrationStatus {
        name: migration_name.clone(),
        creation_timestamp: Some(Time(now)),
        finish_timestamp: None,
        status: MigrationStatusType::Pending,
        scheduled_timestamp: Some(Time(due.scheduled)),
    });
    status.migrations_created = sequence;
    status.message = match due.lateness(now) {
        Some(late) => format!(
            "started {migration_name} late by {} (due at {}; the controller was not running or the schedule was waiting)",
            stork_kube::duration::format(Duration::try_from(late).unwrap_or_default()),
            due.scheduled
        ),
        None => format!("started {migration_name}"),
    };
    write_status(ctx, &namespace, &name, &MigrationScheduleStatus::default(), status).await?;

    let mut annotations = schedule.annotations().clone();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.insert(MIGRATION_SCHEDULE_NAME.to_string(), name.clone());
    annotations.insert(MIGRATION_TYPE_REASON.to_string(), reason.clone());
    if full {
        annotations.insert(MIGRATION_TYPE.to_string(), "full".to_string());
    } else {
        annotations.remove(MIGRATION_TYPE);
    }
    let owner = OwnerReference {
        api_version: stork_api::API_VERSION.to_string(),
        kind: "MigrationSchedule".to_string(),
        name: name.clone(),
        uid: schedule.uid().unwrap_or_default(),
        ..Default::default()
    };
    let mut migration = Migration::new(&migration_name, schedule.spec.template.spec.clone());
    migration.metadata.namespace = Some(namespace.clone());
    migration.metadata.annotations = Some(annotations);
    migration.metadata.owner_references = Some(vec![owner]);
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = format!("creating Migration {namespace}/{migration_name}");
    ctx.source.within(what, api.create(&PostParams::default(), &migration)).await?;
    tracing::info!(schedule = %format!("{namespace}/{name}"), migration = %migration_name, kind = ?due.kind, %reason, "scheduled migration started");
    publish(ctx, schedule, false, "Triggered", &format!("Created migration {migration_name} ({reason})")).await;
    Ok(())
}

/// Deletes the Migrations the policy does not retain (with their details ConfigMaps), per policy type.
async fn prune(
    ctx: &Context,
    schedule: &MigrationSchedule,
    policy: &stork_api::SchedulePolicyItem,
    status: &mut MigrationScheduleStatus,
) -> Result<(), Error> {
    let namespace = schedule.namespace().unwrap_or_default();
    let migrations: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut kept: BTreeMap<SchedulePolicyType, Vec<ScheduledMigrationStatus>> = BTreeMap::new();
    for (kind, items) in std::mem::take(&mut status.items) {
        let retain = if policy::kinds(policy).contains(&kind) { policy::retain(policy, kind) } else { 1 };
        let gone = series::to_prune(&items, retain);
        for name in &gone {
            delete_migration(ctx, &migrations, &namespace, name).await?;
        }
        kept.insert(kind, items.into_iter().filter(|i| !gone.contains(&i.name)).collect());
    }
    kept.retain(|_, items| !items.is_empty());
    status.items = kept;
    Ok(())
}

/// Deletes a Migration (its finalizer takes its details ConfigMap along).
pub(super) async fn delete_migration(
    ctx: &Context,
    api: &Api<Migration>,
    namespace: &str,
    name: &str,
) -> Result<(), Error> {
    match ctx
        .source
        .within(format!("deleting Migration {namespace}/{name}"), api.delete(name, &DeleteParams::background()))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code == Some(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes the status when it changed.
async fn write_status(
    ctx: &Context,
    namespace: &str,
    name: &str,
    old: &MigrationScheduleStatus,
    status: &MigrationScheduleStatus,
) -> Result<(), Error> {
    if old == status {
        return Ok(());
    }
    let api: Api<MigrationSchedule> = Api::namespaced(ctx.client.clone(), namespace);
    let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "MigrationSchedule", "status": status});
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let what = format!("writing the status of MigrationSchedule {namespace}/{name}");
    ctx.source.within(what, api.patch_status(name, &params, &Patch::Apply(patch))).await?;
    Ok(())
}

async fn publish(ctx: &Context, schedule: &MigrationSchedule, warning: bool, reason: &str, message: &str) {
    ctx.publish(schedule, "Scheduling", warning, reason, message).await;
}
