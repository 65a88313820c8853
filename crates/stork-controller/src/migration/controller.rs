//! The Migration controller's wiring: a metadata-only watch (whole Migrations, with statuses of hundreds
//! of entries, are never cached; a reconcile reads the one it works on), triggered by spec changes and
//! deletions but not by its own status writes, with the finalizer around each attempt.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams};
use kube::core::{DeserializeGuard, PartialObjectMeta};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::reflector;
use kube::runtime::{WatchStreamExt, predicates, watcher};
use kube::{Resource, ResourceExt};
use serde_json::json;
use stork_api::{FINALIZER, Migration};

use super::Error;
use super::attempt::{attempt, schedule_of};
use crate::context::Context;

/// Migrations worked on at once.
const CONCURRENT_MIGRATIONS: u16 = 4;

pub async fn run(ctx: Arc<Context>, shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static) {
    let api: Api<PartialObjectMeta<Migration>> = Api::all(ctx.client.clone());
    let (reader, writer) = reflector::store();
    let triggers = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        // Ownership records are the bulk of metadata and nothing here reads them.
        .modify(|m: &mut PartialObjectMeta<Migration>| m.managed_fields_mut().clear())
        .reflect(writer)
        .applied_objects()
        .predicate_filter(spec_or_deletion, Default::default());
    Controller::for_stream(triggers, reader)
        .with_config(kube::runtime::controller::Config::default().concurrency(CONCURRENT_MIGRATIONS))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %stork_kube::error_chain(&e), "Migration reconcile failed");
            }
        })
        .await;
}

/// Changes that call for a reconcile: the spec (generation) and the start of a deletion. Status writes,
/// ours included, do not: a retry waits for its backoff instead of being woken by its own status.
fn spec_or_deletion(meta: &PartialObjectMeta<Migration>) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    (predicates::generation(meta), meta.metadata.deletion_timestamp.is_some()).hash(&mut hasher);
    Some(hasher.finish())
}

fn error_policy(_m: Arc<PartialObjectMeta<Migration>>, _e: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(10))
}

async fn reconcile(meta: Arc<PartialObjectMeta<Migration>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let measuring = ctx.clone();
    measuring.measured("migration", reconcile_once(meta, ctx)).await
}

async fn reconcile_once(meta: Arc<PartialObjectMeta<Migration>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = meta.namespace().ok_or(Error::NoNamespace)?;
    let name = meta.name_any();
    let guarded: Api<DeserializeGuard<Migration>> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = || format!("reading Migration {namespace}/{name}");
    let Some(guarded) = ctx.source.within(what(), guarded.get_opt(&name)).await? else {
        return Ok(Action::await_change());
    };
    let migration = match guarded.0 {
        Ok(m) => m,
        Err(invalid) => {
            tracing::warn!(error = %invalid.error, migration = %format!("{namespace}/{name}"), "malformed Migration");
            return Ok(Action::await_change());
        }
    };
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    // Add the finalizer here and carry on, instead of waiting for the watch to bring the change back.
    let migration =
        if migration.meta().deletion_timestamp.is_none() && !migration.finalizers().iter().any(|f| f == FINALIZER) {
            let patch = if migration.finalizers().is_empty() {
                json!([{"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]}])
            } else {
                json!([{"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER}])
            };
            let patch: json_patch::Patch =
                serde_json::from_value(patch).map_err(|e| Error::Kube(kube::Error::SerdeError(e)))?;
            let what = || format!("adding the finalizer to Migration {namespace}/{name}");
            ctx.source.within(what(), api.patch(&name, &PatchParams::default(), &Patch::<()>::Json(patch))).await?
        } else {
            migration
        };
    finalizer(&api, FINALIZER, Arc::new(migration), |event| async {
        match event {
            FinalizerEvent::Apply(m) => attempt(&m, &ctx).await,
            FinalizerEvent::Cleanup(m) => {
                super::status::delete_details(&ctx.source, &ctx.settings.controller_namespace, &m).await?;
                ctx.metrics.forget_migration(&m.namespace().unwrap_or_default(), &m.name_any(), &schedule_of(&m));
                Ok(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}
