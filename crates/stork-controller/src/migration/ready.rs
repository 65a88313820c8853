//! From what was read on the source to objects ready for the destination: prepared (transformed,
//! hashed, annotated) once per source resourceVersion and remembered, so that an object the source
//! has not changed costs a metadata list entry and a lookup.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kube::api::ApiResource;
use serde_json::Value;

use super::collect::SourceObject;
use super::engine::{Entry, EntryResult, Job, Outcome, parallel_map};
use super::fetch::{self, Identity, TypeSource};
use super::fingerprint::content_hash;
use super::prepared::{Preparation, Prepared, PreparedCache, options_fingerprint};
use super::resource_transform;
use super::select::{TypeKey, skip_reason};
use super::transform::{TransformOptions, annotate, prepare};

/// Bumped whenever preparing changes, so remembered preparations of an older build are not reused.
const PREPARATION_VERSION: u32 = 1;

/// Placeholder for the per-migration annotations until an object is written.
const PLACEHOLDER: &str = "-";

/// One source object ready for the destination.
pub struct Ready {
    pub id: Identity,
    pub prepared: Arc<Prepared>,
}

/// What reading and preparing the source gave.
pub struct Sources {
    pub ready: Vec<Ready>,
    /// Source objects that still exist (ready, skipped by content, or unreadable just now): the
    /// destination copies of anything else may be purged.
    pub present: HashSet<Identity>,
}

pub fn identity(source: &SourceObject) -> Identity {
    (source.key.clone(), source.namespace().to_string(), source.name().to_string())
}

/// Prepares `sources` (from the cache where the source's resourceVersion was seen before, else after
/// reading the whole object); skipped objects are counted and unreadable ones recorded as failed in
/// `outcome`.
pub async fn ready_sources(
    source: &kube::Client,
    source_types: &[(TypeKey, ApiResource)],
    sources: &[&SourceObject],
    job: &Job,
    options: &TransformOptions,
    cache: &PreparedCache,
    outcome: &mut Outcome,
) -> Result<Sources, super::engine::EngineError> {
    let fingerprints: HashMap<&str, u64> = sources
        .iter()
        .map(|s| s.namespace())
        .collect::<HashSet<_>>()
        .into_iter()
        .map(|ns| (ns, fingerprint(job, options, ns)))
        .collect();
    let mut ready = Vec::with_capacity(sources.len());
    let mut present: HashSet<Identity> = sources.iter().map(|s| identity(s)).collect();
    let mut misses: Vec<&SourceObject> = Vec::new();
    for s in sources {
        let meta = &s.obj["metadata"];
        let (uid, rv) =
            (meta["uid"].as_str().unwrap_or_default(), meta["resourceVersion"].as_str().unwrap_or_default());
        match cache.get(uid, fingerprints[s.namespace()], rv) {
            Some(Preparation::Copy(prepared)) => ready.push(Ready { id: identity(s), prepared }),
            Some(Preparation::Skip) => outcome.counts.skipped += 1,
            None => misses.push(s),
        }
    }

    let to_read: Vec<Identity> = misses.iter().filter(|s| !s.whole).map(|s| identity(s)).collect();
    let whole = if to_read.is_empty() {
        HashMap::new()
    } else {
        let resources: HashMap<&TypeKey, &ApiResource> = source_types.iter().map(|(k, ar)| (k, ar)).collect();
        fetch::whole_objects(to_read, |key| {
            resources.get(key).map(|ar| TypeSource { ar: (*ar).clone(), client: source.clone() })
        })
        .await
    };
    // (source, its whole object as read now), for the misses that could be read.
    let mut inputs: Vec<(&SourceObject, &Value)> = Vec::with_capacity(misses.len());
    for s in &misses {
        if s.whole {
            inputs.push((s, &s.obj));
            continue;
        }
        match whole.get(&identity(s)) {
            Some(Some(obj)) => inputs.push((s, obj)),
            // Deleted since it was listed.
            Some(None) => {
                present.remove(&identity(s));
            }
            None => outcome.record(Entry {
                key: s.key.clone(),
                namespace: s.namespace().to_string(),
                name: s.name().to_string(),
                result: EntryResult::Failed(
                    "cannot read the object on the source (see the controller log); the next migration retries it"
                        .to_string(),
                ),
                transformed_by: String::new(),
            }),
        }
    }
    let prepared = parallel_map(&inputs, |(s, obj)| prepare_source(&s.key, obj, job, options))?;
    for ((s, obj), preparation) in inputs.into_iter().zip(prepared) {
        let meta = &obj["metadata"];
        cache.insert(
            meta["uid"].as_str().unwrap_or_default(),
            fingerprints[s.namespace()],
            meta["resourceVersion"].as_str().unwrap_or_default(),
            preparation.clone(),
        );
        match preparation {
            Preparation::Copy(prepared) => ready.push(Ready { id: identity(s), prepared }),
            Preparation::Skip => outcome.counts.skipped += 1,
        }
    }
    Ok(Sources { ready, present })
}

/// Everything besides the object itself that shapes its preparation in namespace `ns`.
fn fingerprint(job: &Job, options: &TransformOptions, ns: &str) -> u64 {
    let transforms = job.transforms.get(ns).map(|specs| serde_json::to_string(specs).unwrap_or_default());
    options_fingerprint(&(
        PREPARATION_VERSION,
        options.start_applications,
        options.skip_service_update,
        job.spec.include_network_policy_with_cidr,
        job.spec.ignore_owner_references_check,
        transforms,
        &job.transform_name,
    ))
}

/// Skip rules on the whole object, then the transforms, the hash and the annotations (placeholders
/// for the per-migration ones).
fn prepare_source(key: &TypeKey, obj: &Value, job: &Job, options: &TransformOptions) -> Preparation {
    if skip_reason(key, obj, &job.spec).is_some() {
        return Preparation::Skip;
    }
    let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    let mut desired = prepare(key, obj, options);
    let transformed =
        job.transforms.get(namespace).is_some_and(|specs| resource_transform::apply(specs, key, &mut desired));
    let hash = content_hash(&desired);
    annotate(&mut desired, PLACEHOLDER, PLACEHOLDER, &hash, PLACEHOLDER);
    Preparation::Copy(Arc::new(Prepared { desired, hash, transformed }))
}

/// The object to write for `job`: the prepared one with this migration's annotations.
pub fn for_job(prepared: &Prepared, job: &Job) -> Value {
    let mut desired = prepared.desired.clone();
    annotate(&mut desired, &job.name, &job.namespace, &prepared.hash, &job.time);
    desired
}
