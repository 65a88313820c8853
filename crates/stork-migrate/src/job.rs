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
