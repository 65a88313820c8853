//! Planning's reads: for each type, the copies on the destination first (their records decide what
//! must be read on the source), then the source page by page, each object decided by
//! [`crate::core::plan`] as it arrives; then the cluster-scoped objects the namespaced ones need, the
//! CRDs of custom resources, and the namespaces.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::ApiResource;
use serde_json::Value;
use stork_api::annotations::{FIELD_MANAGER, RESOURCE_HASH};
use stork_kube::ServedType;

use super::destination::{Served, copies};
use super::read::{self, for_each_listed, for_each_listed_identity, name_of, namespace_of};
use super::run::{Planned, Run};
use crate::cache::Preparation;
use crate::core::hash::ContentHash;
use crate::core::model::{Entry, EntryResult, ObjectId, TypeKey, UpdateReason};
use crate::core::plan::{
    ClusterWrite, CopyRecord, Decision, SourceState, cluster_write, decide, decide_on_objects, may_purge,
};
use crate::core::prepare::{Prepared, crd_copy, namespace_copy};
use crate::core::select::{
    ClusterNeeds, crd_name, dependency_order, is_dependency_type, is_read_whole, list_scopes, select_cluster_object,
    skip_reason, wants_type,
};
use crate::error::EngineError;

/// Types planned at once.
const CONCURRENT_TYPES: usize = 16;
/// Objects whose copies are checked value by value at once (each holds both whole objects).
const VERIFY_BATCH: usize = 200;

