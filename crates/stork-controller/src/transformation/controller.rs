//! The ResourceTransformation controller's wiring: transformations watched whole (they are few and
//! small), ClusterPairs watched so that a pair's change re-checks the transformations of its namespace.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::Api;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Action as Requeue, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use stork_api::{ClusterPair, ResourceTransformation};

use super::Error;
use crate::context::Context;

pub async fn run(ctx: Arc<Context>, shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static) {
    let transformations: Api<DeserializeGuard<ResourceTransformation>> = Api::all(ctx.client.clone());
    let pairs: Api<ClusterPair> = Api::all(ctx.client.clone());
    let controller = Controller::new(transformations, watcher::Config::default().any_semantic());
    let store = controller.store();
    controller
        .watches(pairs, watcher::Config::default().any_semantic(), move |pair| {
            let namespace = pair.namespace();
            store
                .state()
                .into_iter()
                .filter(|rt| rt.meta().namespace == namespace)
                .map(|rt| ObjectRef::from_obj(&*rt))
                .collect::<Vec<_>>()
        })
        .with_config(kube::runtime::controller::Config::default().concurrency(2))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %stork_kube::error_chain(&e), "ResourceTransformation reconcile failed");
            }
        })
        .await;
}

fn error_policy(_rt: Arc<DeserializeGuard<ResourceTransformation>>, _e: &Error, _ctx: Arc<Context>) -> Requeue {
    Requeue::requeue(Duration::from_secs(10))
}

async fn reconcile(
    guarded: Arc<DeserializeGuard<ResourceTransformation>>,
    ctx: Arc<Context>,
) -> Result<Requeue, Error> {
    let measuring = ctx.clone();
    measuring.measured("resourcetransformation", reconcile_once(guarded, ctx)).await
}

async fn reconcile_once(
    guarded: Arc<DeserializeGuard<ResourceTransformation>>,
    ctx: Arc<Context>,
) -> Result<Requeue, Error> {
    let (namespace, name) = match &guarded.0 {
        Ok(rt) => (rt.namespace().ok_or(Error::NoNamespace)?, rt.name_any()),
        Err(invalid) => {
            tracing::warn!(error = %invalid.error, name = ?invalid.metadata.name, "malformed ResourceTransformation");
            return Ok(Requeue::await_change());
        }
    };
    let api: Api<ResourceTransformation> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = format!("reading ResourceTransformation {namespace}/{name}");
    let Some(fresh) = ctx.source.within(what, api.get_opt(&name)).await? else { return Ok(Requeue::await_change()) };
    super::reconcile::reconcile(&fresh, &ctx).await
}
