//! One migration run, start to end: discover both clusters, plan every object (namespaces and CRDs
//! included) from what both sides hold, then, unless only planning, write in dependency order and purge.
//! Memory holds compact records per object and one page per list in flight, never the application.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

use super::destination::Served;
use crate::core::model::{Entry, EntryResult, ObjectId, Outcome, Progress, TypeKey, UpdateReason};
use crate::core::plan::{Baseline, Summary};
use crate::core::prepare::{Prepared, Preparer, Stamps, annotate};
use crate::core::select;
use crate::error::EngineError;
use crate::job::{Clusters, Job, Memory, Mode};

/// Bytes of prepared copies kept from planning for the writes that follow, so that what changed is not
/// read twice; beyond it, copies are read again when written.
pub const RETAINED_BYTES: usize = 32 << 20;

/// Runs `job`: plans, and in [`Mode::Apply`] writes. A transient failure of either cluster ends the run
/// with [`EngineError::Unavailable`] after the writes in flight are done; what was written stays, so the
/// next run (incremental) goes on from there.
pub async fn run(clusters: &Clusters, job: &Job, memory: &Memory, progress: &Progress) -> Result<Outcome, EngineError> {
    let mut outcome = Outcome { planned_only: job.mode != Mode::Apply, ..Default::default() };
    let mut lap = Lap::start();
    let (source_types, served) = tokio::join!(clusters.source.discover(), Served::discover(&clusters.destination));
    let source_types = source_types?;
    let served = served?;
    let keys: Vec<TypeKey> = source_types.iter().map(|t| TypeKey::of(&t.ar, t.namespaced)).collect();
    let unknown = select::unknown_types(&job.spec, &keys);
    if !unknown.is_empty() {
        let names: Vec<String> = unknown.iter().map(ToString::to_string).collect();
        return Err(EngineError::Invalid(format!(
            "{}; correct the spec and create the Migration again",
            names.join("; ")
        )));
    }
    lap.mark(&mut outcome, "discover");

    let run = Run::new(clusters, job, memory, progress);
    let plan = run.plan(&source_types, &served).await?;
    lap.restart();
    run.carry_out(plan, served, &mut outcome, &mut lap).await?;
    outcome.counts.skipped += run.skipped.load(Ordering::Relaxed);
    outcome.finish_counts();
    Ok(outcome)
}

/// Wall time per phase.
pub(super) struct Lap(Instant);

impl Lap {
    fn start() -> Self {
        Self(Instant::now())
    }

    fn restart(&mut self) {
        self.0 = Instant::now();
    }

    pub(super) fn mark(&mut self, outcome: &mut Outcome, phase: &'static str) {
        outcome.phases.push((phase, self.0.elapsed()));
        self.0 = Instant::now();
    }
}

/// What a run shares between its steps.
pub(super) struct Run<'a> {
    pub clusters: &'a Clusters,
    pub job: &'a Job,
    pub memory: &'a Memory,
    pub progress: &'a Progress,
    pub preparer: Preparer<'a>,
    /// The preparation fingerprint of each migrated namespace.
    fingerprints: HashMap<String, u64>,
    /// Bytes of prepared copies still allowed to be kept for writing.
    retained: AtomicUsize,
    /// Objects left out by content rules found while writing.
    pub skipped: AtomicU64,
    /// The first transient failure while writing: the run stops feeding writes and ends with it.
    abort: Mutex<Option<EngineError>>,
}

/// A write the plan calls for.
#[derive(Debug)]
pub(super) struct Planned {
    pub id: ObjectId,
    /// Missing on the destination.
    pub create: bool,
    /// The body, when kept from planning.
    pub body: Option<Vec<u8>>,
    pub transformed: crate::core::plan::Transformed,
    /// Why an update (`None` for a create).
    pub why: Option<UpdateReason>,
    /// The copy existed before stork-rs first wrote it: marked so, and never purged.
    pub adopted: bool,
}

