//! Prometheus metrics, including Stork's `stork_clusterpair_*_status` gauges with Stork's encoding.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use stork_api::ClusterPairStatusType;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub controller: String,
    pub result: String,
}

pub struct Metrics {
    pub registry: Registry,
    scheduler_status: Family<ObjectLabels, Gauge>,
    storage_status: Family<ObjectLabels, Gauge>,
    reconciles: Family<ReconcileLabels, Counter>,
    leader: Gauge,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::default();
        let scheduler_status = Family::<ObjectLabels, Gauge>::default();
        let storage_status = Family::<ObjectLabels, Gauge>::default();
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        let leader = Gauge::default();
        registry.register(
            "stork_clusterpair_scheduler_status",
            "ClusterPair scheduler status (0 '', 1 Pending, 2 Ready, 3 Error, 4 Degraded, 5 Deleting, 6 NotProvided)",
            scheduler_status.clone(),
        );
        registry.register(
            "stork_clusterpair_storage_status",
            "ClusterPair storage status (0 '', 1 Pending, 2 Ready, 3 Error, 4 Degraded, 5 Deleting, 6 NotProvided)",
            storage_status.clone(),
        );
        registry.register("stork_reconciles", "Reconciles by controller and result", reconciles.clone());
        registry.register("stork_leader", "1 while this replica holds the leader Lease", leader.clone());
        Arc::new(Self { registry, scheduler_status, storage_status, reconciles, leader })
    }

    pub fn set_pair_status(
        &self,
        namespace: &str,
        name: &str,
        scheduler: ClusterPairStatusType,
        storage: ClusterPairStatusType,
    ) {
        let labels = ObjectLabels { name: name.to_string(), namespace: namespace.to_string() };
        self.scheduler_status.get_or_create(&labels).set(scheduler.metric_value());
        self.storage_status.get_or_create(&labels).set(storage.metric_value());
    }

    pub fn forget_pair(&self, namespace: &str, name: &str) {
        let labels = ObjectLabels { name: name.to_string(), namespace: namespace.to_string() };
        self.scheduler_status.remove(&labels);
        self.storage_status.remove(&labels);
    }

    pub fn reconciled(&self, controller: &str, result: &str) {
        let labels = ReconcileLabels { controller: controller.to_string(), result: result.to_string() };
        self.reconciles.get_or_create(&labels).inc();
    }

    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
