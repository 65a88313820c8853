//! The Action controller's wiring: Actions watched whole (they are few and small) and read fresh before
//! each look. There is no finalizer: deleting an Action stops it and cleans nothing, as in Stork (what a
//! half-done switch changed is in its status, and a new Action can finish or undo it).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::watcher;
use stork_api::Action;

use super::Error;
use super::reconcile::reconcile as look;
use crate::context::Context;

pub async fn run(ctx: Arc<Context>, shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static) {
    let actions: Api<DeserializeGuard<Action>> = Api::all(ctx.client.clone());
    Controller::new(actions, watcher::Config::default().any_semantic())
        .with_config(kube::runtime::controller::Config::default().concurrency(2))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %stork_kube::error_chain(&e), "Action reconcile failed");
            }
        })
        .await;
}

fn error_policy(_a: Arc<DeserializeGuard<Action>>, _e: &Error, _ctx: Arc<Context>) -> Requeue {
    Requeue::requeue(Duration::from_secs(5))
}

async fn reconcile(guarded: Arc<DeserializeGuard<Action>>, ctx: Arc<Context>) -> Result<Requeue, Error> {
    let measuring = ctx.clone();
    measuring.measured("action", reconcile_once(guarded, ctx)).await
}

async fn reconcile_once(guarded: Arc<DeserializeGuard<Action>>, ctx: Arc<Context>) -> Result<Requeue, Error> {
    let (namespace, name) = match &guarded.0 {
        Ok(a) => (a.namespace().ok_or(Error::NoNamespace)?, a.name_any()),
        Err(invalid) => {
            tracing::warn!(error = %invalid.error, name = ?invalid.metadata.name, "malformed Action");
            return Ok(Requeue::await_change());
        }
    };
    let api: Api<Action> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = format!("reading Action {namespace}/{name}");
    let Some(fresh) = ctx.source.within(what, api.get_opt(&name)).await? else { return Ok(Requeue::await_change()) };
    look(&fresh, &ctx).await
}
