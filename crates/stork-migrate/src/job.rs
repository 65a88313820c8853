//! What one run is asked to do, with which clusters, and what it may remember.

use std::collections::{BTreeSet, HashMap};

use stork_api::{MigrationSpec, TransformSpec};
use stork_kube::Cluster;

use crate::cache::{Baselines, PreparedCache};

/// Whether a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plan, then write what the plan says.
    Apply,
    /// Plan only: every entry says what would happen; nothing is written on either cluster.
    PlanOnly,
    /// Plan, then send every write as a server-side dry run: the destination's admission and validation
    /// decide each (rejections are failed entries) and nothing persists. Objects in namespaces or of
    /// kinds the run would create first cannot be checked so, and are listed as planned.
    DryRun,
}

/// What one migration run is asked to do.
#[derive(Debug, Clone)]
pub struct Job {
    /// The Migration (or whatever asked), for the bookkeeping annotations of what it writes.
    pub name: String,
    pub namespace: String,
    pub spec: MigrationSpec,
    /// The resolved namespaces to migrate.
    pub namespaces: BTreeSet<String>,
    /// How many namespaces the source has: with few of them migrated, types are listed namespace by
    /// namespace instead of across the cluster.
    pub cluster_namespaces: usize,
    /// Rewrite every object instead of only what changed or drifted.
    pub full: bool,
    /// `stork.libopenstorage.org/migrationTime` value for objects written now.
    pub time: String,
    /// Writes in flight at once on the destination.
    pub concurrency: usize,
    /// ResourceTransformation rules per migrated namespace, and the transformation's name.
    pub transforms: HashMap<String, Vec<TransformSpec>>,
    pub transform_name: String,
    pub mode: Mode,
    /// May write cluster-scoped objects (CRDs, ClusterRoles, ClusterRoleBindings) on the destination: a
    /// Migration in the admin namespace. Others bring only the volumes bound to their own claims, and
    /// fail before writing anything when they would need more.
    pub admin: bool,
    /// Stamped on every object written (see `stork_api::annotations::WRITER`); purge deletes only
    /// copies carrying this very writer.
    pub writer: String,
}

/// The writer mark of the copies a pair writes: `<source cluster>/<Migration namespace>/<ClusterPair>`,
/// the source cluster being the UID of its `kube-system` namespace (see [`crate::io::source::cluster_id`]).
pub fn writer(source_cluster: &str, namespace: &str, cluster_pair: &str) -> String {
    format!("{source_cluster}/{namespace}/{cluster_pair}")
}

/// The clusters of a run.
#[derive(Clone)]
pub struct Clusters {
    pub source: Cluster,
    pub destination: Cluster,
    /// For cluster-scoped objects (the admin ClusterPair's destination, else `destination`).
    pub cluster_destination: Cluster,
    /// Identifies the destination in [`Baselines`] (e.g. a fingerprint of the pair and its server).
    pub destination_id: u64,
    /// Whether this process may still write (see [`Fence`]).
    pub fence: Fence,
}

/// What the engine remembers between runs; shared by every run of a process.
#[derive(Default)]
pub struct Memory {
    pub prepared: PreparedCache,
    pub baselines: Baselines,
}

impl Memory {
    pub fn begin_run(&self) {
        self.prepared.begin_run();
        self.baselines.begin_run();
    }

    pub fn end_run(&self) {
        self.prepared.trim();
        self.baselines.trim();
    }
}

/// Whether this process may still write to the destination: a replica that stops leading revokes it, and
/// a run checks it before each tier of writes and before purging, so that a leader cut off from its
/// Lease stops between requests even before it exits. The default is always open (no leader election).
#[derive(Clone, Debug, Default)]
pub struct Fence(Option<std::sync::Arc<std::sync::atomic::AtomicBool>>);

impl Fence {
    /// A fence that is open until [`Fence::revoke`] is called.
    pub fn armed() -> Self {
        Self(Some(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true))))
    }

    pub fn revoke(&self) {
        if let Some(open) = &self.0 {
            open.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }

    pub fn is_open(&self) -> bool {
        self.0.as_ref().is_none_or(|open| open.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// `Err` (transient: the new leader carries on) once revoked.
    pub fn check(&self) -> Result<(), crate::EngineError> {
        if self.is_open() {
            return Ok(());
        }
        Err(crate::EngineError::Unavailable(stork_kube::RequestError {
            cluster: "destination",
            what: "writing".into(),
            code: None,
            retry: stork_kube::Retry::Transient,
            message: "this replica no longer holds the leader Lease; the new leader carries on".into(),
        }))
    }
}
