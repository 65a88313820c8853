//! The words of the engine: resource types, object identities, and what happened to each object.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kube::api::ApiResource;
use stork_api::ResourceCounts;

/// A resource type as discovery reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeKey {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl TypeKey {
    pub fn of(ar: &ApiResource, namespaced: bool) -> Self {
        Self {
            group: ar.group.clone(),
            version: ar.version.clone(),
            kind: ar.kind.clone(),
            plural: ar.plural.clone(),
            namespaced,
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// `core` for the core group, as Stork reports it.
    pub fn status_group(&self) -> &str {
        if self.group.is_empty() { "core" } else { &self.group }
    }

    /// The API resource for requests.
    pub fn resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// (group, version, kind): how a type is matched between clusters.
    pub fn gvk(&self) -> (&str, &str, &str) {
        (&self.group, &self.version, &self.kind)
    }

    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.group == group && self.kind == kind
    }

    pub fn namespace() -> Self {
        Self::builtin("", "v1", "Namespace", "namespaces", false)
    }

    pub fn crd() -> Self {
        Self::builtin("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false)
    }

    pub fn builtin(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        Self { group: group.into(), version: version.into(), kind: kind.into(), plural: plural.into(), namespaced }
    }
}

/// One object: its type (shared by every object of the type), namespace (empty when cluster-scoped)
/// and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub key: Arc<TypeKey>,
    pub namespace: String,
    pub name: String,
}

impl ObjectId {
    pub fn new(key: &Arc<TypeKey>, namespace: &str, name: &str) -> Self {
        Self { key: key.clone(), namespace: namespace.to_string(), name: name.to_string() }
    }

    /// The namespace for requests: `None` for cluster-scoped objects.
    pub fn scope(&self) -> Option<&str> {
        self.key.namespaced.then_some(self.namespace.as_str())
    }
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.key.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.key.kind, self.namespace, self.name)
        }
    }
}

/// What a migration did (or, when only planning, would do) to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    Created,
    Updated,
    Unchanged,
    /// A cluster-scoped object that exists on the destination and was not written by stork-rs: left as
    /// it is (see [`crate::core::plan::cluster_write`]).
    Kept,
    /// With the reason, bounded for status.
    Failed(String),
    Purged,
}

/// Why a copy is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateReason {
    /// A full migration rewrites everything.
    Full,
    SourceChanged,
    /// Someone else changed or removed a field stork-rs set.
    Drifted,
    /// The object exists on the destination but stork-rs never wrote it.
    Adopted,
}

/// The outcome for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: ObjectId,
    pub result: EntryResult,
    /// Name of the ResourceTransformation that changed the object, if any.
    pub transformed_by: String,
    /// Why it was (or would be) updated.
    pub why: Option<UpdateReason>,
    /// Paths of the ResourceTransformation that matched nothing in it.
    pub unmatched: u8,
}

/// What one run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub entries: Vec<Entry>,
    pub counts: ResourceCounts,
    /// True when the run only planned: every entry says what would happen, nothing was written.
    pub planned_only: bool,
    /// Namespaces created on the destination (or that would be). Like Stork, not migrated resources of
    /// their own: only a failure to create one is an entry.
    pub namespaces_created: Vec<String>,
    /// Wall time of each phase, for the log line that ends a migration.
    pub phases: Vec<(&'static str, Duration)>,
    /// Types the controller may not list on the source (`plural.group`): their objects were not copied.
    pub unreadable: Vec<String>,
}

impl Outcome {
    pub fn record(&mut self, entry: Entry) {
        let counts = &mut self.counts;
        match &entry.result {
            EntryResult::Created => counts.created += 1,
            EntryResult::Updated => counts.updated += 1,
            EntryResult::Unchanged | EntryResult::Kept => counts.unchanged += 1,
            EntryResult::Failed(_) => counts.failed += 1,
            EntryResult::Purged => counts.purged += 1,
        }
        counts.transform_unmatched += u64::from(entry.unmatched > 0);
        self.entries.push(entry);
    }

    /// Objects the migration is about: everything but purges (a failed purge is not a migrated object).
    pub fn finish_counts(&mut self) {
        let failed_purges = self.entries.iter().filter(|e| e.is_failed_purge()).count() as u64;
        let c = &mut self.counts;
        c.total = c.created + c.updated + c.unchanged + c.failed - failed_purges;
        c.processed = self.entries.len() as u64;
    }

    /// `read-source=120ms plan=3ms ...`
    pub fn phase_summary(&self) -> String {
        self.phases.iter().map(|(name, d)| format!("{name}={}ms", d.as_millis())).collect::<Vec<_>>().join(" ")
    }
}

/// Prefix of the reason of a purge that failed.
pub const PURGE_FAILED: &str = "Error purging resource: ";

impl Entry {
    pub fn new(id: ObjectId, result: EntryResult) -> Self {
        Self { id, result, transformed_by: String::new(), why: None, unmatched: 0 }
    }

    fn is_failed_purge(&self) -> bool {
        matches!(&self.result, EntryResult::Failed(r) if r.starts_with(PURGE_FAILED))
    }
}

/// How far a running migration got, for a live status; shared with whoever reports it.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
}

impl Progress {
    pub fn advance(&self, by: u64) {
        self.done.fetch_add(by, Ordering::Relaxed);
    }

    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str) -> ObjectId {
        ObjectId::new(&Arc::new(TypeKey::builtin("", "v1", "ConfigMap", "configmaps", true)), "ns", name)
    }

    #[test]
    fn counts_follow_the_entries_and_failed_purges_are_not_migrated_objects() {
        let mut outcome = Outcome::default();
        outcome.record(Entry::new(id("a"), EntryResult::Created));
        outcome.record(Entry::new(id("b"), EntryResult::Updated));
        outcome.record(Entry::new(id("c"), EntryResult::Unchanged));
        outcome.record(Entry::new(id("d"), EntryResult::Failed("denied".into())));
        outcome.record(Entry::new(id("e"), EntryResult::Purged));
        outcome.record(Entry::new(id("f"), EntryResult::Failed(format!("{PURGE_FAILED}forbidden"))));
        outcome.finish_counts();
        let c = &outcome.counts;
        assert_eq!((c.created, c.updated, c.unchanged, c.failed, c.purged), (1, 1, 1, 2, 1));
        assert_eq!(c.total, 4, "created + updated + unchanged + failed, without the failed purge");
        assert_eq!(c.processed, 6);
    }

    #[test]
    fn identities_print_for_people() {
        assert_eq!(id("web").to_string(), "ConfigMap ns/web");
        let pv = ObjectId::new(
            &Arc::new(TypeKey::builtin("", "v1", "PersistentVolume", "persistentvolumes", false)),
            "",
            "pv1",
        );
        assert_eq!(pv.to_string(), "PersistentVolume pv1");
        assert_eq!(pv.scope(), None);
        assert_eq!(id("web").scope(), Some("ns"));
    }
}
