//! One look at an Action: run its stages from where its status says, one after the other, writing the
//! status after each; a stage that waits (for pods to stop, for the last-mile Migration) or meets a
//! cluster that is busy or out of reach is looked at again shortly, until the stage timeout fails it.

use std::collections::BTreeSet;
use std::time::Duration;

use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action as Requeue;
use serde_json::json;
use stork_api::annotations::FIELD_MANAGER;
use stork_api::{Action, ActionStage, ActionStatus, ActionStatusType, ActionType, MigrationSchedule};
use stork_kube::Cluster;

use super::Error;
use super::flow::{self, Direction, Next, Step};
use super::record;
use super::sides::{Sides, Unreachable, reach};
use super::steps::{self, Run, StepResult};
use crate::context::Context;

/// How soon a waiting stage is looked at again.
const POLL: Duration = Duration::from_millis(500);
/// How soon a stage that met a transient error is tried again.
const RETRY: Duration = Duration::from_secs(3);

pub(super) async fn reconcile(action: &Action, ctx: &Context) -> Result<Requeue, Error> {
    let mut status = action.status.clone().unwrap_or_default();
    if status.stage == ActionStage::Final {
        return Ok(Requeue::await_change());
    }
    let mut written = status.clone();
    let direction = match action.spec.action_type {
        ActionType::Failover => Direction::Failover,
        ActionType::Failback => Direction::Failback,
        ActionType::NearsyncFailover => {
            let reason = "nearsyncFailover promotes volumes through a storage driver, which stork-rs does not have; use \
                          actionType failover";
            fail_now(ctx, action, &mut status, reason);
            write(ctx, action, &written, &status).await?;
            return Ok(Requeue::await_change());
        }
    };
    let run = match prepare(ctx, action, direction, &status).await? {
        Ok(run) => run,
        Err(reason) => {
            fail_now(ctx, action, &mut status, &reason);
            publish(ctx, action, true, "Failed", &reason).await;
            write(ctx, action, &written, &status).await?;
            return Ok(Requeue::await_change());
        }
    };
    let timeout = ctx.settings.action_stage_timeout;
    loop {
        let step = match flow::resume(direction, &status) {
            Next::Finish(outcome) => {
                record::finish(&mut status, outcome, ctx.clock.now());
                let message = format!("{} {}", kind(direction), outcome.as_str());
                publish(ctx, action, outcome != ActionStatusType::Successful, "Final", &message).await;
                tracing::info!(action = %format!("{}/{}", run.namespace, run.action), status = outcome.as_str(), "action finished");
                write(ctx, action, &written, &status).await?;
                return Ok(Requeue::await_change());
            }
            Next::Run(step) => step,
        };
        let stage = direction.stage(step);
        if status.stage != stage || status.status != ActionStatusType::InProgress {
            record::begin(&mut status, stage, ctx.clock.now());
            write(ctx, action, &written, &status).await?;
            written = status.clone();
        }
        let result = steps::run(step, &run, ctx, &mut status).await;
        let now = ctx.clock.now();
        let (ok, reason) = match result {
            Ok(StepResult::Done(reason)) => (true, reason),
            Ok(StepResult::SkipSource(why)) => {
                record::end(&mut status, flow::ended(step, true), &why, now);
                let skipped = [Step::ScaleDown, Step::WaitIdle, Step::LastMile].map(|s| direction.stage(s));
                record::skip(&mut status, &skipped, &why);
                status.reason = format!("source steps skipped: {why}");
                publish(ctx, action, true, "SourceSkipped", &why).await;
                write(ctx, action, &written, &status).await?;
                written = status.clone();
                continue;
            }
            Ok(StepResult::Failed(reason)) => (false, reason),
            Ok(StepResult::Waiting(what)) => match overdue(&status, now, timeout) {
                Some(after) => (false, format!("{what}; gave up after {after}")),
                None => {
                    record::note(&mut status, &what);
                    write(ctx, action, &written, &status).await?;
                    return Ok(Requeue::requeue(POLL));
                }
            },
            Err(e) if e.is_transient() => match overdue(&status, now, timeout) {
                Some(after) => (false, format!("{e}; gave up after {after}")),
                None => {
                    record::note(&mut status, &format!("retrying: {e}"));
                    write(ctx, action, &written, &status).await?;
                    return Ok(Requeue::requeue(RETRY));
                }
            },
            Err(e) => (false, e.to_string()),
        };
        record::end(&mut status, flow::ended(step, ok), &reason, now);
        if !ok && !flow::is_rollback(step) {
            status.reason = stork_kube::bounded(&reason, 2 * stork_kube::MAX_MESSAGE);
        }
        if !ok
            && step == Step::Validate
            && let Err(e) = steps::undo_validation(&run).await
        {
            tracing::warn!(error = %e, "cannot resume the schedule a failed validation suspended");
        }
        let label = if stage == ActionStage::Initial { "Validations" } else { stage.as_str() };
        publish(ctx, action, !ok, label, &format!("{}: {reason}", flow::ended(step, ok).as_str())).await;
        write(ctx, action, &written, &status).await?;
        written = status.clone();
    }
}

