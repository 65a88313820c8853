//! Planning: what the destination needs for one object (create it, update it because the source changed
//! or the copy drifted, or nothing), from as little as is known of both sides, and the order writes go
//! out in. Pure: the engine feeds it what it read and carries out what it decides.

use serde_json::Value;

use super::drift::{ManagedSets, MetadataVerdict, drifted, verdict};
use super::hash::ContentHash;
use super::model::TypeKey;

/// A source object prepared for the destination, as remembered between migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub hash: ContentHash,
    /// What a ResourceTransformation did to it.
    pub transformed: Transformed,
}

/// What a ResourceTransformation did to an object: whether its rules matched it, and how many of their
/// paths found nothing to change in it (kept as a count: the transformation's own status names them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transformed {
    pub applied: bool,
    pub unmatched: u8,
}

/// What is known of the copy on the destination, from its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyRecord {
    pub uid: String,
    /// Its `resource-hash` annotation: the hash of the source object last written.
    pub hash: Option<ContentHash>,
    /// Digest of the fields stork-rs owns there (see [`ManagedSets::ours_digest`]); `None` when stork-rs
    /// never wrote it.
    pub ours: Option<u64>,
    /// Digest of the sets other managers wrote after stork-rs did.
    pub later: u64,
    /// Whether one of those later writers touched a field stork-rs owns.
    pub overlapped: bool,
    /// Marked migrated and written by stork-rs.
    pub written_by_us: bool,
    /// Its writer mark (see `stork_api::annotations::WRITER`).
    pub writer: Option<String>,
    /// Marked as having existed before stork-rs first wrote it.
    pub adopted_mark: bool,
    /// The sets themselves, kept only while no [`Baseline`] can decide for them.
    pub sets: Option<Box<ManagedSets>>,
}

impl CopyRecord {
    /// The record of a copy from its `metadata`.
    pub fn from_metadata(meta: &Value, our_manager: &str, keep_sets: bool) -> Self {
        let sets = ManagedSets::of(&meta["managedFields"], our_manager);
        let written_by_us = meta["annotations"][stork_api::annotations::MIGRATED] == "true"
            && meta["managedFields"].as_array().is_some_and(|m| m.iter().any(|f| f["manager"] == our_manager));
        Self {
            uid: meta["uid"].as_str().unwrap_or_default().to_string(),
            hash: meta["annotations"][stork_api::annotations::RESOURCE_HASH].as_str().and_then(ContentHash::from_hex),
            ours: sets.as_ref().map(ManagedSets::ours_digest),
            later: sets.as_ref().map(ManagedSets::later_digest).unwrap_or(0),
            overlapped: sets.as_ref().is_some_and(ManagedSets::overlapped),
            written_by_us,
            writer: meta["annotations"][stork_api::annotations::WRITER].as_str().map(String::from),
            adopted_mark: meta["annotations"][stork_api::annotations::ADOPTED] == "true",
            sets: sets.filter(|_| keep_sets).map(Box::new),
        }
    }

    /// Whether the copy existed before stork-rs first wrote it: marked so already, or about to be
    /// written by stork-rs for the first time.
    pub fn adopted(&self) -> bool {
        self.adopted_mark || !self.written_by_us
    }

    /// What to remember of this copy once it is known to hold what stork-rs wants there.
    pub fn baseline(&self) -> Option<Baseline> {
        Some(Baseline { uid: self.uid.clone(), ours: self.ours?, later: self.later })
    }
}

/// The state of a copy when it was last known clean: right after stork-rs wrote it, or after a check
/// found nothing drifted. While the fields stork-rs owns are the same and no later writer touched them
/// (or the same later writers as at the check), the copy still holds what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub uid: String,
    pub ours: u64,
    pub later: u64,
}

impl Baseline {
    /// Whether `copy` still holds what stork-rs last wrote or checked there: the same object, the same
    /// fields owned by stork-rs, and no later writer touching them (or only the ones seen then).
    pub fn still_holds(&self, copy: &CopyRecord) -> bool {
        self.uid == copy.uid && copy.ours == Some(self.ours) && (!copy.overlapped || self.later == copy.later)
    }
}

/// What is known of the source object.
#[derive(Debug, Clone, Copy)]
pub enum SourceState<'a> {
    /// Listed as metadata only and not prepared at this version: its content is unknown.
    Unread,
    /// Prepared (now or by an earlier migration); the object itself when it was prepared now.
    Prepared(Summary, Option<&'a Value>),
}

