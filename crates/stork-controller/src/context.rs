//! What every reconcile shares.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::Recorder;

use crate::metrics::Metrics;
use crate::remote::RemoteClients;
use crate::storage::StorageDriver;

/// Tunables from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub pair_revalidate_interval: Duration,
    pub pair_retry_interval: Duration,
    /// Namespace whose Migrations may migrate other namespaces.
    pub admin_namespace: String,
    /// Where the controller itself lives (its Lease, its service account): a system namespace.
    pub controller_namespace: String,
    /// Objects applied at once on a destination.
    pub migration_concurrency: usize,
    /// Deadline of every request to either cluster.
    pub request_timeout: Duration,
    /// Deadline of one migration run.
    pub migration_run_timeout: Duration,
    /// How long a Migration failing for reasons that may pass is tried again before it fails.
    pub migration_retry_timeout: Duration,
    /// The zone schedule policies' times are read in.
    pub schedule_time_zone: jiff::tz::TimeZone,
    /// How often a schedule is looked at again at the latest.
    pub schedule_resync_interval: Duration,
    /// How long one stage of an Action may wait before it fails.
    pub action_stage_timeout: Duration,
}

pub struct Context {
    pub client: kube::Client,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub remotes: RemoteClients,
    pub storage: Option<Box<dyn StorageDriver>>,
    pub settings: Settings,
    /// The controller's own cluster (every migration's source), with the request deadline.
    pub source: stork_kube::Cluster,
    /// What migrations remember of each other.
    pub memory: stork_migrate::Memory,
    /// The time schedules fire by.
    pub clock: crate::clock::Clock,
    /// Revoked the moment this replica stops leading: migration runs check it between tiers of writes.
    pub fence: stork_migrate::Fence,
    /// The continuous schedules' syncs running in this process.
    pub continuous: crate::schedule::continuous::Syncs,
}

impl Context {
    /// Runs one reconcile of `controller` and counts it: result, duration, and the kind of error.
    pub async fn measured<T, E: crate::error_kind::Classify>(
        &self,
        controller: &'static str,
        reconcile: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = std::time::Instant::now();
        let result = reconcile.await;
        self.metrics.reconciled(controller, started.elapsed(), result.as_ref().err().map(|e| e.kind()));
        result
    }

    /// Publishes an event about `object` (its note bounded); a failure to publish is only logged, as an
    /// event is never worth failing a reconcile for.
    pub async fn publish<K>(&self, object: &K, action: &str, warning: bool, reason: &str, message: &str)
    where
        K: kube::Resource<DynamicType = ()>,
    {
        use kube::runtime::events::{Event, EventType};
        let event = Event {
            type_: if warning { EventType::Warning } else { EventType::Normal },
            reason: reason.to_string(),
            note: Some(stork_kube::bounded(message, 2 * stork_kube::MAX_MESSAGE)),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &object.object_ref(&())).await {
            tracing::warn!(error = %e, "cannot publish event");
        }
    }
}