impl<'a> Run<'a> {
    pub(super) fn new(clusters: &'a Clusters, job: &'a Job, memory: &'a Memory, progress: &'a Progress) -> Self {
        let preparer = Preparer::new(&job.spec, &job.transforms, &job.transform_name);
        let fingerprints = job.namespaces.iter().map(|ns| (ns.clone(), preparer.fingerprint(ns))).collect();
        Self {
            clusters,
            job,
            memory,
            progress,
            preparer,
            fingerprints,
            retained: AtomicUsize::new(RETAINED_BYTES),
            skipped: AtomicU64::new(0),
            abort: Mutex::new(None),
        }
    }

    pub fn fingerprint(&self, namespace: &str) -> u64 {
        self.fingerprints.get(namespace).copied().unwrap_or_else(|| self.preparer.fingerprint(namespace))
    }

    /// The destination client for objects of `key`: cluster-scoped ones go through the admin pair.
    pub fn destination_for(&self, key: &TypeKey) -> &stork_kube::Cluster {
        if key.namespaced { &self.clusters.destination } else { &self.clusters.cluster_destination }
    }

    pub fn baseline(&self, id: &ObjectId) -> Option<Baseline> {
        self.memory.baselines.get(self.clusters.destination_id, id)
    }

    pub fn remember_clean(&self, id: &ObjectId, baseline: Option<Baseline>) {
        if let Some(baseline) = baseline {
            self.memory.baselines.insert(self.clusters.destination_id, id.clone(), baseline);
        }
    }

    /// The bytes to write for a prepared object: with this run's bookkeeping annotations; `adopted`
    /// when the copy existed before stork-rs first wrote it.
    pub fn body(&self, prepared: &Prepared, adopted: bool) -> Vec<u8> {
        let mut desired = prepared.desired.clone();
        self.annotate(&mut desired, &prepared.summary, adopted);
        serde_json::to_vec(&desired).unwrap_or_default()
    }

    pub fn annotate(&self, desired: &mut Value, summary: &Summary, adopted: bool) {
        let hash = summary.hash.to_hex();
        let stamps = Stamps {
            migration_name: &self.job.name,
            migration_namespace: &self.job.namespace,
            hash: &hash,
            time: &self.job.time,
            writer: &self.job.writer,
            adopted,
        };
        annotate(desired, &stamps);
    }

    /// The body to keep from planning, while the budget lasts.
    pub fn retained_body(&self, prepared: &Prepared, adopted: bool) -> Option<Vec<u8>> {
        let body = self.body(prepared, adopted);
        let left = self.retained.load(Ordering::Relaxed);
        if body.len() > left {
            return None;
        }
        self.retained.fetch_sub(body.len(), Ordering::Relaxed);
        Some(body)
    }

    /// Whether planning still keeps copies for their writes (more than a few MiB of the budget left).
    pub fn retaining(&self) -> bool {
        self.retained.load(Ordering::Relaxed) > RETAINED_BYTES / 4
    }

    pub fn transformed_by(&self, transformed: crate::core::plan::Transformed) -> String {
        if transformed.applied { self.job.transform_name.clone() } else { String::new() }
    }

    /// An entry for an object that needs no write.
    pub fn settled(
        &self,
        id: ObjectId,
        result: EntryResult,
        transformed: crate::core::plan::Transformed,
        why: Option<UpdateReason>,
    ) -> Entry {
        self.progress.advance(1);
        Entry { id, result, transformed_by: self.transformed_by(transformed), why, unmatched: transformed.unmatched }
    }

    pub fn abort(&self, e: EngineError) {
        let mut first = self.abort.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(e);
        }
    }

    pub fn aborted(&self) -> bool {
        self.abort.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    pub fn take_abort(&self) -> Option<EngineError> {
        self.abort.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

#[cfg(test)]
mod send_check {
    use super::*;
    use std::sync::Arc;

    /// Controllers run migrations on a multi-threaded runtime: the run must be `Send` for any borrow.
    #[allow(dead_code)]
    fn spawnable(clusters: Arc<Clusters>, job: Arc<Job>, memory: Arc<Memory>, progress: Arc<Progress>) {
        drop(tokio::spawn(async move { run(&clusters, &job, &memory, &progress).await.map(|_| ()) }));
    }
}