/// Everything a run will write (or, planning only, would write), by step.
pub(super) struct Plan {
    pub namespaces: Vec<Planned>,
    pub crds: Vec<Planned>,
    pub types: Vec<TypePlan>,
    /// Objects that need no write, settled while planning.
    pub entries: Vec<Entry>,
    pub skipped: u64,
    /// How long each step of planning took.
    pub phases: Vec<(&'static str, std::time::Duration)>,
    /// Types the controller may not list on the source (`plural.group`), sorted.
    pub unreadable: Vec<String>,
}

/// The writes and purges of one type.
pub(super) struct TypePlan {
    pub key: Arc<TypeKey>,
    /// The source's API resource for the type.
    pub ar: ApiResource,
    pub scopes: Vec<Option<String>>,
    pub writes: Vec<Planned>,
    /// Copies stork-rs wrote whose source objects are gone.
    pub purge: Vec<ObjectId>,
}

/// What planning one type found.
struct Surveyed {
    plan: TypePlan,
    entries: Vec<Entry>,
    needs: ClusterNeeds,
    skipped: u64,
    /// Objects of the type being migrated (a custom type's CRD comes along when there are any).
    migrated: usize,
    /// Cluster-scoped objects this migration would write but may not (see `cluster_write`).
    needs_admin: Vec<String>,
}

impl Surveyed {
    fn new(key: Arc<TypeKey>, ar: ApiResource, scopes: Vec<Option<String>>) -> Self {
        Self {
            plan: TypePlan { key, ar, scopes, writes: Vec::new(), purge: Vec::new() },
            entries: Vec::new(),
            needs: ClusterNeeds::default(),
            skipped: 0,
            migrated: 0,
            needs_admin: Vec::new(),
        }
    }
}

/// A CRD's copy and what the destination has of it.
struct CrdPair {
    id: ObjectId,
    copy: Value,
    hash: ContentHash,
    existing: Option<Value>,
}

/// What is known of a listed source object's content.
enum Look {
    /// Prepared by an earlier migration at this version.
    Remembered(crate::core::plan::Summary),
    /// Read whole and prepared now.
    Prepared(Prepared),
    /// Listed as metadata only and not remembered.
    Unread,
}

/// An object waiting for a read before it can be decided.
enum Pending {
    /// Its content, to prepare it.
    Source(ObjectId),
    /// The copy's values (and the source's, unless prepared already).
    Copy(ObjectId, Option<Prepared>),
}

impl Run<'_> {
    pub(super) async fn plan(&self, source_types: &[ServedType], served: &Served) -> Result<Plan, EngineError> {
        let typed = |t: &ServedType| (Arc::new(TypeKey::of(&t.ar, t.namespaced)), t.ar.clone());
        let wanted: Vec<(Arc<TypeKey>, ApiResource)> =
            source_types.iter().map(typed).filter(|(k, _)| wants_type(k, &self.job.spec)).collect();
        let mut dependencies: Vec<(Arc<TypeKey>, ApiResource)> =
            source_types.iter().map(typed).filter(|(k, _)| is_dependency_type(k)).collect();
        dependencies.sort_by_key(|(k, _)| dependency_order(k));

        // Namespaces first: in one the destination does not have yet, every object is new, so its
        // copies need not be listed there.
        let mut clock = std::time::Instant::now();
        let mut phases = Vec::new();
        let mut lap = |phases: &mut Vec<(&'static str, std::time::Duration)>, name| {
            phases.push((name, clock.elapsed()));
            clock = std::time::Instant::now();
        };
        let namespaces = self.plan_namespaces().await?;
        lap(&mut phases, "plan-namespaces");
        let fresh: BTreeSet<&str> = namespaces.iter().map(|p| p.id.name.as_str()).collect();
        let fresh = &fresh;
        let surveyed = stream::iter(wanted)
            .map(|(key, ar)| async move {
                // A type the controller may not list (its RBAC grants only what it is given) is left
                // out and reported, rather than failing everything else.
                let name = type_name(&key);
                match self.plan_type(key, ar, served, fresh).await {
                    Err(EngineError::Refused(e)) if e.code == Some(403) => Ok(Err(name)),
                    other => other.map(Ok),
                }
            })
            .buffer_unordered(CONCURRENT_TYPES)
            .try_collect::<Vec<Result<Surveyed, String>>>()
            .await;
        lap(&mut phases, "plan-objects");
        let mut plan = Plan {
            namespaces,
            crds: Vec::new(),
            types: Vec::new(),
            entries: Vec::new(),
            skipped: 0,
            phases: Vec::new(),
            unreadable: Vec::new(),
        };
        let mut needs = ClusterNeeds::default();
        let mut custom = Vec::new();
        for surveyed in surveyed? {
            let surveyed = match surveyed {
                Ok(surveyed) => surveyed,
                Err(unreadable) => {
                    plan.unreadable.push(unreadable);
                    continue;
                }
            };
            if surveyed.migrated > 0
                && let Some(name) = crd_name(&surveyed.plan.key)
            {
                custom.push(name);
            }
            needs.merge(surveyed.needs);
            plan.entries.extend(surveyed.entries);
            plan.skipped += surveyed.skipped;
            plan.types.push(surveyed.plan);
        }
        let (crds, dependencies) =
            tokio::join!(self.plan_crds(custom), self.plan_dependencies(dependencies, needs, served));
        let (crds, crd_entries, mut needs_admin) = crds?;
        plan.crds = crds;
        plan.entries.extend(crd_entries);
        for surveyed in dependencies? {
            needs_admin.extend(surveyed.needs_admin);
            plan.entries.extend(surveyed.entries);
            plan.skipped += surveyed.skipped;
            plan.types.push(surveyed.plan);
        }
        if !needs_admin.is_empty() {
            // Before any write: a tenant's Migration either fits its rights or changes nothing.
            return Err(EngineError::Invalid(needs_admin_message(&self.job.namespace, &needs_admin)));
        }
        lap(&mut phases, "plan-cluster");
        plan.phases = phases;
        Ok(plan)
    }

    /// Missing namespaces are created with the source's labels and annotations.
    async fn plan_namespaces(&self) -> Result<Vec<Planned>, EngineError> {
        let ar = ApiResource::erase::<Namespace>(&());
        let key = Arc::new(TypeKey::namespace());
        let (source, destination) = (&self.clusters.source, &self.clusters.cluster_destination);
        // One metadata list tells which exist on the destination; only the missing ones are read on the
        // source (a migration of unchanged namespaces reads none).
        let mut existing = BTreeSet::new();
        for_each_listed_identity(destination, &ar, &[None], |ns| {
            existing.insert(name_of(&ns).to_string());
            Ok(())
        })
        .await?;
        let missing: Vec<String> = self.job.namespaces.iter().filter(|ns| !existing.contains(*ns)).cloned().collect();
        let planned: Vec<Option<Planned>> = stream::iter(missing)
            .map(|ns| {
                let (ar, key) = (&ar, &key);
                async move {
                    let Some(on_source) = source.get_opt(ar, None, &ns).await? else { return Ok(None) };
                    let body = serde_json::to_vec(&namespace_copy(&on_source)).unwrap_or_default();
                    let id = ObjectId::new(key, "", &ns);
                    Ok::<_, EngineError>(Some(Planned {
                        id,
                        create: true,
                        body: Some(body),
                        transformed: Default::default(),
                        why: None,
                        adopted: false,
                    }))
                }
            })
            .buffer_unordered(read::CONCURRENT_READS)
            .try_collect()
            .await?;
        Ok(planned.into_iter().flatten().collect())
    }

