//! What the engine remembers between migrations, in memory only and bounded by size:
//!
//! - [`PreparedCache`]: source objects already prepared, by (uid, options) and resourceVersion. An
//!   object the source has not changed needs neither its content read again nor preparing and hashing
//!   again, so incremental migrations list the source as metadata only.
//! - [`Baselines`]: destination copies last known clean, so that their metadata alone tells they still
//!   are (see [`crate::core::plan::Baseline`]).
//!
//! Each entry is a few dozen bytes (hashes and digests, never an object). A restarted controller starts
//! empty and reads everything once. Entries unused for [`IDLE_RUNS`] migrations go, and at most
//! [`MAX_ENTRIES`] of each are kept.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use crate::core::model::ObjectId;
use crate::core::plan::{Baseline, Summary};

/// Entries not used by this many migrations are dropped.
pub const IDLE_RUNS: u64 = 64;
/// At most this many objects are remembered per cache.
pub const MAX_ENTRIES: usize = 200_000;

/// What preparing one source object gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preparation {
    Copy(Summary),
    /// Content rules skip it (a service-account token Secret, a NetworkPolicy with CIDRs, ...).
    Skip,
}

/// A map whose entries remember the last run that used them.
struct RunMap<K, V> {
    run: u64,
    entries: HashMap<K, (V, u64)>,
}

impl<K: Hash + Eq, V: Clone> RunMap<K, V> {
    fn new() -> Self {
        Self { run: 0, entries: HashMap::new() }
    }

    fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let run = self.run;
        let entry = self.entries.get_mut(key)?;
        entry.1 = run;
        Some(&entry.0)
    }

    fn insert(&mut self, key: K, value: V) {
        let run = self.run;
        self.entries.insert(key, (value, run));
    }
}

/// [`RunMap`]s grouped by an outer key (an options fingerprint, a destination), so that lookups borrow
/// the inner key instead of building a tuple for each of thousands of objects.
struct Runs<G, K, V> {
    run: u64,
    groups: HashMap<G, RunMap<K, V>>,
}

impl<G: Hash + Eq, K: Hash + Eq, V: Clone> Runs<G, K, V> {
    fn new() -> Self {
        Self { run: 0, groups: HashMap::new() }
    }

    fn get<Q>(&mut self, group: &G, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let run = self.run;
        let map = self.groups.get_mut(group)?;
        map.run = run;
        map.get(key)
    }

    fn insert(&mut self, group: G, key: K, value: V) {
        let run = self.run;
        let map = self.groups.entry(group).or_insert_with(RunMap::new);
        map.run = run;
        map.insert(key, value);
    }

    fn remove<Q>(&mut self, group: &G, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(map) = self.groups.get_mut(group) {
            map.entries.remove(key);
        }
    }

    fn len(&self) -> usize {
        self.groups.values().map(|m| m.entries.len()).sum()
    }

    /// Drops idle entries, then the least recently used ones above the bound (over all groups), then
    /// empty groups.
    fn trim(&mut self) {
        let run = self.run;
        for map in self.groups.values_mut() {
            map.run = run;
            map.entries.retain(|_, (_, used)| run.saturating_sub(*used) < IDLE_RUNS);
        }
        let total = self.len();
        if total > MAX_ENTRIES {
            let mut uses: Vec<u64> =
                self.groups.values().flat_map(|m| m.entries.values().map(|(_, used)| *used)).collect();
            uses.sort_unstable();
            let cutoff = uses[total - MAX_ENTRIES];
            for map in self.groups.values_mut() {
                map.entries.retain(|_, (_, used)| *used > cutoff);
            }
        }
        self.groups.retain(|_, map| !map.entries.is_empty());
    }
}

/// A bounded map of what runs remember, shared by the runs of a process.
pub struct Remembered<G, K, V> {
    inner: Mutex<Runs<G, K, V>>,
}

impl<G: Hash + Eq, K: Hash + Eq, V: Clone> Default for Remembered<G, K, V> {
    fn default() -> Self {
        Self { inner: Mutex::new(Runs::new()) }
    }
}

impl<G: Hash + Eq, K: Hash + Eq, V: Clone> Remembered<G, K, V> {
    /// Starts a migration run; entries it touches count as recently used.
    pub fn begin_run(&self) {
        self.lock().run += 1;
    }