fn kind(direction: Direction) -> &'static str {
    match direction {
        Direction::Failover => "failover",
        Direction::Failback => "failback",
    }
}

/// How long the running stage has taken, once that is longer than `timeout`.
fn overdue(status: &ActionStatus, now: jiff::Timestamp, timeout: Duration) -> Option<String> {
    let started = record::started(status)?;
    let taken = Duration::try_from(now.duration_since(started)).unwrap_or_default();
    (taken > timeout).then(|| stork_kube::duration::format(timeout))
}

/// Ends the Action before any stage ran.
fn fail_now(ctx: &Context, _action: &Action, status: &mut ActionStatus, reason: &str) {
    let now = ctx.clock.now();
    record::begin(status, status.stage, now);
    record::end(status, ActionStatusType::Failed, reason, now);
    status.reason = stork_kube::bounded(reason, 2 * stork_kube::MAX_MESSAGE);
    record::finish(status, ActionStatusType::Failed, now);
}

/// What the steps need, or why the Action cannot run at all.
async fn prepare(
    ctx: &Context,
    action: &Action,
    direction: Direction,
    status: &ActionStatus,
) -> Result<Result<Run, String>, Error> {
    let namespace = action.namespace().ok_or(Error::NoNamespace)?;
    let parameter = &action.spec.action_parameter;
    let (reference, wanted, skip_source, force, field) = match direction {
        Direction::Failover => {
            let p = parameter.failover_parameter.clone().unwrap_or_default();
            let skip = p.skip_source_operations == Some(true);
            (p.migration_schedule_reference, p.failover_namespaces, skip, p.force == Some(true), "failoverParameter")
        }
        Direction::Failback => {
            let p = parameter.failback_parameter.clone().unwrap_or_default();
            (p.migration_schedule_reference, p.failback_namespaces, false, p.force == Some(true), "failbackParameter")
        }
    };
    if reference.is_empty() {
        return Ok(Err(format!(
            "spec.actionParameter.{field}.migrationScheduleReference is empty: name the MigrationSchedule whose namespaces to switch"
        )));
    }
    let schedules: Api<MigrationSchedule> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = format!("reading MigrationSchedule {namespace}/{reference}");
    let Some(schedule) = ctx.source.within(what, schedules.get_opt(&reference)).await? else {
        return Ok(Err(format!("MigrationSchedule {namespace}/{reference} not found on this cluster")));
    };
    let migrated: BTreeSet<String> = schedule.spec.template.spec.namespaces.iter().cloned().collect();
    if migrated.is_empty() {
        return Ok(Err(format!(
            "MigrationSchedule {namespace}/{reference} names no namespaces (spec.template.spec.namespaces); a switch needs them by name"
        )));
    }
    let namespaces: BTreeSet<String> = if wanted.is_empty() { migrated.clone() } else { wanted.into_iter().collect() };
    let strangers: Vec<&String> = namespaces.difference(&migrated).collect();
    if !strangers.is_empty() {
        return Ok(Err(format!(
            "namespaces {strangers:?} are not migrated by MigrationSchedule {namespace}/{reference}; list only namespaces it migrates"
        )));
    }
    let local = Cluster::new(ctx.client.clone(), "destination", ctx.settings.request_timeout);
    let skipped_before = status.stages.iter().find(|r| r.skipped).map(|r| r.reason.clone());
    let pair = &schedule.spec.template.spec.cluster_pair;
    let (remote, unreachable) = match skipped_before {
        Some(why) => (Err(why.clone()), Some(Unreachable::Down(why))),
        None if skip_source => (
            Err("skipSourceOperations is set".to_string()),
            Some(Unreachable::Down("skipSourceOperations is set".into())),
        ),
        None => match reach(ctx, &namespace, pair).await {
            Ok(cluster) => (Ok(cluster), None),
            Err(e) => (Err(e.to_string()), Some(e)),
        },
    };
    let uid = action.uid().unwrap_or_default();
    Ok(Ok(Run {
        direction,
        namespace,
        action: action.name_any(),
        uid7: uid.chars().take(7).collect(),
        schedule,
        namespaces,
        sides: Sides { local, remote },
        unreachable,
        skip_source,
        force,
    }))
}

/// Writes the status when it changed.
async fn write(ctx: &Context, action: &Action, old: &ActionStatus, status: &ActionStatus) -> Result<(), Error> {
    if old == status {
        return Ok(());
    }
    let (namespace, name) = (action.namespace().unwrap_or_default(), action.name_any());
    let api: Api<Action> = Api::namespaced(ctx.client.clone(), &namespace);
    let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "Action", "status": status});
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let what = format!("writing the status of Action {namespace}/{name}");
    ctx.source.within(what, api.patch_status(&name, &params, &Patch::Apply(patch))).await?;
    Ok(())
}

async fn publish(ctx: &Context, action: &Action, warning: bool, reason: &str, message: &str) {
    ctx.publish(action, "Switching", warning, reason, message).await;
}