    /// The CRDs named `names` that exist on the source (other names are built-in types): written when
    /// missing or different on the destination.
    async fn plan_crds(&self, names: Vec<String>) -> Result<(Vec<Planned>, Vec<Entry>, Vec<String>), EngineError> {
        let ar = ApiResource::erase::<CustomResourceDefinition>(&());
        let key = Arc::new(TypeKey::crd());
        let (source, destination) = (&self.clusters.source, &self.clusters.cluster_destination);
        let found: Vec<Option<CrdPair>> = stream::iter(names)
            .map(|name| {
                let (ar, key) = (&ar, &key);
                async move {
                    let Some(crd) = source.get_opt(ar, None, &name).await? else { return Ok(None) };
                    let (copy, hash) = crd_copy(&crd);
                    let existing = destination.get_opt(ar, None, &name).await?;
                    Ok::<_, EngineError>(Some(CrdPair { id: ObjectId::new(key, "", &name), copy, hash, existing }))
                }
            })
            .buffer_unordered(read::CONCURRENT_READS)
            .try_collect()
            .await?;
        let (mut writes, mut entries, mut needs_admin) = (Vec::new(), Vec::new(), Vec::new());
        for CrdPair { id, copy, hash, existing } in found.into_iter().flatten() {
            let current = existing.as_ref().and_then(|e| e["metadata"]["annotations"][RESOURCE_HASH].as_str())
                == Some(hash.to_hex().as_str());
            if current && !self.job.full {
                entries.push(self.settled(id, EntryResult::Unchanged, Default::default(), None));
                continue;
            }
            // A CRD copy carries no migrated mark: stork-rs's field manager on it says who wrote it.
            let ours = existing.as_ref().map(|e| {
                e["metadata"]["managedFields"]
                    .as_array()
                    .is_some_and(|m| m.iter().any(|f| f["manager"] == FIELD_MANAGER))
            });
            match cluster_write(&id.key, ours, self.job.admin) {
                ClusterWrite::Go => {}
                ClusterWrite::LeaveAlone => {
                    entries.push(self.settled(id, EntryResult::Kept, Default::default(), None));
                    continue;
                }
                ClusterWrite::NeedsAdmin => {
                    needs_admin.push(id.to_string());
                    continue;
                }
            }
            let body = serde_json::to_vec(&copy).unwrap_or_default();
            let why = existing.is_some().then_some(if self.job.full {
                UpdateReason::Full
            } else {
                UpdateReason::SourceChanged
            });
            writes.push(Planned {
                id,
                create: existing.is_none(),
                body: Some(body),
                transformed: Default::default(),
                why,
                adopted: false,
            });
        }
        Ok((writes, entries, needs_admin))
    }

    /// One namespaced type: its copies on the destination, then its objects on the source. `fresh`
    /// namespaces are missing on the destination.
    async fn plan_type(
        &self,
        key: Arc<TypeKey>,
        ar: ApiResource,
        served: &Served,
        fresh: &BTreeSet<&str>,
    ) -> Result<Surveyed, EngineError> {
        let scopes = list_scopes(&key, &self.job.namespaces, self.job.cluster_namespaces);
        let mut out = Surveyed::new(key.clone(), ar.clone(), scopes.clone());
        let all_fresh = self.job.namespaces.iter().all(|ns| fresh.contains(ns.as_str()));
        let warm = !self.memory.prepared.is_empty();
        let mut present: HashSet<ObjectId> = HashSet::new();
        let mut pending: Vec<Pending> = Vec::new();
        let source = &self.clusters.source;
        let records = if !all_fresh && warm && !is_read_whole(&key) {
            // Source objects prepared before are known by resourceVersion, so both sides are listed at
            // once (metadata only) and each object is judged once its copy's record is in.
            let mut seen = Vec::new();
            let (records, listed) = tokio::join!(
                self.copies(&key, served, &scopes),
                for_each_listed_identity(source, &ar, &scopes, |object| {
                    seen.extend(self.first_look(&key, &object, true, &mut out, &mut present));
                    Ok(())
                })
            );
            let records = records?;
            listed?;
            for (id, look) in seen {
                self.judge(&mut out, &mut pending, id, look, &records);
            }
            records
        } else {
            // What the destination holds decides what must be read on the source: copies first. Into
            // new namespaces every object is created: read whole now, its copy is kept for the write
            // while the budget for kept copies lasts. On a cold start, content decides.
            let records = if all_fresh { Default::default() } else { self.copies(&key, served, &scopes).await? };
            let metadata_only =
                !is_read_whole(&key) && if all_fresh { !self.retaining() } else { records.is_empty() || warm };
            for_each_listed(source, &ar, &scopes, metadata_only, |object| {
                if let Some((id, look)) = self.first_look(&key, &object, metadata_only, &mut out, &mut present) {
                    self.judge(&mut out, &mut pending, id, look, &records);
                }
                Ok(())
            })
            .await?;
            records
        };
        self.resolve_pending(&mut out, pending, &records, served).await?;
        out.plan.purge = records
            .iter()
            .filter(|(id, record)| !present.contains(*id) && may_purge(record, &self.job.writer))
            .map(|(id, _)| id.clone())
            .collect();
        Ok(out)
    }

