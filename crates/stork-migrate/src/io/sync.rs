//! Continuous sync's writes: one changed object at a time, prepared exactly as a migration prepares it
//! and written only when its copy differs (same decisions as a run's planner); the copy of a deleted
//! source object is purged when the spec asks and the copy is this pair's own. What needs more than the
//! object itself (a namespace or CRD the destination lacks, a volume a claim brings) is answered with
//! [`Synced::NeedsPass`], and the caller runs a whole pass for it.

use stork_api::annotations::FIELD_MANAGER;

use super::destination::Served;
use super::run::Run;
use super::write::{self, Ready};
use crate::core::hash::ContentHash;
use crate::core::model::{ObjectId, Progress};
use crate::core::plan::{CopyRecord, Decision, SourceState, decide, decide_on_objects, may_purge};
use crate::core::select::{ClusterNeeds, skip_reason};
use crate::error::EngineError;
use crate::job::{Clusters, Job, Memory};

/// What syncing one object did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Written, carrying this hash of the source object.
    Created(ContentHash),
    Updated(ContentHash),
    /// The copy already held it.
    Unchanged,
    /// The source object is gone and so is its copy now.
    Purged,
    /// The source object is gone; its copy is missing, or is kept (no purge asked, or not this pair's).
    Absent,
    /// Left out by the migration's rules.
    Skipped,
    /// Only a whole pass can bring it (the reason says why).
    NeedsPass(String),
}

impl Synced {
    /// Whether the destination was written.
    pub fn wrote(&self) -> bool {
        matches!(self, Self::Created(_) | Self::Updated(_) | Self::Purged)
    }
}

/// Writes changed objects one at a time; several may be in flight at once (each call borrows it only).
pub struct Syncer<'a> {
    run: Run<'a>,
    served: &'a Served,
}

impl<'a> Syncer<'a> {
    /// `job.time` stamps every copy written through this syncer.
    pub fn new(
        clusters: &'a Clusters,
        job: &'a Job,
        memory: &'a Memory,
        progress: &'a Progress,
        served: &'a Served,
    ) -> Self {
        Self { run: Run::new(clusters, job, memory, progress), served }
    }

    /// Syncs one object: what its copy needs now, done.
    pub async fn sync(&self, id: ObjectId) -> (ObjectId, Result<Synced, EngineError>) {
        let result = self.run.sync_one(&id, self.served).await;
        (id, result)
    }
}

impl Run<'_> {
    async fn sync_one(&self, id: &ObjectId, served: &Served) -> Result<Synced, EngineError> {
        let key = &id.key;
        let Some(dest_ar) = served.resource(key) else {
            return Ok(Synced::NeedsPass(format!("the destination does not serve {} yet", key.kind)));
        };
        let destination = self.destination_for(key);
        let source_ar = key.resource();
        let (object, copy) = tokio::join!(
            self.clusters.source.get_opt(&source_ar, id.scope(), &id.name),
            destination.get_opt(dest_ar, id.scope(), &id.name)
        );
        let (object, copy) = (object?, copy?);
        let record = copy.as_ref().map(|c| CopyRecord::from_metadata(&c["metadata"], FIELD_MANAGER, false));
        let Some(object) = object else {
            let Some(record) = record else { return Ok(Synced::Absent) };
            if self.job.spec.purge_deleted_resources != Some(true) || !may_purge(&record, &self.job.writer) {
                return Ok(Synced::Absent);
            }
            self.clusters.fence.check()?;
            destination.delete(dest_ar, id.scope(), &id.name).await?;
            self.memory.baselines.forget(self.clusters.destination_id, id);
            return Ok(Synced::Purged);
        };
        if !self.job.namespaces.contains(&id.namespace) || skip_reason(key, &object, &self.job.spec).is_some() {
            return Ok(Synced::Skipped);
        }
        let Some(prepared) = self.prepare(key, &object) else { return Ok(Synced::Skipped) };
        let mut needs = ClusterNeeds::default();
        needs.note(key, &object);
        if record.is_none() && (!needs.volumes.is_empty() || !needs.cluster_roles.is_empty()) {
            return Ok(Synced::NeedsPass(format!("new {} {id} brings cluster-scoped objects", key.kind)));
        }
        let baseline = self.baseline(id);
        let state = SourceState::Prepared(prepared.summary, Some(&prepared.desired));
        let decision = match decide(state, record.as_ref(), baseline.as_ref(), false) {
            Decision::Verify | Decision::ReadSource => {
                decide_on_objects(copy.as_ref(), &prepared.desired, FIELD_MANAGER)
            }
            decided => decided,
        };
        drop(copy);
        let create = match decision {
            Decision::Create => true,
            Decision::Update(_) => false,
            _ => {
                if baseline.is_none() {
                    self.remember_clean(id, record.as_ref().and_then(CopyRecord::baseline));
                }
                return Ok(Synced::Unchanged);
            }
        };
        let adopted = !create && record.as_ref().is_some_and(CopyRecord::adopted);
        let ready = Ready {
            id: id.clone(),
            create,
            body: self.body(&prepared, adopted),
            transformed: prepared.summary.transformed,
            why: None,
        };
        self.clusters.fence.check()?;
        match write::apply(destination, dest_ar, &ready, false).await {
            Ok(baseline) => self.remember_clean(id, baseline),
            // Its namespace is missing on the destination: a pass creates it.
            Err(e) if e.is_not_found() => {
                return Ok(Synced::NeedsPass(format!("the destination has no namespace {} yet", id.namespace)));
            }
            Err(e) => return Err(e.into()),
        }
        let hash = prepared.summary.hash;
        Ok(if create { Synced::Created(hash) } else { Synced::Updated(hash) })
    }
}
