//! Continuous sync's decisions: which watched changes are due to be written (debounced, coalesced per
//! object), how far behind the destination is, whether a change a watch reports on a copy needs a
//! look at all (stork-rs's own writes come back as changes too), and whether a source object's change
//! touched more than its status.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::hash::ContentHash;
use super::model::ObjectId;
use super::plan::{Baseline, CopyRecord};

/// A change waiting to be written: when it was first seen (the lag counts from there) and when last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiting {
    first: Instant,
    last: Instant,
}

/// The changed objects not yet written. Each object is one entry however often it changes; it is due
/// once it has been quiet for the debounce, or, when it never is, once it has waited [`Backlog::max_wait`].
#[derive(Debug)]
pub struct Backlog {
    debounce: Duration,
    waiting: HashMap<ObjectId, Waiting>,
    /// Being written now, with when the change was first seen.
    in_flight: HashMap<ObjectId, Instant>,
}

impl Backlog {
    pub fn new(debounce: Duration) -> Self {
        Self { debounce, waiting: HashMap::new(), in_flight: HashMap::new() }
    }

    /// The longest an object that keeps changing waits: its changes still reach the destination,
    /// one write per this period.
    pub fn max_wait(&self) -> Duration {
        (self.debounce * 10).max(Duration::from_secs(1))
    }

    /// Notes a change of `id` seen at `at`.
    pub fn note(&mut self, id: ObjectId, at: Instant) {
        self.waiting.entry(id).and_modify(|w| w.last = w.last.max(at)).or_insert(Waiting { first: at, last: at });
    }

    /// Takes up to `max` due changes (oldest first) and counts them in flight; an object being written
    /// is not taken again until [`Backlog::written`] or [`Backlog::retry`].
    pub fn take_due(&mut self, now: Instant, max: usize) -> Vec<ObjectId> {
        let mut due: Vec<(Instant, ObjectId)> = self
            .waiting
            .iter()
            .filter(|(id, w)| !self.in_flight.contains_key(*id) && self.is_due(w, now))
            .map(|(id, w)| (w.first, id.clone()))
            .collect();
        due.sort();
        due.truncate(max);
        due.into_iter()
            .map(|(first, id)| {
                self.waiting.remove(&id);
                self.in_flight.insert(id.clone(), first);
                id
            })
            .collect()
    }

    /// Takes up to `max` waiting changes, due or not (a drain does not wait for the debounce).
    pub fn take_all(&mut self, max: usize) -> Vec<ObjectId> {
        let far = self.waiting.values().map(|w| w.last + self.max_wait() + self.debounce).max();
        far.map_or_else(Vec::new, |far| self.take_due(far, max))
    }

    fn is_due(&self, w: &Waiting, now: Instant) -> bool {
        now >= w.last + self.debounce || now >= w.first + self.max_wait()
    }

    /// When the next change falls due (`None`: nothing waits, or only objects in flight).
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting
            .iter()
            .filter(|(id, _)| !self.in_flight.contains_key(*id))
            .map(|(_, w)| (w.last + self.debounce).min(w.first + self.max_wait()))
            .min()
    }

    /// `id` was written (or needed no write).
    pub fn written(&mut self, id: &ObjectId) {
        self.in_flight.remove(id);
    }

    /// `id` could not be written: it waits again, keeping when its change was first seen, due at `at`.
    pub fn retry(&mut self, id: ObjectId, at: Instant) {
        let first = self.in_flight.remove(&id).unwrap_or(at);
        let last = at.checked_sub(self.debounce).unwrap_or(at);
        let entry = self.waiting.entry(id).or_insert(Waiting { first, last });
        entry.first = entry.first.min(first);
    }

    /// Objects changed and not yet written, in flight included.
    pub fn len(&self) -> usize {
        self.waiting.len() + self.in_flight.keys().filter(|id| !self.waiting.contains_key(*id)).count()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.in_flight.is_empty()
    }

    /// How far behind the destination is: the age of the oldest change not yet written.
    pub fn lag(&self, now: Instant) -> Duration {
        let oldest = self.waiting.values().map(|w| w.first).chain(self.in_flight.values().copied()).min();
        oldest.map_or(Duration::ZERO, |first| now.saturating_duration_since(first))
    }

    /// Forgets everything waiting: a catch-up pass compares both clusters whole instead.
    pub fn clear(&mut self) {
        self.waiting.clear();
    }
}

/// Whether a change a watch reports on a copy may have undone what stork-rs wrote there. A copy whose
/// fields stork-rs owns are as it left them ([`Baseline::still_holds`]) needs no look: that is how the
/// echo of stork-rs's own writes, and a controller's writes to fields stork-rs leaves alone, are told
/// from drift without reading anything.
pub fn copy_needs_look(record: &CopyRecord, baseline: Option<&Baseline>) -> bool {
    !baseline.is_some_and(|b| b.still_holds(record))
}