    /// The records of the copies of `key` on the destination (none when it does not serve the type).
    async fn copies(
        &self,
        key: &Arc<TypeKey>,
        served: &Served,
        scopes: &[Option<String>],
    ) -> Result<std::collections::HashMap<ObjectId, CopyRecord>, EngineError> {
        let Some(dest_ar) = served.resource(key) else { return Ok(Default::default()) };
        let keep_sets = |id: &ObjectId| self.baseline(id).is_none();
        copies(self.destination_for(key), dest_ar, key, scopes, &self.job.namespaces, keep_sets).await
    }

    /// What a listed source object is to the plan: left out (`None`: another namespace, skip rules),
    /// or known by what is remembered of it, prepared now, or not read yet.
    fn first_look(
        &self,
        key: &Arc<TypeKey>,
        object: &Value,
        metadata_only: bool,
        out: &mut Surveyed,
        present: &mut HashSet<ObjectId>,
    ) -> Option<(ObjectId, Look)> {
        let namespace = namespace_of(object);
        if !self.job.namespaces.contains(namespace) {
            return None;
        }
        let id = ObjectId::new(key, namespace, name_of(object));
        present.insert(id.clone());
        if skip_reason(key, object, &self.job.spec).is_some() {
            out.skipped += 1;
            return None;
        }
        let look = match self.remembered(object) {
            Some(Preparation::Skip) => None,
            Some(Preparation::Copy(summary)) => Some(Look::Remembered(summary)),
            None if !metadata_only => self.prepare(key, object).map(Look::Prepared),
            None => Some(Look::Unread),
        };
        let Some(look) = look else {
            out.skipped += 1;
            return None;
        };
        if !metadata_only {
            out.needs.note(key, object);
        }
        out.migrated += 1;
        Some((id, look))
    }

    /// Decides a looked-at object against its copy's record.
    fn judge(
        &self,
        out: &mut Surveyed,
        pending: &mut Vec<Pending>,
        id: ObjectId,
        look: Look,
        records: &std::collections::HashMap<ObjectId, CopyRecord>,
    ) {
        let record = records.get(&id);
        let baseline = self.baseline(&id);
        let (decision, prepared, summary) = match look {
            // The prepared object itself lets kept managed sets decide without reading the copy.
            Look::Prepared(p) => {
                let state = SourceState::Prepared(p.summary, Some(&p.desired));
                let decision = decide(state, record, baseline.as_ref(), self.job.full);
                let summary = p.summary;
                (decision, Some(p), Some(summary))
            }
            Look::Remembered(summary) => {
                let state = SourceState::Prepared(summary, None);
                (decide(state, record, baseline.as_ref(), self.job.full), None, Some(summary))
            }
            Look::Unread => (decide(SourceState::Unread, record, baseline.as_ref(), self.job.full), None, None),
        };
        self.settle(out, pending, id, decision, prepared, summary, record);
    }

    /// What the cache remembers of a source object at its current version.
    fn remembered(&self, object: &Value) -> Option<Preparation> {
        let meta = &object["metadata"];
        let (uid, version) =
            (meta["uid"].as_str().unwrap_or_default(), meta["resourceVersion"].as_str().unwrap_or_default());
        self.memory.prepared.get(uid, self.fingerprint(namespace_of(object)), version)
    }

