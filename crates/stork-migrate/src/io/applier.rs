//! Carrying out a plan: namespaces, then CRDs (waiting until the destination serves their kinds), then
//! each tier of objects with bounded parallelism, then purges. Copies not kept from planning are read
//! from the source again as they are written, page by page, so memory holds only the writes in flight.
//! When only planning, the same path runs up to the write and records what it would do.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt, future, stream};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource};
use serde_json::Value;

use super::destination::Served;
use super::planner::{Plan, TypePlan};
use super::read;
use super::run::{Lap, Planned, Run};
use super::write::{self, Ready};
use crate::core::model::{Entry, EntryResult, ObjectId, Outcome, PURGE_FAILED, TypeKey};
use crate::core::plan::apply_tier;
use crate::error::EngineError;
use crate::job::Mode;

/// Deletes in flight at once.
const CONCURRENT_DELETES: usize = 16;
/// Longest wait for copied CRDs to be served by the destination.
const CRD_WAIT: Duration = Duration::from_secs(30);

impl Run<'_> {
    pub(super) async fn carry_out(
        &self,
        plan: Plan,
        mut served: Served,
        outcome: &mut Outcome,
        lap: &mut Lap,
    ) -> Result<(), EngineError> {
        let Plan { namespaces, crds, types, entries, skipped, phases, mut unreadable } = plan;
        outcome.phases.extend(phases);
        unreadable.sort();
        outcome.unreadable = unreadable;
        for entry in entries {
            outcome.record(entry);
        }
        outcome.counts.skipped += skipped;

        self.clusters.fence.check()?;
        let mut unverifiable =
            Unverifiable { namespaces: namespaces.iter().map(|p| p.id.name.clone()).collect(), ..Default::default() };
        let namespace_ar = ApiResource::erase::<Namespace>(&());
        for entry in self.write_planned(&namespace_ar, namespaces).await {
            // Like Stork, namespaces are not migrated resources of their own: only a failure to create one is.
            match entry.result {
                EntryResult::Failed(_) => outcome.record(entry),
                _ => outcome.namespaces_created.push(entry.id.name),
            }
        }
        self.check_abort()?;

        self.clusters.fence.check()?;
        let crd_ar = ApiResource::erase::<CustomResourceDefinition>(&());
        let crd_bodies: Vec<Value> =
            crds.iter().filter_map(|p| p.body.as_deref()).filter_map(|b| serde_json::from_slice(b).ok()).collect();
        let written = self.write_planned(&crd_ar, crds).await;
        let crds_written = written.iter().any(|e| matches!(e.result, EntryResult::Created | EntryResult::Updated));
        for entry in written {
            outcome.record(entry);
        }
        self.check_abort()?;
        let new_kinds: Vec<TypeKey> = crd_bodies.iter().flat_map(served_kinds).collect();
        match self.job.mode {
            Mode::Apply if crds_written => served = self.wait_for_crds(&crd_bodies).await?,
            Mode::Apply => {}
            // What the copied CRDs would serve is what their objects would be written as.
            Mode::PlanOnly | Mode::DryRun => {
                unverifiable.kinds = new_kinds.iter().map(|k| (k.group.clone(), k.kind.clone())).collect();
                served.assume(&new_kinds);
            }
        }
        lap.mark(outcome, "namespaces+crds");

        let mut tiers: BTreeMap<u8, Vec<TypePlan>> = BTreeMap::new();
        let mut purges = Vec::new();
        for mut plan in types {
            purges.append(&mut plan.purge);
            tiers.entry(apply_tier(&plan.key)).or_default().push(plan);
        }
        for (_, plans) in tiers {
            self.clusters.fence.check()?;
            for entry in self.write_types(plans, &served, &unverifiable).await {
                outcome.record(entry);
            }
            self.check_abort()?;
        }
        lap.mark(outcome, if self.job.mode == Mode::Apply { "apply" } else { "plan-writes" });

        if self.job.spec.purge_deleted_resources == Some(true) && !purges.is_empty() {
            self.clusters.fence.check()?;
            for entry in self.purge(purges, &served).await {
                outcome.record(entry);
            }
            self.check_abort()?;
            lap.mark(outcome, "purge");
        }
        Ok(())
    }

    fn check_abort(&self) -> Result<(), EngineError> {
        match self.take_abort() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes planned objects whose bodies were kept (namespaces, CRDs).
    async fn write_planned(&self, ar: &ApiResource, planned: Vec<Planned>) -> Vec<Entry> {
        let nothing = Unverifiable::default();
        let nothing = &nothing;
        let ready = planned.into_iter().filter_map(|p| {
            Some(Ready { body: p.body?, id: p.id, create: p.create, transformed: p.transformed, why: p.why })
        });
        stream::iter(ready)
            .map(|ready| self.write_one(ready, Some(ar), nothing))
            .buffer_unordered(self.job.concurrency.max(1))
            .filter_map(future::ready)
            .collect()
            .await
    }

    /// Writes the objects of one tier: bodies flow from the types' readers to a bounded pool of writers.
    async fn write_types(&self, plans: Vec<TypePlan>, served: &Served, unverifiable: &Unverifiable) -> Vec<Entry> {
        let concurrency = self.job.concurrency.max(1);
        let (tx, rx) = mpsc::channel::<Ready>(concurrency);
        let producers = async move {
            stream::iter(plans)
                .for_each_concurrent(read::CONCURRENT_READS, |plan| {
                    let tx = tx.clone();
                    async move {
                        if let Err(e) = self.produce(plan, tx).await {
                            self.abort(e);
                        }
                    }
                })
                .await;
        };
        let writers = rx
            .map(|ready| {
                let ar = served.resource(&ready.id.key).cloned();
                async move { self.write_one(ready, ar.as_ref(), unverifiable).await }
            })
            .buffer_unordered(concurrency)
            .filter_map(future::ready)
            .collect::<Vec<Entry>>();
        let ((), entries) = tokio::join!(producers, writers);
        entries
    }

    /// Feeds the writes of one type: kept bodies first, then the rest read again from the source.
    async fn produce(&self, plan: TypePlan, mut tx: mpsc::Sender<Ready>) -> Result<(), EngineError> {
        let TypePlan { key, ar, scopes, writes, .. } = plan;
        let mut unread: HashMap<ObjectId, Planned> = HashMap::new();
        for planned in writes {
            match planned.body {
                Some(body) => {
                    let ready = Ready {
                        id: planned.id,
                        create: planned.create,
                        body,
                        transformed: planned.transformed,
                        why: planned.why,
                    };
                    if self.aborted() || tx.send(ready).await.is_err() {
                        return Ok(());
                    }
                }
                None => {
                    unread.insert(planned.id.clone(), planned);
                }
            }
        }
        let ids: Vec<ObjectId> = unread.keys().cloned().collect();
        let mut reads = read::whole(&self.clusters.source, &ar, ids, &scopes);
        while let Some(item) = reads.next().await {
            if self.aborted() {
                return Ok(());
            }
            let (id, object) = item?;
            let Some(planned) = unread.remove(&id) else { continue };
            // Deleted on the source since it was planned: nothing to copy.
            let Some(object) = object else {
                self.progress.advance(1);
                continue;
            };
            let Some(prepared) = self.prepare(&key, &object) else {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                self.progress.advance(1);
                continue;
            };
            let ready = Ready {
                id,
                create: planned.create,
                body: self.body(&prepared, planned.adopted),
                transformed: prepared.summary.transformed,
                why: planned.why,
            };
            if tx.send(ready).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Writes one copy (or, planning only, says it would); `None` once the run is aborting.
    async fn write_one(&self, ready: Ready, ar: Option<&ApiResource>, unverifiable: &Unverifiable) -> Option<Entry> {
        let done = if ready.create { EntryResult::Created } else { EntryResult::Updated };
        let result = match (self.job.mode, ar) {
            (_, None) => EntryResult::Failed(format!(
                "the destination does not serve {}/{} {}; install it there (for custom resources, the CRD could not be copied)",
                ready.id.key.status_group(),
                ready.id.key.version,
                ready.id.key.kind
            )),
            (Mode::PlanOnly, Some(_)) => done,
            (Mode::DryRun, Some(_)) if unverifiable.covers(&ready.id) => done,
            (mode, Some(ar)) => {
                if self.aborted() {
                    return None;
                }
                let dry_run = mode == Mode::DryRun;
                match write::apply(self.destination_for(&ready.id.key), ar, &ready, dry_run).await {
                    Ok(baseline) => {
                        if !dry_run {
                            self.remember_clean(&ready.id, baseline);
                        }
                        done
                    }
                    Err(e) if e.is_transient() => {
                        self.abort(e.into());
                        return None;
                    }
                    Err(e) if ready.id.key.is("", "Namespace") => {
                        EntryResult::Failed(format!("Error creating namespace: {}", e.message))
                    }
                    Err(e) => EntryResult::Failed(format!("Error applying resource: {}", e.message)),
                }
            }
        };
        let why = if matches!(result, EntryResult::Updated) { ready.why } else { None };
        Some(self.settled(ready.id, result, ready.transformed, why))
    }

    /// Deletes copies stork-rs wrote whose source objects are gone.
    async fn purge(&self, ids: Vec<ObjectId>, served: &Served) -> Vec<Entry> {
        stream::iter(ids)
            .map(|id| async move {
                let ar = served.resource(&id.key)?;
                let result = match self.job.mode {
                    Mode::PlanOnly | Mode::DryRun => EntryResult::Purged,
                    Mode::Apply => match self.destination_for(&id.key).delete(ar, id.scope(), &id.name).await {
                        Ok(_) => {
                            self.memory.baselines.forget(self.clusters.destination_id, &id);
                            EntryResult::Purged
                        }
                        Err(e) if e.is_transient() => {
                            self.abort(e.into());
                            return None;
                        }
                        Err(e) => EntryResult::Failed(format!("{PURGE_FAILED}{}", e.message)),
                    },
                };
                Some(Entry::new(id, result))
            })
            .buffer_unordered(CONCURRENT_DELETES)
            .filter_map(future::ready)
            .collect()
            .await
    }

    /// Waits until the copied CRDs are Established and discovery on the destination lists their kinds
    /// (it lags a moment behind `Established`); what is still missing then fails per object with a
    /// clear reason.
    async fn wait_for_crds(&self, crds: &[Value]) -> Result<Served, EngineError> {
        use kube::runtime::wait::{await_condition, conditions};
        let destination = &self.clusters.cluster_destination;
        let deadline = Instant::now() + CRD_WAIT;
        let api: Api<CustomResourceDefinition> = Api::all(destination.client().clone());
        for crd in crds {
            let Some(name) = crd["metadata"]["name"].as_str() else { continue };
            let left = deadline.saturating_duration_since(Instant::now());
            let _ =
                tokio::time::timeout(left, await_condition(api.clone(), name, conditions::is_crd_established())).await;
        }
        let wanted: Vec<TypeKey> = crds.iter().flat_map(served_kinds).collect();
        loop {
            let served = Served::discover(&self.clusters.destination).await?;
            if wanted.iter().all(|k| served.contains(&k.group, &k.version, &k.kind)) || Instant::now() > deadline {
                return Ok(served);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What a dry run cannot check: objects in namespaces it would create first, or of kinds served only by
/// CRDs it would copy first (the destination refuses them for want of either).
#[derive(Default)]
struct Unverifiable {
    namespaces: std::collections::BTreeSet<String>,
    kinds: std::collections::BTreeSet<(String, String)>,
}

impl Unverifiable {
    fn covers(&self, id: &ObjectId) -> bool {
        self.namespaces.contains(&id.namespace) || self.kinds.contains(&(id.key.group.clone(), id.key.kind.clone()))
    }
}

/// The kinds a CRD serves, one per served version.
fn served_kinds(crd: &Value) -> Vec<TypeKey> {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
    let namespaced = crd["spec"]["scope"] != "Cluster";
    crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"] == true)
        .filter_map(|v| v["name"].as_str())
        .map(|version| TypeKey::builtin(group, version, kind, plural, namespaced))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crd_serves_one_kind_per_served_version() {
        let crd = serde_json::json!({"spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": true}, {"name": "v1beta1", "served": false}, {"name": "v2", "served": true}]}});
        let kinds = served_kinds(&crd);
        assert_eq!(kinds.len(), 2);
        assert_eq!(kinds[0], TypeKey::builtin("example.com", "v1", "Widget", "widgets", true));
        assert_eq!(kinds[1].version, "v2");
    }
}