/// Whether a change a watch reports on a copy (`None`: deleted) must be looked at: a deleted copy, a
/// copy not as stork-rs left it ([`copy_needs_look`]), or one carrying another hash than the sync last
/// wrote there (another writer of the pair, such as a full pass that read the source earlier, wrote an
/// older version: its fields are stork-rs's, so only the hash tells). An object stork-rs never wrote (a
/// ReplicaSet the destination's controllers made, an operator's own) is not a copy: its changes are not
/// drift (a full pass decides whether to adopt it).
pub fn copy_change_matters(
    record: Option<&CopyRecord>,
    baseline: Option<&Baseline>,
    last_written: Option<ContentHash>,
) -> bool {
    let Some(record) = record else { return true };
    if !record.written_by_us {
        return false;
    }
    last_written.is_some_and(|h| record.hash != Some(h)) || copy_needs_look(record, baseline)
}

/// Tells a source object's status-only updates (which no copy carries: a controller reporting on the
/// workloads it runs, often many times a second) from changes that may change its copy, from the
/// metadata a watch sees. An object whose API server keeps a `generation` bumps it for every change
/// but to metadata and status; the rest of the metadata is remembered as one hash per such object.
/// Objects without a generation (ConfigMaps, Services) always count as changed.
#[derive(Debug, Default)]
pub struct StatusOnlyFilter {
    seen: HashMap<(String, String), u64>,
}

impl StatusOnlyFilter {
    /// Whether this event may change the object's copy; remembers what it saw.
    pub fn may_change_copy(&mut self, meta: &ObjectMeta, deleted: bool) -> bool {
        let key = (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default());
        if deleted || meta.generation.unwrap_or(0) <= 0 {
            self.seen.remove(&key);
            return true;
        }
        let fingerprint = fingerprint(meta);
        self.seen.insert(key, fingerprint) != Some(fingerprint)
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.seen.len()
    }
}