pub use super::model::UpdateReason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Create,
    Update(UpdateReason),
    Unchanged,
    /// The source object must be read whole (and prepared) before deciding.
    ReadSource,
    /// Only the copy's values can tell whether it drifted: decide with [`decide_on_objects`].
    Verify,
}

/// The decision for one object from what is known: the prepared source (or not yet), the copy's record
/// (`None`: missing), the copy's last clean state, and whether the migration is a full one.
pub fn decide(source: SourceState<'_>, copy: Option<&CopyRecord>, baseline: Option<&Baseline>, full: bool) -> Decision {
    let Some(copy) = copy else { return Decision::Create };
    if full {
        return Decision::Update(UpdateReason::Full);
    }
    let SourceState::Prepared(summary, desired) = source else { return Decision::ReadSource };
    if copy.hash != Some(summary.hash) {
        return Decision::Update(UpdateReason::SourceChanged);
    }
    if copy.ours.is_none() {
        return Decision::Update(UpdateReason::Adopted);
    }
    if baseline.is_some_and(|b| b.still_holds(copy)) {
        return Decision::Unchanged;
    }
    match (&copy.sets, desired) {
        (Some(sets), Some(desired)) => match verdict(sets, desired) {
            MetadataVerdict::Clean => Decision::Unchanged,
            MetadataVerdict::NeverWritten => Decision::Update(UpdateReason::Adopted),
            MetadataVerdict::NeedsObject => Decision::Verify,
        },
        _ => Decision::Verify,
    }
}

/// The decision once both whole objects are at hand: `actual` on the destination (`None`: gone since it
/// was listed) and `desired` prepared from the source.
pub fn decide_on_objects(actual: Option<&Value>, desired: &Value, our_manager: &str) -> Decision {
    match actual {
        None => Decision::Create,
        Some(actual) if drifted(actual, desired, our_manager) => Decision::Update(UpdateReason::Drifted),
        Some(_) => Decision::Unchanged,
    }
}

/// Whether purge may delete a copy whose source object is gone: only one stork-rs created (not adopted)
/// and that carries `writer`, the purging pair's own mark — never another source cluster's copy, nor
/// one written by another namespace's pair, nor one written before writers were marked.
pub fn may_purge(copy: &CopyRecord, writer: &str) -> bool {
    copy.written_by_us && !copy.adopted_mark && !writer.is_empty() && copy.writer.as_deref() == Some(writer)
}

/// Whether a planned create or update of an object may go out, for what the destination is shared
/// with: other tenants, and whatever else manages cluster-scoped objects there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterWrite {
    Go,
    /// Cluster-scoped, existing on the destination and not written by stork-rs: someone else's object
    /// (a CRD an operator installed, a ClusterRoleBinding with subjects of its own). Never overwritten.
    LeaveAlone,
    /// Cluster-scoped, and the migration may not write such objects: only Migrations in the admin
    /// namespace may (a tenant's Migration brings only the volumes bound to its own claims).
    NeedsAdmin,
}

/// The rule for `key`: `copy_written_by_us` is `None` when the object is missing on the destination,
/// else whether stork-rs wrote it; `admin` whether the migration may write cluster-scoped objects.
/// Namespaces are the migration's own and are created (never updated) by their own rule.
pub fn cluster_write(key: &TypeKey, copy_written_by_us: Option<bool>, admin: bool) -> ClusterWrite {
    if key.namespaced || key.is("", "Namespace") {
        return ClusterWrite::Go;
    }
    if copy_written_by_us == Some(false) {
        return ClusterWrite::LeaveAlone;
    }
    if !admin && !key.is("", "PersistentVolume") {
        return ClusterWrite::NeedsAdmin;
    }
    ClusterWrite::Go
}

