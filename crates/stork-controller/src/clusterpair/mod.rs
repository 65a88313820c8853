//! The ClusterPair controller: proves each destination is reachable and usable, keeps checking it, and
//! reports `schedulerStatus` / `storageStatus` with conditions, events on transitions and metrics.

mod probe;
pub mod status;

use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::core::error_boundary::InvalidObject;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;
use stork_api::{ClusterPair, ClusterPairStatus, ClusterPairStatusType, FINALIZER};

use crate::clock::now;
use crate::context::Context;
use status::{Outcome, check_options, next_status, transitions};

use stork_api::annotations::FIELD_MANAGER;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API error: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("ClusterPair has no namespace")]
    NoNamespace,
    #[error("storage unpairing failed: {0}")]
    StorageCleanup(String),
}

impl crate::error_kind::Classify for Error {
    fn kind(&self) -> crate::error_kind::ErrorKind {
        use crate::error_kind::ErrorKind;
        match self {
            Self::Kube(e) => e.kind(),
            Self::Finalizer(e) => e.kind(),
            Self::NoNamespace => ErrorKind::Invalid,
            Self::StorageCleanup(_) => ErrorKind::Transient,
        }
    }
}

/// Runs until `shutdown` resolves. `on_ready` is called once the ClusterPair cache is filled.
pub async fn run(
    ctx: Arc<Context>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
    on_ready: impl FnOnce() + Send + 'static,
) {
    let api: Api<DeserializeGuard<ClusterPair>> = Api::all(ctx.client.clone());
    // Status is written only when it changes, so our own status write costs one extra reconcile that
    // finds nothing to write; no loop.
    let controller = Controller::new(api, watcher::Config::default().any_semantic());
    let store = controller.store();
    tokio::spawn(async move {
        // The store's readiness is a oneshot that wakes only its most recent waiter, and the controller
        // itself waits on it too; polling again on a timer sees the value once it is set.
        loop {
            match tokio::time::timeout(std::time::Duration::from_millis(250), store.wait_until_ready()).await {
                Ok(Ok(())) => return on_ready(),
                Ok(Err(_)) => return,
                Err(_) => continue,
            }
        }
    });
    controller
        .with_config(kube::runtime::controller::Config::default().concurrency(10))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx.clone())
        .for_each(|result| async move {
            match result {
                Ok((pair, _)) => tracing::debug!(pair = %pair, "reconciled"),
                Err(e) => tracing::warn!(error = %stork_kube::error_chain(&e), "ClusterPair reconcile failed"),
            }
        })
        .await;
}

async fn reconcile(guarded: Arc<DeserializeGuard<ClusterPair>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let measuring = ctx.clone();
    measuring.measured("clusterpair", reconcile_once(guarded, ctx)).await
}