    /// Drops what recent runs did not use and what is above the bound.
    pub fn trim(&self) {
        self.lock().trim();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Runs<G, K, V>> {
        // A panic while holding this lock cannot leave the map inconsistent; keep serving.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Source objects prepared by earlier migrations, by options fingerprint, then uid: their
/// resourceVersion when prepared and the result.
pub type PreparedCache = Remembered<u64, String, (String, Preparation)>;

impl PreparedCache {
    /// The preparation of `uid` at `resource_version` under options `fingerprint`, if remembered.
    pub fn get(&self, uid: &str, fingerprint: u64, resource_version: &str) -> Option<Preparation> {
        let mut inner = self.lock();
        let (version, preparation) = inner.get(&fingerprint, uid)?;
        (version == resource_version).then_some(*preparation)
    }

    pub fn insert(&self, uid: &str, fingerprint: u64, resource_version: &str, preparation: Preparation) {
        if uid.is_empty() || resource_version.is_empty() {
            return;
        }
        self.lock().insert(fingerprint, uid.to_string(), (resource_version.to_string(), preparation));
    }
}

/// Destination copies last known clean, by destination, then object.
pub type Baselines = Remembered<u64, ObjectId, Baseline>;

impl Baselines {
    pub fn get(&self, destination: u64, id: &ObjectId) -> Option<Baseline> {
        self.lock().get(&destination, id).cloned()
    }

    pub fn insert(&self, destination: u64, id: ObjectId, baseline: Baseline) {
        self.lock().insert(destination, id, baseline);
    }

    pub fn forget(&self, destination: u64, id: &ObjectId) {
        self.lock().remove(&destination, id);
    }
}

/// A fingerprint of a tuple of parts (options, a destination's identity). In memory only, so the
/// process-local hasher is enough.
pub fn fingerprint(parts: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hash::content_hash;
    use crate::core::model::TypeKey;
    use std::sync::Arc;

    fn copy() -> Preparation {
        Preparation::Copy(Summary {
            hash: content_hash(&serde_json::json!(1)),
            transformed: crate::core::plan::Transformed::default(),
        })
    }

    #[test]
    fn hits_only_the_same_version_and_options() {
        let cache = PreparedCache::default();
        cache.begin_run();
        cache.insert("u1", 7, "10", copy());
        assert_eq!(cache.get("u1", 7, "10"), Some(copy()));
        assert!(cache.get("u1", 7, "11").is_none(), "a newer version is prepared again");
        assert!(cache.get("u1", 8, "10").is_none(), "other options are prepared again");
        cache.insert("u1", 7, "11", Preparation::Skip);
        assert!(cache.get("u1", 7, "10").is_none(), "the older version is replaced");
        assert_eq!(cache.get("u1", 7, "11"), Some(Preparation::Skip));
        assert_eq!(cache.len(), 1);
        cache.insert("", 7, "1", copy());
        assert_eq!(cache.len(), 1, "objects without uid or version are not remembered");
    }

    #[test]
    fn idle_entries_are_dropped() {
        let cache = PreparedCache::default();
        cache.begin_run();
        cache.insert("idle", 1, "1", copy());
        cache.insert("busy", 1, "1", copy());
        for _ in 0..IDLE_RUNS {
            cache.begin_run();
            assert!(cache.get("busy", 1, "1").is_some());
            cache.trim();
        }
        assert!(cache.get("idle", 1, "1").is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_bound_holds_over_all_groups() {
        let mut runs: Runs<u8, u32, ()> = Runs::new();
        for i in 0..(MAX_ENTRIES as u32 + 10) {
            if i % 1000 == 0 {
                runs.run += 1;
            }
            runs.insert((i % 3) as u8, i, ());
        }
        runs.trim();
        assert!(runs.len() <= MAX_ENTRIES, "{}", runs.len());
        let newest = MAX_ENTRIES as u32 + 9;
        assert!(runs.get(&((newest % 3) as u8), &newest).is_some(), "the newest stay");
        assert!(runs.get(&0, &0).is_none());
    }

    #[test]
    fn baselines_are_per_destination() {
        let baselines = Baselines::default();
        let key = Arc::new(TypeKey::builtin("", "v1", "ConfigMap", "configmaps", true));
        let id = ObjectId::new(&key, "ns", "a");
        let baseline = Baseline { uid: "u".into(), ours: 1, later: 2 };
        baselines.insert(1, id.clone(), baseline.clone());
        assert_eq!(baselines.get(1, &id), Some(baseline));
        assert_eq!(baselines.get(2, &id), None);
        baselines.forget(1, &id);
        assert!(baselines.is_empty());
        assert_ne!(fingerprint(&("a", 1)), fingerprint(&("a", 2)));
    }
}