/// Order of application: namespaces and CRDs go first (see the engine); then cluster-scoped
/// dependencies, then what others refer to, then everything else.
pub fn apply_tier(key: &TypeKey) -> u8 {
    match (key.group.as_str(), key.kind.as_str()) {
        (_, _) if !key.namespaced => 0,
        ("", "ServiceAccount" | "Secret" | "ConfigMap" | "PersistentVolumeClaim" | "LimitRange" | "ResourceQuota") => 1,
        ("rbac.authorization.k8s.io", "Role" | "RoleBinding") => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn purge_takes_only_the_pairs_own_copies_that_it_created() {
        let record = |annotations: Value| {
            let meta = json!({"uid": "u", "annotations": annotations, "managedFields": [{"manager": "stork-rs"}]});
            CopyRecord::from_metadata(&meta, "stork-rs", false)
        };
        let ours = record(json!({"stork.libopenstorage.org/migrated": "true", "stork-rs.io/writer": "src/shop/pair"}));
        assert!(super::may_purge(&ours, "src/shop/pair"));
        assert!(!super::may_purge(&ours, "other-src/shop/pair"), "another source cluster's pair");
        assert!(!super::may_purge(&ours, ""), "a run without a writer purges nothing");
        let adopted =
            record(json!({"stork.libopenstorage.org/migrated": "true", "stork-rs.io/writer": "src/shop/pair",
                                    "stork-rs.io/adopted": "true"}));
        assert!(!super::may_purge(&adopted, "src/shop/pair"), "it existed before stork-rs wrote it");
        let unmarked = record(json!({"stork.libopenstorage.org/migrated": "true"}));
        assert!(!super::may_purge(&unmarked, "src/shop/pair"), "written before writers were marked");
        assert!(unmarked.written_by_us && !unmarked.adopted());
        let foreign = record(json!({}));
        assert!(foreign.adopted(), "about to be written for the first time");
    }

    #[test]
    fn cluster_scoped_objects_of_others_are_left_alone_and_tenants_write_only_their_volumes() {
        use super::{ClusterWrite as W, cluster_write};
        let key = |group: &str, kind: &str, namespaced: bool| TypeKey {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            namespaced,
        };
        let crb = key("rbac.authorization.k8s.io", "ClusterRoleBinding", false);
        let pv = key("", "PersistentVolume", false);
        let cm = key("", "ConfigMap", true);
        assert_eq!(cluster_write(&cm, Some(false), false), W::Go, "namespaced objects are adopted as before");
        assert_eq!(cluster_write(&key("", "Namespace", false), None, false), W::Go);
        assert_eq!(cluster_write(&crb, Some(false), true), W::LeaveAlone, "someone else's, even for admins");
        assert_eq!(cluster_write(&crb, Some(true), true), W::Go);
        assert_eq!(cluster_write(&crb, None, true), W::Go);
        assert_eq!(cluster_write(&crb, None, false), W::NeedsAdmin);
        assert_eq!(cluster_write(&crb, Some(true), false), W::NeedsAdmin);
        assert_eq!(cluster_write(&crb, Some(false), false), W::LeaveAlone, "no write, so no rights needed");
        assert_eq!(cluster_write(&pv, None, false), W::Go, "a tenant's own bound volumes");
        assert_eq!(cluster_write(&pv, Some(false), true), W::LeaveAlone);
    }

    use super::*;
    use crate::core::hash::content_hash;
    use serde_json::json;

    fn hash(n: u8) -> ContentHash {
        content_hash(&json!(n))
    }

    fn summary(n: u8) -> Summary {
        Summary { hash: hash(n), transformed: Transformed::default() }
    }

    fn entry(manager: &str, time: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": "Apply", "time": time, "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    fn desired() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "v"}})
    }

    fn copy(managed: Value, keep_sets: bool) -> CopyRecord {
        let meta = json!({"uid": "u1", "annotations": {
            "stork.libopenstorage.org/resource-hash": hash(1).to_hex(), "stork.libopenstorage.org/migrated": "true"},
            "managedFields": managed});
        CopyRecord::from_metadata(&meta, "stork-rs", keep_sets)
    }

    fn ours() -> Value {
        entry("stork-rs", "2026-01-01T00:00:00Z", json!({"f:data": {"f:k": {}}}))
    }

    #[test]
    fn missing_copies_are_created_and_full_migrations_rewrite_everything() {
        assert_eq!(decide(SourceState::Unread, None, None, false), Decision::Create);
        assert_eq!(decide(SourceState::Unread, None, None, true), Decision::Create);
        let listed = copy(json!([ours()]), false);
        assert_eq!(decide(SourceState::Unread, Some(&listed), None, true), Decision::Update(UpdateReason::Full));
    }

    #[test]
    fn content_is_read_only_when_a_copy_exists_to_compare_with() {
        let listed = copy(json!([ours()]), false);
        assert_eq!(decide(SourceState::Unread, Some(&listed), None, false), Decision::ReadSource);
        let changed = SourceState::Prepared(summary(2), None);
        assert_eq!(decide(changed, Some(&listed), None, false), Decision::Update(UpdateReason::SourceChanged));
        let foreign = copy(json!([entry("kubectl", "2026-01-01T00:00:00Z", json!({"f:data": {}}))]), false);
        let same = SourceState::Prepared(summary(1), None);
        assert_eq!(decide(same, Some(&foreign), None, false), Decision::Update(UpdateReason::Adopted));
        assert!(!foreign.written_by_us, "purge never deletes what stork-rs did not write");
        assert!(listed.written_by_us);
    }

    #[test]
    fn a_baseline_clears_untouched_copies_without_reading_them() {
        let listed = copy(json!([ours()]), false);
        let same = SourceState::Prepared(summary(1), None);
        let baseline = listed.baseline().expect("ours");
        assert_eq!(decide(same, Some(&listed), Some(&baseline), false), Decision::Unchanged);
        // Without one (a restarted controller), only the values can tell.
        assert_eq!(decide(same, Some(&listed), None, false), Decision::Verify);
        // A copy deleted and recreated by someone else is not the one checked.
        let other = Baseline { uid: "u2".into(), ..baseline.clone() };
        assert_eq!(decide(same, Some(&listed), Some(&other), false), Decision::Verify);
        // A field that left our set since: verify.
        let trimmed = copy(json!([entry("stork-rs", "2026-01-01T00:00:00Z", json!({"f:data": {}}))]), false);
        assert_eq!(decide(same, Some(&trimmed), Some(&baseline), false), Decision::Verify);
        // A later writer beside our fields does not matter; one on our fields does, until checked.
        let beside = entry("kcm", "2026-01-02T00:00:00Z", json!({"f:metadata": {"f:annotations": {"f:x": {}}}}));
        let touched = copy(json!([ours(), beside]), false);
        assert_eq!(decide(same, Some(&touched), Some(&baseline), false), Decision::Unchanged);
        let on_ours = entry("kubectl", "2026-01-02T00:00:00Z", json!({"f:data": {"f:k": {}}}));
        let shared = copy(json!([ours(), on_ours]), false);
        assert_eq!(decide(same, Some(&shared), Some(&baseline), false), Decision::Verify);
        let checked = shared.baseline().expect("ours");
        assert_eq!(decide(same, Some(&shared), Some(&checked), false), Decision::Unchanged, "checked with that writer");
    }

    #[test]
    fn without_a_baseline_the_kept_sets_decide_with_the_prepared_object() {
        let listed = copy(json!([ours()]), true);
        let desired = desired();
        let prepared = SourceState::Prepared(summary(1), Some(&desired));
        assert_eq!(decide(prepared, Some(&listed), None, false), Decision::Unchanged);
        let edit = entry("kubectl", "2026-01-02T00:00:00Z", json!({"f:data": {"f:k": {}}}));
        let edited = copy(json!([ours(), edit]), true);
        assert_eq!(decide(prepared, Some(&edited), None, false), Decision::Verify);
        let mut actual = desired.clone();
        actual["metadata"]["managedFields"] =
            json!([ours(), entry("kubectl", "2026-01-02T00:00:00Z", json!({"f:data": {"f:k": {}}}))]);
        assert_eq!(decide_on_objects(Some(&actual), &desired, "stork-rs"), Decision::Unchanged, "same value");
        actual["data"]["k"] = json!("edited");
        assert_eq!(decide_on_objects(Some(&actual), &desired, "stork-rs"), Decision::Update(UpdateReason::Drifted));
        assert_eq!(decide_on_objects(None, &desired, "stork-rs"), Decision::Create);
    }

    #[test]
    fn dependencies_are_applied_before_what_uses_them() {
        let k = |group: &str, kind: &str, namespaced: bool| TypeKey::builtin(group, "v1", kind, "x", namespaced);
        assert_eq!(apply_tier(&k("", "PersistentVolume", false)), 0);
        assert_eq!(apply_tier(&k("rbac.authorization.k8s.io", "ClusterRole", false)), 0);
        for kind in ["ServiceAccount", "Secret", "ConfigMap", "PersistentVolumeClaim"] {
            assert_eq!(apply_tier(&k("", kind, true)), 1, "{kind}");
        }
        assert_eq!(apply_tier(&k("rbac.authorization.k8s.io", "RoleBinding", true)), 1);
        assert_eq!(apply_tier(&k("apps", "Deployment", true)), 2);
        assert_eq!(apply_tier(&k("example.com", "Widget", true)), 2);
    }
}