async fn reconcile_once(guarded: Arc<DeserializeGuard<ClusterPair>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let pair = match &guarded.0 {
        Ok(pair) => pair.clone(),
        Err(invalid) => return report_invalid(invalid, &ctx).await,
    };
    let namespace = pair.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, FINALIZER, Arc::new(pair), |event| async {
        match event {
            FinalizerEvent::Apply(pair) => apply(&pair, &ctx).await,
            FinalizerEvent::Cleanup(pair) => cleanup(&pair, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

fn error_policy(_pair: Arc<DeserializeGuard<ClusterPair>>, _error: &Error, ctx: Arc<Context>) -> Action {
    Action::requeue(ctx.settings.pair_retry_interval)
}

async fn apply(pair: &ClusterPair, ctx: &Context) -> Result<Action, Error> {
    let namespace = pair.namespace().ok_or(Error::NoNamespace)?;
    let name = pair.name_any();
    let old = pair.status.as_ref();
    let (storage, remote_storage_id) = check_storage(pair, ctx).await;
    let scheduler = check_scheduler(pair, ctx).await;
    let options = check_options(&pair.spec);
    let now = now();
    let mut new = next_status(old, &scheduler, &storage, &options, &remote_storage_id, pair.metadata.generation, &now);
    status::add_tls_condition(&mut new, old, &status::check_tls(&pair.spec.config), pair.metadata.generation, &now);
    if old != Some(&new) {
        write_status(ctx, &namespace, &name, &new).await?;
    }
    for transition in transitions(old, &new) {
        let event = Event {
            type_: if transition.warning { EventType::Warning } else { EventType::Normal },
            reason: transition.reason,
            note: Some(stork_kube::bounded(&transition.message, stork_kube::MAX_MESSAGE)),
            action: "Pairing".to_string(),
            secondary: None,
        };
        if let Err(e) = ctx.recorder.publish(&event, &pair.object_ref(&())).await {
            tracing::warn!(pair = %name, error = %e, "cannot publish event");
        }
    }
    ctx.metrics.set_pair_status(&namespace, &name, new.scheduler_status, new.storage_status);
    tracing::info!(
        pair = %format!("{namespace}/{name}"),
        scheduler = new.scheduler_status.as_str(),
        storage = new.storage_status.as_str(),
        message = %scheduler.message,
        "checked ClusterPair"
    );
    Ok(Action::requeue(if new.scheduler_status == ClusterPairStatusType::Ready {
        ctx.settings.pair_revalidate_interval
    } else {
        ctx.settings.pair_retry_interval
    }))
}

async fn check_storage(pair: &ClusterPair, ctx: &Context) -> (Outcome, String) {
    if !pair.spec.has_storage_options() {
        return (
            Outcome::new(
                ClusterPairStatusType::NotProvided,
                "NotProvided",
                "Skipping storage pairing since no storage options provided",
            ),
            String::new(),
        );
    }
    let Some(driver) = &ctx.storage else {
        return (
            Outcome::new(
                ClusterPairStatusType::Error,
                "NoStorageDriver",
                format!(
                    "spec.options asks for storage pairing ({}) but the controller runs without a storage driver; \
                     remove those options when both clusters share one storage fabric, or start stork with --storage-driver",
                    stork_api::STORAGE_PAIRING_OPTIONS
                        .iter()
                        .filter(|k| pair.spec.options.contains_key(**k))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            String::new(),
        );
    };
    let existing = pair
        .status
        .as_ref()
        .filter(|s| s.storage_status == ClusterPairStatusType::Ready && !s.remote_storage_id.is_empty());
    if let Some(status) = existing {
        return (
            Outcome::new(ClusterPairStatusType::Ready, "Paired", "Storage successfully paired"),
            status.remote_storage_id.clone(),
        );
    }
    match driver.create_pair(&pair.spec.options).await {
        Ok(paired) => (
            Outcome::new(ClusterPairStatusType::Ready, "Paired", "Storage successfully paired"),
            paired.remote_storage_id,
        ),
        Err(e) => (
            Outcome::new(
                ClusterPairStatusType::Error,
                "StoragePairingFailed",
                format!("storage driver {}: {e}", driver.name()),
            ),
            String::new(),
        ),
    }
}

async fn check_scheduler(pair: &ClusterPair, ctx: &Context) -> Outcome {
    let remote = match ctx.remotes.get(pair).await {
        Ok(remote) => remote,
        Err(e) => {
            return Outcome::new(ClusterPairStatusType::Error, "InvalidConfig", e.to_string());
        }
    };
    match probe::probe(&remote).await {
        Ok(version) => Outcome::new(
            ClusterPairStatusType::Ready,
            "Paired",
            format!("Scheduler successfully paired with {} (Kubernetes {version})", remote.server),
        ),
        Err(failure) => Outcome::new(ClusterPairStatusType::Error, failure.reason, failure.message),
    }
}

async fn cleanup(pair: &ClusterPair, ctx: &Context) -> Result<Action, Error> {
    let namespace = pair.namespace().ok_or(Error::NoNamespace)?;
    let name = pair.name_any();
    let remote_storage_id = pair.status.as_ref().map(|s| s.remote_storage_id.clone()).unwrap_or_default();
    if let Some(driver) = &ctx.storage
        && !remote_storage_id.is_empty()
        && let Err(e) = driver.delete_pair(&remote_storage_id).await
    {
        let event = Event {
            type_: EventType::Warning,
            reason: "Deleting".to_string(),
            note: Some(stork_kube::bounded(&format!("Cluster Pair delete failed: {e}"), stork_kube::MAX_MESSAGE)),
            action: "Unpairing".to_string(),
            secondary: None,
        };
        let _ = ctx.recorder.publish(&event, &pair.object_ref(&())).await;
        return Err(Error::StorageCleanup(e));
    }
    ctx.remotes.forget(&namespace, &name);
    ctx.metrics.forget_pair(&namespace, &name);
    tracing::info!(pair = %format!("{namespace}/{name}"), "ClusterPair deleted");
    Ok(Action::await_change())
}

/// A stored pair our types cannot read (e.g. written under Stork's schema-less CRD): say why in its
/// status instead of failing the whole watch.
async fn report_invalid(invalid: &InvalidObject, ctx: &Context) -> Result<Action, Error> {
    let (Some(namespace), Some(name)) = (&invalid.metadata.namespace, &invalid.metadata.name) else {
        return Ok(Action::await_change());
    };
    tracing::warn!(pair = %format!("{namespace}/{name}"), error = %invalid.error, "malformed ClusterPair");
    let resource = ApiResource::erase::<ClusterPair>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), namespace, &resource);
    let message = format!(
        "ClusterPair cannot be read: {}; fix the spec (kubectl edit clusterpair {name} -n {namespace})",
        invalid.error
    );
    let patch = json!({"status": {
        "schedulerStatus": "Error",
        "storageStatus": "",
        "remoteStorageId": "",
        "conditions": [{
            "type": stork_api::CONDITION_SCHEDULER_READY,
            "status": "False",
            "reason": "InvalidSpec",
            "message": stork_kube::bounded(&message, stork_kube::MAX_MESSAGE),
            "lastTransitionTime": now(),
        }],
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(patch)).await?;
    ctx.metrics.set_pair_status(namespace, name, ClusterPairStatusType::Error, ClusterPairStatusType::Initial);
    Ok(Action::await_change())
}

async fn write_status(ctx: &Context, namespace: &str, name: &str, status: &ClusterPairStatus) -> Result<(), Error> {
    let api: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), namespace);
    let patch = json!({
        "apiVersion": stork_api::API_VERSION,
        "kind": "ClusterPair",
        "status": status,
    });
    api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(patch)).await?;
    Ok(())
}
