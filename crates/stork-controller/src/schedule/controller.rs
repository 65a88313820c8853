//! The MigrationSchedule controller's wiring: schedules watched whole (they are small), woken as well by
//! the Migrations they own, read fresh before each look so that a schedule never acts on a status older
//! than its own last write, with the finalizer around it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::Api;
use kube::core::{DeserializeGuard, PartialObjectMeta};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::{WatchStreamExt, watcher};
use stork_api::{FINALIZER, Migration, MigrationSchedule};

use super::Error;
use super::reconcile::{delete_migration, reconcile as look};
use crate::context::Context;

pub async fn run(ctx: Arc<Context>, shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static) {
    let schedules: Api<DeserializeGuard<MigrationSchedule>> = Api::all(ctx.client.clone());
    let migrations: Api<PartialObjectMeta<Migration>> = Api::all(ctx.client.clone());
    let owned = watcher(migrations, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(|m: &mut PartialObjectMeta<Migration>| m.managed_fields_mut().clear())
        .touched_objects();
    Controller::new(schedules, watcher::Config::default().any_semantic())
        .owns_stream(owned)
        .with_config(kube::runtime::controller::Config::default().concurrency(4))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %stork_kube::error_chain(&e), "MigrationSchedule reconcile failed");
            }
        })
        .await;
}

fn error_policy(_s: Arc<DeserializeGuard<MigrationSchedule>>, _e: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(10))
}

async fn reconcile(guarded: Arc<DeserializeGuard<MigrationSchedule>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let measuring = ctx.clone();
    measuring.measured("migrationschedule", reconcile_once(guarded, ctx)).await
}

async fn reconcile_once(guarded: Arc<DeserializeGuard<MigrationSchedule>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let (namespace, name) = match &guarded.0 {
        Ok(s) => (s.namespace().ok_or(Error::NoNamespace)?, s.name_any()),
        Err(invalid) => {
            tracing::warn!(error = %invalid.error, name = ?invalid.metadata.name, "malformed MigrationSchedule");
            return Ok(Action::await_change());
        }
    };
    let api: Api<MigrationSchedule> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = format!("reading MigrationSchedule {namespace}/{name}");
    let Some(fresh) = ctx.source.within(what, api.get_opt(&name)).await? else { return Ok(Action::await_change()) };
    finalizer(&api, FINALIZER, Arc::new(fresh), |event| async {
        match event {
            FinalizerEvent::Apply(s) => look(&s, &ctx).await,
            FinalizerEvent::Cleanup(s) => cleanup(&s, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

/// A deleted schedule takes its Migrations with it (as Stork); the static copy on the destination stays,
/// since a failover may need it.
async fn cleanup(schedule: &MigrationSchedule, ctx: &Context) -> Result<Action, Error> {
    let namespace = schedule.namespace().unwrap_or_default();
    ctx.continuous.stop(&namespace, &schedule.name_any());
    let migrations: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    let names: Vec<String> = match &schedule.status {
        Some(status) => status.items.values().flatten().map(|i| i.name.clone()).collect(),
        None => Vec::new(),
    };
    for name in names {
        delete_migration(ctx, &migrations, &namespace, &name).await?;
    }
    ctx.metrics.forget_schedule(&namespace, &schedule.name_any());
    Ok(Action::await_change())
}