    /// Prepares a whole source object and remembers the result by its version.
    pub(super) fn prepare(&self, key: &TypeKey, object: &Value) -> Option<Prepared> {
        let meta = &object["metadata"];
        let prepared = self.preparer.prepare(key, object);
        let remembered = prepared.as_ref().map_or(Preparation::Skip, |p| Preparation::Copy(p.summary));
        self.memory.prepared.insert(
            meta["uid"].as_str().unwrap_or_default(),
            self.fingerprint(namespace_of(object)),
            meta["resourceVersion"].as_str().unwrap_or_default(),
            remembered,
        );
        prepared
    }

    /// Records what `decision` means for `id`.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        out: &mut Surveyed,
        pending: &mut Vec<Pending>,
        id: ObjectId,
        decision: Decision,
        prepared: Option<Prepared>,
        summary: Option<crate::core::plan::Summary>,
        record: Option<&CopyRecord>,
    ) {
        let transformed = summary.map(|s| s.transformed).unwrap_or_default();
        if matches!(decision, Decision::Create | Decision::Update(_)) {
            match cluster_write(&id.key, record.map(|r| r.written_by_us), self.job.admin) {
                ClusterWrite::Go => {}
                ClusterWrite::LeaveAlone => {
                    out.entries.push(self.settled(id, EntryResult::Kept, transformed, None));
                    return;
                }
                ClusterWrite::NeedsAdmin => {
                    out.needs_admin.push(id.to_string());
                    return;
                }
            }
        }
        match decision {
            Decision::Create | Decision::Update(_) => {
                let create = decision == Decision::Create;
                let adopted = !create && record.is_some_and(CopyRecord::adopted);
                let body = prepared.as_ref().and_then(|p| self.retained_body(p, adopted));
                let why = match decision {
                    Decision::Update(reason) => Some(reason),
                    _ => None,
                };
                out.plan.writes.push(Planned { id, create, body, transformed, why, adopted });
            }
            Decision::Unchanged => {
                // Decided from the kept sets or the values: remember the copy as clean.
                if self.baseline(&id).is_none() {
                    self.remember_clean(&id, record.and_then(CopyRecord::baseline));
                }
                out.entries.push(self.settled(id, EntryResult::Unchanged, transformed, None));
            }
            Decision::ReadSource => pending.push(Pending::Source(id)),
            Decision::Verify => pending.push(Pending::Copy(id, prepared)),
        }
    }
}

