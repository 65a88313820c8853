//! Source objects already prepared for the destination, remembered by (uid, resourceVersion): an
//! object the source has not changed since an earlier migration needs neither its content read again
//! nor preparing and hashing again, so incremental migrations list the source as metadata only.
//!
//! The cache lives in memory only (a restarted controller reads everything once) and is bounded:
//! entries unused for [`IDLE_RUNS`] migrations go, and at most [`MAX_ENTRIES`] are kept.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// What preparing one source object gave.
#[derive(Debug, Clone)]
pub enum Preparation {
    Copy(Arc<Prepared>),
    /// Content rules skip it (a service-account token Secret, a NetworkPolicy with CIDRs, ...).
    Skip,
}

/// An object ready for the destination.
#[derive(Debug)]
pub struct Prepared {
    /// Transformed and annotated; the per-migration annotations hold placeholders until written.
    pub desired: Value,
    /// `content_hash` of the transformed object before annotations.
    pub hash: String,
    /// Whether a ResourceTransformation changed it.
    pub transformed: bool,
}

/// Entries not used by this many migrations are dropped.
pub const IDLE_RUNS: u64 = 64;
/// At most this many objects are remembered (about one prepared object each).
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct PreparedCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    run: u64,
    /// (uid, options fingerprint) → (resourceVersion, preparation, last run that used it).
    entries: HashMap<(String, u64), (String, Preparation, u64)>,
}

impl PreparedCache {
    /// Starts a migration run; entries it touches count as recently used.
    pub fn begin_run(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.run += 1;
        }
    }

    pub fn get(&self, uid: &str, options: u64, resource_version: &str) -> Option<Preparation> {
        let mut inner = self.inner.lock().ok()?;
        let run = inner.run;
        let entry = inner.entries.get_mut(&(uid.to_string(), options))?;
        if entry.0 != resource_version {
            return None;
        }
        entry.2 = run;
        Some(entry.1.clone())
    }

    pub fn insert(&self, uid: &str, options: u64, resource_version: &str, preparation: Preparation) {
        if uid.is_empty() || resource_version.is_empty() {
            return;
        }
        if let Ok(mut inner) = self.inner.lock() {
            let run = inner.run;
            inner.entries.insert((uid.to_string(), options), (resource_version.to_string(), preparation, run));
        }
    }

    /// Drops idle entries, then the least recently used ones above the bound.
    pub fn trim(&self) {
        let Ok(mut inner) = self.inner.lock() else { return };
        let run = inner.run;
        inner.entries.retain(|_, (_, _, used)| run.saturating_sub(*used) < IDLE_RUNS);
        if inner.entries.len() > MAX_ENTRIES {
            let mut uses: Vec<u64> = inner.entries.values().map(|(_, _, used)| *used).collect();
            uses.sort_unstable();
            let cutoff = uses[inner.entries.len() - MAX_ENTRIES];
            inner.entries.retain(|_, (_, _, used)| *used > cutoff);
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|inner| inner.entries.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.inner.lock().map(|inner| inner.entries.is_empty()).unwrap_or(true)
    }
}

/// A fingerprint of everything besides the object that shapes its preparation (a tuple of the
/// parts). In memory only, so the process-local hasher is enough.
pub fn options_fingerprint(parts: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared() -> Preparation {
        Preparation::Copy(Arc::new(Prepared { desired: Value::Null, hash: "h".into(), transformed: false }))
    }

    #[test]
    fn hits_only_the_same_version_and_options() {
        let cache = PreparedCache::default();
        cache.begin_run();
        cache.insert("u1", 7, "10", prepared());
        assert!(cache.get("u1", 7, "10").is_some());
        assert!(cache.get("u1", 7, "11").is_none(), "a newer version is prepared again");
        assert!(cache.get("u1", 8, "10").is_none(), "other options are prepared again");
        cache.insert("u1", 7, "11", prepared());
        assert!(cache.get("u1", 7, "10").is_none(), "the older version is replaced");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn idle_entries_are_dropped() {
        let cache = PreparedCache::default();
        cache.begin_run();
        cache.insert("idle", 1, "1", prepared());
        cache.insert("busy", 1, "1", prepared());
        for _ in 0..IDLE_RUNS {
            cache.begin_run();
            assert!(cache.get("busy", 1, "1").is_some());
            cache.trim();
        }
        assert!(cache.get("idle", 1, "1").is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn fingerprints_differ_with_any_part() {
        let a = options_fingerprint(&(true, false, "rt"));
        assert_eq!(a, options_fingerprint(&(true, false, "rt")));
        assert_ne!(a, options_fingerprint(&(true, true, "rt")));
        assert_ne!(a, options_fingerprint(&(true, false, "other")));
    }
}