/// What of an object's metadata a copy may depend on, with its generation.
fn fingerprint(meta: &ObjectMeta) -> u64 {
    let mut hasher = DefaultHasher::new();
    meta.generation.hash(&mut hasher);
    meta.labels.hash(&mut hasher);
    meta.annotations.hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp.as_ref().map(|t| t.0.to_string()).hash(&mut hasher);
    for owner in meta.owner_references.iter().flatten() {
        (&owner.api_version, &owner.kind, &owner.name, &owner.uid, owner.controller).hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::core::model::TypeKey;

    fn meta(generation: Option<i64>, label: &str) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("ns".into()),
            name: Some("web".into()),
            generation,
            labels: Some([("app".to_string(), label.to_string())].into()),
            resource_version: Some(label.len().to_string()),
            ..Default::default()
        }
    }

    #[test]
    fn a_status_only_update_of_an_object_with_a_generation_changes_no_copy() {
        let mut filter = StatusOnlyFilter::default();
        assert!(filter.may_change_copy(&meta(Some(1), "a"), false), "the first sight of an object counts");
        assert!(!filter.may_change_copy(&meta(Some(1), "a"), false), "same generation and metadata: status only");
        assert!(filter.may_change_copy(&meta(Some(2), "a"), false), "a new generation is a spec change");
        assert!(filter.may_change_copy(&meta(Some(2), "b"), false), "a label changed");
        assert!(!filter.may_change_copy(&meta(Some(2), "b"), false));
        assert!(filter.may_change_copy(&meta(Some(2), "b"), true), "a delete always counts");
        assert_eq!(filter.remembered(), 0, "a deleted object is forgotten");
        assert!(filter.may_change_copy(&meta(Some(2), "b"), false), "and counts again when it comes back");
    }

    #[test]
    fn an_object_without_a_generation_always_counts_and_is_not_remembered() {
        let mut filter = StatusOnlyFilter::default();
        assert!(filter.may_change_copy(&meta(None, "a"), false));
        assert!(filter.may_change_copy(&meta(None, "a"), false), "a ConfigMap's data change shows in no metadata");
        assert!(filter.may_change_copy(&meta(Some(0), "a"), false));
        assert_eq!(filter.remembered(), 0);
    }

    fn id(name: &str) -> ObjectId {
        ObjectId::new(&Arc::new(TypeKey::builtin("", "v1", "ConfigMap", "configmaps", true)), "shop", name)
    }

    #[test]
    fn a_burst_to_one_object_is_one_write_after_the_debounce() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut backlog = Backlog::new(ms(100));
        for i in 0..5 {
            backlog.note(id("a"), t0 + ms(i * 20));
        }
        assert_eq!(backlog.len(), 1, "coalesced");
        assert!(backlog.take_due(t0 + ms(150), 10).is_empty(), "still changing 100 ms ago");
        assert_eq!(backlog.next_due(), Some(t0 + ms(180)));
        assert_eq!(backlog.lag(t0 + ms(150)), ms(150), "the lag counts from the first change");
        assert_eq!(backlog.take_due(t0 + ms(180), 10), vec![id("a")]);
        assert_eq!(backlog.len(), 1, "in flight still counts as pending");
        assert!(backlog.take_due(t0 + ms(500), 10).is_empty(), "never taken twice while in flight");
        backlog.written(&id("a"));
        assert!(backlog.is_empty());
        assert_eq!(backlog.lag(t0 + ms(500)), Duration::ZERO);
    }

    #[test]
    fn an_object_that_never_rests_is_still_written() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut backlog = Backlog::new(ms(50));
        for i in 0..100 {
            backlog.note(id("hot"), t0 + ms(i * 10));
        }
        assert_eq!(backlog.max_wait(), Duration::from_secs(1));
        assert!(backlog.take_due(t0 + ms(990), 10).is_empty());
        assert_eq!(backlog.take_due(t0 + ms(1000), 10), vec![id("hot")], "written at the longest wait");
    }

    #[test]
    fn oldest_changes_go_first_and_a_change_during_a_write_waits_for_it() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut backlog = Backlog::new(ms(0));
        backlog.note(id("b"), t0 + ms(5));
        backlog.note(id("a"), t0 + ms(1));
        backlog.note(id("c"), t0 + ms(9));
        assert_eq!(backlog.take_due(t0 + ms(10), 2), vec![id("a"), id("b")]);
        backlog.note(id("a"), t0 + ms(11));
        assert_eq!(backlog.take_due(t0 + ms(12), 10), vec![id("c")], "a is still being written");
        backlog.written(&id("a"));
        assert_eq!(backlog.take_due(t0 + ms(12), 10), vec![id("a")], "its newer change goes next");
    }

    #[test]
    fn a_failed_write_waits_again_keeping_its_age() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut backlog = Backlog::new(ms(100));
        backlog.note(id("a"), t0);
        assert_eq!(backlog.take_due(t0 + ms(100), 10), vec![id("a")]);
        backlog.retry(id("a"), t0 + ms(400));
        assert_eq!(backlog.lag(t0 + ms(500)), ms(500), "age kept from the first sighting");
        assert_eq!(backlog.take_due(t0 + ms(400), 10), vec![id("a")], "due again at the retry time");
        backlog.clear();
        assert_eq!(backlog.len(), 1, "a clear leaves what is in flight");
        backlog.written(&id("a"));
        backlog.note(id("b"), t0 + ms(600));
        assert_eq!(backlog.take_all(10), vec![id("b")], "a drain takes what is not due yet");
        assert!(backlog.take_all(10).is_empty());
    }

    #[test]
    fn the_echo_of_our_own_write_needs_no_look_drift_does() {
        let meta = |ours_value: &str, later: bool| {
            let mut fields = vec![serde_json::json!({"manager": "stork-rs", "operation": "Apply",
                "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {format!("f:{ours_value}"): {}}}})];
            if later {
                fields.push(serde_json::json!({"manager": "kubectl-edit", "operation": "Update",
                    "time": "2026-01-01T00:01:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:k": {}}}}));
            }
            serde_json::json!({"uid": "u1", "annotations": {"stork.libopenstorage.org/migrated": "true"},
                "managedFields": fields})
        };
        let written = CopyRecord::from_metadata(&meta("k", false), "stork-rs", false);
        let baseline = written.baseline();
        assert!(!copy_needs_look(&written, baseline.as_ref()), "our own write");
        let edited = CopyRecord::from_metadata(&meta("k", true), "stork-rs", false);
        assert!(copy_needs_look(&edited, baseline.as_ref()), "someone else wrote a field we own");
        assert!(copy_needs_look(&written, None), "nothing known: look");
        let other = CopyRecord { uid: "u2".into(), ..written.clone() };
        assert!(copy_needs_look(&other, baseline.as_ref()), "recreated");

        let ours = ContentHash::from_hex("0123456789abcdef0123456789abcdef").expect("hash");
        let older = ContentHash::from_hex("fedcba9876543210fedcba9876543210").expect("hash");
        let carrying = |h| CopyRecord { hash: Some(h), ..written.clone() };
        assert!(!copy_change_matters(Some(&carrying(ours)), baseline.as_ref(), Some(ours)), "the echo");
        assert!(copy_change_matters(Some(&carrying(older)), baseline.as_ref(), Some(ours)), "an older version");
        assert!(!copy_change_matters(Some(&carrying(older)), baseline.as_ref(), None), "nothing written by the sync");
        assert!(copy_change_matters(None, baseline.as_ref(), Some(ours)), "deleted");
        let foreign = CopyRecord { written_by_us: false, ..carrying(older) };
        assert!(!copy_change_matters(Some(&foreign), None, None), "not a copy stork-rs wrote");
    }
}