impl Run<'_> {
    /// Decides the objects that needed a read: first the source objects whose content was unknown, then
    /// the copies only their values can clear, a batch at a time.
    async fn resolve_pending(
        &self,
        out: &mut Surveyed,
        pending: Vec<Pending>,
        records: &std::collections::HashMap<ObjectId, CopyRecord>,
        served: &Served,
    ) -> Result<(), EngineError> {
        let (ar, scopes) = (out.plan.ar.clone(), out.plan.scopes.clone());
        let mut unread = Vec::new();
        let mut verify = Vec::new();
        for p in pending {
            match p {
                Pending::Source(id) => unread.push(id),
                Pending::Copy(id, prepared) => verify.push((id, prepared)),
            }
        }
        let mut again = Vec::new();
        let mut reads = read::whole(&self.clusters.source, &ar, unread, &scopes);
        while let Some(item) = reads.next().await {
            let (id, object) = item?;
            // Gone since it was listed: nothing to write; its copy is purged by a later run.
            let Some(object) = object else { continue };
            let Some(prepared) = self.prepare(&id.key, &object) else {
                out.skipped += 1;
                continue;
            };
            let record = records.get(&id);
            let state = SourceState::Prepared(prepared.summary, Some(&prepared.desired));
            let decision = decide(state, record, self.baseline(&id).as_ref(), self.job.full);
            let summary = prepared.summary;
            self.settle(out, &mut again, id, decision, Some(prepared), Some(summary), record);
        }
        drop(reads);
        for p in again {
            if let Pending::Copy(id, prepared) = p {
                verify.push((id, prepared));
            }
        }
        let Some(dest_ar) = served.resource(&out.plan.key).cloned() else { return Ok(()) };
        let destination = self.destination_for(&out.plan.key);
        while !verify.is_empty() {
            let batch: Vec<(ObjectId, Option<Prepared>)> = verify.drain(..verify.len().min(VERIFY_BATCH)).collect();
            let mut prepared: std::collections::HashMap<ObjectId, Prepared> = Default::default();
            let mut unread = Vec::new();
            for (id, p) in batch {
                match p {
                    Some(p) => {
                        prepared.insert(id, p);
                    }
                    None => unread.push(id),
                }
            }
            let mut reads = read::whole(&self.clusters.source, &ar, unread, &scopes);
            while let Some(item) = reads.next().await {
                let (id, object) = item?;
                let Some(object) = object else { continue };
                match self.prepare(&id.key, &object) {
                    Some(p) => {
                        prepared.insert(id, p);
                    }
                    None => out.skipped += 1,
                }
            }
            drop(reads);
            let ids: Vec<ObjectId> = prepared.keys().cloned().collect();
            let mut copies = read::whole(destination, &dest_ar, ids, &scopes);
            while let Some(item) = copies.next().await {
                let (id, actual) = item?;
                let Some(p) = prepared.remove(&id) else { continue };
                let decision = decide_on_objects(actual.as_ref(), &p.desired, FIELD_MANAGER);
                let record = actual.as_ref().map(|a| CopyRecord::from_metadata(&a["metadata"], FIELD_MANAGER, false));
                let summary = p.summary;
                self.settle(out, &mut Vec::new(), id, decision, Some(p), Some(summary), record.as_ref());
            }
        }
        Ok(())
    }

    /// The cluster-scoped objects the migrated namespaced ones need (bindings before the roles they
    /// bring), each decided against its copy read whole: they are few.
    async fn plan_dependencies(
        &self,
        types: Vec<(Arc<TypeKey>, ApiResource)>,
        mut needs: ClusterNeeds,
        served: &Served,
    ) -> Result<Vec<Surveyed>, EngineError> {
        let mut out = Vec::new();
        let destination = &self.clusters.cluster_destination;
        for (key, ar) in types {
            let scopes = vec![None];
            let mut surveyed = Surveyed::new(key.clone(), ar.clone(), scopes.clone());
            let mut selected: std::collections::HashMap<ObjectId, Prepared> = Default::default();
            for_each_listed(&self.clusters.source, &ar, &scopes, false, |object| {
                let Some(object) = select_cluster_object(&key, object, &self.job.namespaces, &mut needs) else {
                    return Ok(());
                };
                let id = ObjectId::new(&key, "", name_of(&object));
                match self.preparer.prepare(&key, &object) {
                    Some(p) => {
                        selected.insert(id, p);
                    }
                    None => surveyed.skipped += 1,
                }
                Ok(())
            })
            .await?;
            surveyed.migrated = selected.len();
            let Some(dest_ar) = served.resource(&key) else {
                for (id, p) in selected {
                    let summary = p.summary;
                    self.settle(&mut surveyed, &mut Vec::new(), id, Decision::Create, Some(p), Some(summary), None);
                }
                out.push(surveyed);
                continue;
            };
            let ids: Vec<ObjectId> = selected.keys().cloned().collect();
            let mut copies = read::whole(destination, dest_ar, ids, &scopes);
            while let Some(item) = copies.next().await {
                let (id, actual) = item?;
                let Some(p) = selected.remove(&id) else { continue };
                let record = actual.as_ref().map(|a| CopyRecord::from_metadata(&a["metadata"], FIELD_MANAGER, true));
                let state = SourceState::Prepared(p.summary, Some(&p.desired));
                let mut decision = decide(state, record.as_ref(), self.baseline(&id).as_ref(), self.job.full);
                if decision == Decision::Verify {
                    decision = decide_on_objects(actual.as_ref(), &p.desired, FIELD_MANAGER);
                }
                let summary = p.summary;
                self.settle(&mut surveyed, &mut Vec::new(), id, decision, Some(p), Some(summary), record.as_ref());
            }
            drop(copies);
            out.push(surveyed);
        }
        Ok(out)
    }
}

/// Why a Migration outside the admin namespace cannot run: the cluster-scoped objects it would write.
fn needs_admin_message(namespace: &str, objects: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut shown = objects.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if objects.len() > SHOWN {
        shown.push_str(&format!(" and {} more", objects.len() - SHOWN));
    }
    format!(
        "this Migration would write cluster-scoped objects on the destination, which only Migrations in the admin \
         namespace may: {shown}; create them on the destination first, exclude their types with \
         spec.excludeResourceTypes, or run the Migration from the admin namespace (not {namespace})"
    )
}

/// `plural.group` (`plural` for the core group), as RBAC rules and `kubectl` name a type.
fn type_name(key: &TypeKey) -> String {
    if key.group.is_empty() { key.plural.clone() } else { format!("{}.{}", key.plural, key.group) }
}
