//! What every reconcile shares.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::events::Recorder;

use crate::metrics::Metrics;
use crate::migration::prepared::PreparedCache;
use crate::remote::RemoteClients;
use crate::storage::StorageDriver;

/// Tunables from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub pair_revalidate_interval: Duration,
    pub pair_retry_interval: Duration,
    /// Namespace whose Migrations may migrate other namespaces.
    pub admin_namespace: String,
    /// Objects applied at once on a destination.
    pub migration_concurrency: usize,
}

pub struct Context {
    pub client: kube::Client,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub remotes: RemoteClients,
    pub storage: Option<Box<dyn StorageDriver>>,
    pub settings: Settings,
    /// Source objects prepared by earlier migrations (the source is this controller's own cluster).
    pub prepared: PreparedCache,
}
