//! Prometheus metrics, including Stork's `stork_clusterpair_*_status` gauges with Stork's encoding.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use stork_api::ClusterPairStatusType;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MigrationLabels {
    pub name: String,
    pub namespace: String,
    pub schedule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub controller: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    pub version: String,
}

/// The controllers whose reconciles are counted; their series exist (at 0) from the start, so that
/// `rate()` and alerts see a controller that has not failed yet.
pub const CONTROLLERS: [&str; 5] =
    ["clusterpair", "migration", "migrationschedule", "action", "resourcetransformation"];

fn reconcile_histogram() -> Histogram {
    // 5 ms to about 15 min: a pair check is milliseconds, a large migration run minutes.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.005, 3.0, 12))
}

pub struct Metrics {
    pub registry: Registry,
    scheduler_status: Family<ObjectLabels, Gauge>,
    storage_status: Family<ObjectLabels, Gauge>,
    reconciles: Family<ReconcileLabels, Counter>,
    reconcile_errors: Family<ErrorLabels, Counter>,
    reconcile_duration: Family<ControllerLabels, Histogram, fn() -> Histogram>,
    leader: Gauge,
    migration_status: Family<MigrationLabels, Gauge>,
    migration_stage: Family<MigrationLabels, Gauge>,
    migration_duration: Family<MigrationLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    migrated_objects: Family<ObjectLabels, Gauge>,
    schedule_status: Family<ObjectLabels, Gauge>,
    schedule_last_success: Family<ObjectLabels, Gauge>,
    schedule_rpo: Family<ObjectLabels, Gauge>,
    schedule_failures: Family<ObjectLabels, Gauge>,
    schedule_period: Family<ObjectLabels, Gauge>,
    continuous: ContinuousFamilies,
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
        let reconcile_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "stork_reconcile_errors",
            "Reconciles that failed, by controller and kind (transient, refused, invalid, internal)",
            reconcile_errors.clone(),
        );
        let reconcile_duration = Family::<ControllerLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            reconcile_histogram as fn() -> Histogram,
        );
        registry.register(
            "stork_reconcile_duration_seconds",
            "How long one reconcile took, by controller",
            reconcile_duration.clone(),
        );
        for controller in CONTROLLERS {
            let _ = reconcile_duration.get_or_create(&ControllerLabels { controller: controller.into() });
            for kind in crate::error_kind::ErrorKind::ALL {
                let labels = ErrorLabels { controller: controller.into(), kind: kind.as_str().into() };
                let _ = reconcile_errors.get_or_create(&labels);
            }
        }
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info.get_or_create(&BuildLabels { version: stork_kube::version::VERSION.into() }).set(1);
        registry.register("stork_build_info", "The controller's version (always 1)", build_info);
        registry.register("stork_leader", "1 while this replica holds the leader Lease", leader.clone());
        let migration_status = Family::<MigrationLabels, Gauge>::default();
        let migration_stage = Family::<MigrationLabels, Gauge>::default();
        let migration_duration = Family::<MigrationLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        let migrated_objects = Family::<ObjectLabels, Gauge>::default();
        registry.register(
            "stork_migration_status",
            "Migration status (0 '', 1 Pending, 2 InProgress, 3 Failed, 4 PartialSuccess, 5 Successful)",
            migration_status.clone(),
        );
        registry.register(
            "stork_migration_stage",
            "Migration stage (0 '', 1 PreExecRule, 2 PostExecRule, 3 Volumes, 4 Applications, 5 Final)",
            migration_stage.clone(),
        );
        registry.register(
            "stork_migration_duration",
            "Seconds from creation to the end of a finished migration",
            migration_duration.clone(),
        );
        registry.register(
            "stork_migration_objects_written",
            "Objects created or updated on the destination by the last run",
            migrated_objects.clone(),
        );
        let schedule_status = Family::<ObjectLabels, Gauge>::default();
        let schedule_last_success = Family::<ObjectLabels, Gauge>::default();
        let schedule_rpo = Family::<ObjectLabels, Gauge>::default();
        let schedule_failures = Family::<ObjectLabels, Gauge>::default();
        let schedule_period = Family::<ObjectLabels, Gauge>::default();
        registry.register(
            "stork_migration_schedule_period_seconds",
            "Longest a healthy schedule waits between Migrations: the shortest period its policy sets",
            schedule_period.clone(),
        );
        registry.register(
            "stork_migration_schedule_status",
            "Number of policy types with Migrations in a MigrationSchedule's status (as Stork)",
            schedule_status.clone(),
        );
        registry.register(
            "stork_migration_schedule_last_success_timestamp_seconds",
            "When the newest successful Migration of a schedule finished (Unix seconds; 0: none yet)",
            schedule_last_success.clone(),
        );
        registry.register(
            "stork_migration_schedule_rpo_seconds",
            "Age of the newest successful copy of a schedule: the recovery point right now (-1: none yet)",
            schedule_rpo.clone(),
        );
        registry.register(
            "stork_migration_schedule_consecutive_failures",
            "Migrations of a schedule that failed since the last one that did not",
            schedule_failures.clone(),
        );
        let continuous = ContinuousFamilies::register(&mut registry);
        Arc::new(Self {
            continuous,
            registry,
            schedule_status,
            schedule_last_success,
            schedule_rpo,
            schedule_failures,
            schedule_period,
            scheduler_status,
            storage_status,
            reconciles,
            reconcile_errors,
            reconcile_duration,
            leader,
            migration_status,
            migration_stage,
            migration_duration,
            migrated_objects,
        })
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

    pub fn set_migration(
        &self,
        namespace: &str,
        name: &str,
        schedule: &str,
        status: &stork_api::MigrationStatus,
        elapsed: Option<std::time::Duration>,
    ) {
        let labels = MigrationLabels { name: name.into(), namespace: namespace.into(), schedule: schedule.into() };
        let status_value = match status.status {
            stork_api::MigrationStatusType::Initial => 0,
            stork_api::MigrationStatusType::Pending => 1,
            stork_api::MigrationStatusType::InProgress => 2,
            stork_api::MigrationStatusType::Failed => 3,
            stork_api::MigrationStatusType::PartialSuccess => 4,
            stork_api::MigrationStatusType::Successful => 5,
            stork_api::MigrationStatusType::Purged => 6,
        };
        let stage_value = match status.stage {
            stork_api::MigrationStage::Initial => 0,
            stork_api::MigrationStage::PreExecRule => 1,
            stork_api::MigrationStage::PostExecRule => 2,
            stork_api::MigrationStage::Volumes => 3,
            stork_api::MigrationStage::Applications => 4,
            stork_api::MigrationStage::Final => 5,
        };
        self.migration_status.get_or_create(&labels).set(status_value);
        self.migration_stage.get_or_create(&labels).set(stage_value);
        if let Some(elapsed) = elapsed {
            self.migration_duration.get_or_create(&labels).set(elapsed.as_secs_f64());
        }
        if let Some(counts) = &status.resource_counts {
            let object = ObjectLabels { name: name.into(), namespace: namespace.into() };
            self.migrated_objects.get_or_create(&object).set((counts.created + counts.updated) as i64);
        }
    }

    pub fn forget_migration(&self, namespace: &str, name: &str, schedule: &str) {
        let labels = MigrationLabels { name: name.into(), namespace: namespace.into(), schedule: schedule.into() };
        self.migration_status.remove(&labels);
        self.migration_stage.remove(&labels);
        self.migration_duration.remove(&labels);
        self.migrated_objects.remove(&ObjectLabels { name: name.into(), namespace: namespace.into() });
    }

    pub fn set_schedule(
        &self,
        namespace: &str,
        name: &str,
        status: &stork_api::MigrationScheduleStatus,
        now: jiff::Timestamp,
    ) {
        let labels = ObjectLabels { name: name.into(), namespace: namespace.into() };
        self.schedule_status.get_or_create(&labels).set(status.items.len() as i64);
        let last = status.last_success_timestamp.as_ref().map(|t| t.0);
        self.schedule_last_success.get_or_create(&labels).set(last.map_or(0, |t| t.as_second()));
        let rpo = last.map_or(-1, |t| now.duration_since(t).as_secs().max(0));
        self.schedule_rpo.get_or_create(&labels).set(rpo);
        self.schedule_failures.get_or_create(&labels).set(i64::from(status.consecutive_failures));
    }

    /// The period of the schedule's policy (see `stork_migrate::schedule::policy::period`), or none
    /// while its policy is missing or invalid.
    pub fn set_schedule_period(&self, namespace: &str, name: &str, period: Option<std::time::Duration>) {
        let labels = ObjectLabels { name: name.into(), namespace: namespace.into() };
        match period {
            Some(period) => {
                self.schedule_period.get_or_create(&labels).set(i64::try_from(period.as_secs()).unwrap_or(i64::MAX));
            }
            None => {
                self.schedule_period.remove(&labels);
            }
        }
    }

    /// A continuous schedule's sync right now (see [`ContinuousSample`]).
    pub fn set_continuous(&self, namespace: &str, name: &str, sample: &ContinuousSample) {
        let labels = ObjectLabels { name: name.into(), namespace: namespace.into() };
        let c = &self.continuous;
        c.lag.get_or_create(&labels).set(sample.lag.as_secs_f64());
        c.pending.get_or_create(&labels).set(i64::try_from(sample.pending).unwrap_or(i64::MAX));
        c.paused.get_or_create(&labels).set(i64::from(sample.paused));
        // Counters only grow: they are created here so that a schedule without changes has series at 0.
        c.applied.get_or_create(&labels).inc_by(sample.applied_since);
        c.failed.get_or_create(&labels).inc_by(sample.failed_since);
    }

    /// The sync of a schedule stopped (its policy is no longer continuous, or it was deleted).
    pub fn forget_continuous(&self, namespace: &str, name: &str) {
        let labels = ObjectLabels { name: name.into(), namespace: namespace.into() };
        let c = &self.continuous;
        c.lag.remove(&labels);
        c.pending.remove(&labels);
        c.paused.remove(&labels);
        c.applied.remove(&labels);
        c.failed.remove(&labels);
    }

    pub fn forget_schedule(&self, namespace: &str, name: &str) {
        self.forget_continuous(namespace, name);
        let labels = ObjectLabels { name: name.into(), namespace: namespace.into() };
        self.schedule_period.remove(&labels);
        self.schedule_status.remove(&labels);
        self.schedule_last_success.remove(&labels);
        self.schedule_rpo.remove(&labels);
        self.schedule_failures.remove(&labels);
    }

    /// Counts one reconcile of `controller` that took `elapsed` and failed with `error`, if it did.
    pub fn reconciled(
        &self,
        controller: &str,
        elapsed: std::time::Duration,
        error: Option<crate::error_kind::ErrorKind>,
    ) {
        let result = if error.is_some() { "error" } else { "ok" };
        let labels = ReconcileLabels { controller: controller.to_string(), result: result.to_string() };
        self.reconciles.get_or_create(&labels).inc();
        self.reconcile_duration
            .get_or_create(&ControllerLabels { controller: controller.to_string() })
            .observe(elapsed.as_secs_f64());
        if let Some(kind) = error {
            let labels = ErrorLabels { controller: controller.to_string(), kind: kind.as_str().to_string() };
            self.reconcile_errors.get_or_create(&labels).inc();
        }
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

/// What a continuous sync reports, each time it reports.
#[derive(Debug, Clone, Default)]
pub struct ContinuousSample {
    pub lag: std::time::Duration,
    pub pending: usize,
    pub paused: bool,
    /// Changes written since the previous sample.
    pub applied_since: u64,
    pub failed_since: u64,
}

/// The series of continuous schedules.
struct ContinuousFamilies {
    lag: Family<ObjectLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pending: Family<ObjectLabels, Gauge>,
    paused: Family<ObjectLabels, Gauge>,
    applied: Family<ObjectLabels, Counter>,
    failed: Family<ObjectLabels, Counter>,
}

impl ContinuousFamilies {
    fn register(registry: &mut Registry) -> Self {
        let families = Self {
            lag: Family::default(),
            pending: Family::default(),
            paused: Family::default(),
            applied: Family::default(),
            failed: Family::default(),
        };
        registry.register(
            "stork_continuous_sync_lag_seconds",
            "How far behind the destination of a continuous schedule is: age of the oldest change not yet written",
            families.lag.clone(),
        );
        registry.register(
            "stork_continuous_sync_pending_objects",
            "Objects changed on either cluster and not yet written by a continuous schedule",
            families.pending.clone(),
        );
        registry.register(
            "stork_continuous_sync_paused",
            "1 while a continuous schedule's sync is paused (a cluster out of reach, an unusable spec)",
            families.paused.clone(),
        );
        registry.register(
            "stork_continuous_sync_applied_changes",
            "Changes a continuous schedule wrote on the destination (creates, updates, purges)",
            families.applied.clone(),
        );
        registry.register(
            "stork_continuous_sync_failed_changes",
            "Changes a continuous schedule could not write (each is tried again)",
            families.failed.clone(),
        );
        families
    }
}
