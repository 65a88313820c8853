//! One migration run: collect on the source, decide per object what the destination needs (create,
//! update because the source changed or the copy drifted, or nothing), apply in dependency order with
//! bounded parallelism using server-side apply, and purge what we created that the source no longer has.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use stork_api::{MigrationSpec, ResourceCounts, annotations as ann};

use super::collect::{self, Collection, SourceObject};
use super::fetch::{self, Identity, TypeSource};
use super::fingerprint::{MetadataVerdict, content_hash, drift_from_metadata, drifted};
use super::prepared::PreparedCache;
use super::ready::{Ready, for_job, ready_sources};
use super::select::{TypeKey, wants_type};
use super::transform::{TransformOptions, without_node_ports};

/// Field manager of everything stork-rs writes on a destination.
pub const FIELD_MANAGER: &str = "stork-rs";

/// What one migration is asked to do.
pub struct Job {
    pub name: String,
    pub namespace: String,
    pub spec: MigrationSpec,
    pub namespaces: BTreeSet<String>,
    /// Rewrite every object instead of only what changed or drifted.
    pub full: bool,
    /// `stork.libopenstorage.org/migrationTime` value for objects written now.
    pub time: String,
    pub concurrency: usize,
    /// ResourceTransformation rules per migrated namespace, and the transformation's name.
    pub transforms: HashMap<String, Vec<stork_api::TransformSpec>>,
    pub transform_name: String,
}

/// The clients a migration uses.
pub struct Clients {
    pub source: kube::Client,
    pub destination: kube::Client,
    /// For cluster-scoped objects (the admin ClusterPair's destination, else `destination`).
    pub cluster_destination: kube::Client,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryResult {
    Created,
    Updated,
    Unchanged,
    Failed(String),
    Purged,
}

/// The outcome for one object.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: TypeKey,
    pub namespace: String,
    pub name: String,
    pub result: EntryResult,
    /// Name of the ResourceTransformation that changed the object, if any.
    pub transformed_by: String,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub entries: Vec<Entry>,
    pub counts: ResourceCounts,
    /// Wall time of each phase, for the log line that ends a migration.
    pub phases: Vec<(&'static str, Duration)>,
}

impl Outcome {
    /// `collect=120ms plan=3ms ...`
    pub fn phase_summary(&self) -> String {
        self.phases.iter().map(|(name, d)| format!("{name}={}ms", d.as_millis())).collect::<Vec<_>>().join(" ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Collect(#[from] collect::CollectError),
    #[error("discovery on the destination failed: {0}")]
    DestinationDiscovery(String),
    #[error("internal error: {0}; this is a bug in stork-rs, please report it with the controller log")]
    Internal(&'static str),
    #[error("listing {what} on the destination failed: {message}")]
    DestinationList { what: String, message: String },
}

/// A planned write.
struct Work {
    transformed_by: String,
    key: TypeKey,
    ar: ApiResource,
    namespace: String,
    name: String,
    body: Value,
    create: bool,
    /// Index of our `Update`-operation managedFields entry (left by a create), converted to `Apply`
    /// before the first apply so that applies can remove fields the source dropped.
    update_entry: Option<usize>,
    cluster_scoped: bool,
}

/// Runs `future`, returning its output and how long it took.
async fn timed<T>(future: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    (future.await, started.elapsed())
}

/// What planning decided for one source object.
enum Planned {
    Write(Work),
    /// Nothing to write (unchanged), or it cannot be written (type not served).
    Done(Entry),
    /// The destination copy's metadata cannot rule out drift: plan again with the whole object.
    NeedsObject,
}

/// What is known of an object on the destination.
#[derive(Clone, Copy)]
enum Existing<'a> {
    Missing,
    /// Its metadata only (from a metadata-only list).
    Metadata(&'a Value),
    /// The whole object.
    Object(&'a Value),
}

fn plan_one(ready: &Ready, job: &Job, served: &Served, existing: Existing) -> Planned {
    let (key, namespace, name) = &ready.id;
    let transformed_by = if ready.prepared.transformed { job.transform_name.clone() } else { String::new() };
    let entry = |result: EntryResult| Entry {
        key: key.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
        result,
        transformed_by: transformed_by.clone(),
    };
    let Some(ar) = served_resource(served, key) else {
        return Planned::Done(Entry {
            transformed_by: String::new(),
            ..entry(EntryResult::Failed(format!(
                "the destination does not serve {}/{} {}; install it there (for custom resources, the CRD could not be copied)",
                key.status_group(),
                key.version,
                key.kind
            )))
        });
    };
    let hash = ready.prepared.hash.as_str();
    let same_hash = |actual: &Value| actual["metadata"]["annotations"][ann::RESOURCE_HASH].as_str() == Some(hash);
    let mut body = None;
    let (needed, actual) = match existing {
        Existing::Missing => (true, None),
        Existing::Metadata(actual) | Existing::Object(actual) if job.full || !same_hash(actual) => (true, Some(actual)),
        Existing::Object(actual) => {
            let desired = for_job(&ready.prepared, job);
            let drift = drifted(actual, &desired, FIELD_MANAGER);
            body = Some(desired);
            (drift, Some(actual))
        }
        // Ownership is all this looks at, so the placeholders of the prepared object do.
        Existing::Metadata(actual) => match drift_from_metadata(actual, &ready.prepared.desired, FIELD_MANAGER) {
            MetadataVerdict::Clean => (false, Some(actual)),
            MetadataVerdict::NeverWritten => (true, Some(actual)),
            MetadataVerdict::NeedsObject => return Planned::NeedsObject,
        },
    };
    if !needed {
        return Planned::Done(entry(EntryResult::Unchanged));
    }
    Planned::Write(Work {
        transformed_by: transformed_by.clone(),
        key: key.clone(),
        ar: ar.clone(),
        namespace: namespace.clone(),
        name: name.clone(),
        body: body.unwrap_or_else(|| for_job(&ready.prepared, job)),
        create: actual.is_none(),
        update_entry: actual.and_then(our_update_entry),
        cluster_scoped: !key.namespaced,
    })
}

/// Order of application: namespaces and CRDs are handled before; then what others refer to.
fn tier(key: &TypeKey) -> u8 {
    match (key.group.as_str(), key.kind.as_str()) {
        (_, _) if !key.namespaced => 0,
        ("", "ServiceAccount" | "Secret" | "ConfigMap" | "PersistentVolumeClaim" | "LimitRange" | "ResourceQuota") => 1,
        ("rbac.authorization.k8s.io", "Role" | "RoleBinding") => 1,
        _ => 2,
    }
}

pub async fn run(
    clients: &Clients,
    job: &Job,
    cache: &PreparedCache,
    processed: Arc<AtomicU64>,
) -> Result<Outcome, EngineError> {
    let mut mark = Instant::now();
    let mut lap = move |outcome: &mut Outcome, name: &'static str| {
        outcome.phases.push((name, mark.elapsed()));
        mark = Instant::now();
    };
    // Discovery on both sides, then reading the source and listing the destination, are independent.
    let ((source_types, served), discovered) =
        timed(async { tokio::join!(collect::discover_types(&clients.source), served_types(&clients.destination)) })
            .await;
    let source_types = source_types?;
    let mut served = served?;
    let listed: BTreeSet<TypeKey> = source_types
        .iter()
        .filter(|(k, _)| {
            wants_type(k, &job.spec) || collect::CLUSTER_TYPES.contains(&(k.group.as_str(), k.plural.as_str()))
        })
        .map(|(k, _)| k.clone())
        .collect();
    let ((collection, source_took), (destination_state, destination_took)) = tokio::join!(
        timed(collect::collect(&clients.source, &job.spec, &job.namespaces, &source_types, !cache.is_empty())),
        timed(list_destination(clients, &served, &listed, &job.namespaces))
    );
    let collection = collection?;
    let destination_state = destination_state?;
    let mut outcome = Outcome::default();
    outcome.counts.skipped = collection.skipped;
    outcome.phases.push(("discover", discovered));
    outcome.phases.push(("read-source", source_took));
    outcome.phases.push(("read-destination", destination_took));
    lap(&mut outcome, "collect");

    ensure_namespaces(clients, &collection, &mut outcome).await;
    let crds_written = apply_crds(clients, &collection, job.full, &mut outcome).await;
    if crds_written {
        wait_for_crds(&clients.destination, &collection).await;
        served = served_with_crds(&clients.destination, &collection).await?;
    }
    lap(&mut outcome, "namespaces+crds");

    let options = TransformOptions {
        start_applications: job.spec.start_applications == Some(true),
        skip_service_update: job.spec.skip_service_update == Some(true),
    };
    let sources: Vec<&SourceObject> = collection.cluster_objects.iter().chain(collection.objects.iter()).collect();
    let ready = ready_sources(&clients.source, &source_types, &sources, job, &options, cache, &mut outcome).await?;
    lap(&mut outcome, "prepare");

    let listed_state = |id: &Identity| match destination_state.get(id) {
        Some(meta) => Existing::Metadata(meta),
        None => Existing::Missing,
    };
    let planned = parallel_map(&ready.ready, |r| plan_one(r, job, &served, listed_state(&r.id)))?;
    let mut works: Vec<Work> = Vec::new();
    let mut recheck: Vec<&Ready> = Vec::new();
    // Records what planning decided; false when it needs the whole destination object first.
    let settle = |planned: Planned, works: &mut Vec<Work>, outcome: &mut Outcome| match planned {
        Planned::Write(work) => {
            works.push(work);
            true
        }
        Planned::Done(entry) => {
            processed.fetch_add(1, Ordering::Relaxed);
            outcome.record(entry);
            true
        }
        Planned::NeedsObject => false,
    };
    for (source, planned) in ready.ready.iter().zip(planned) {
        if !settle(planned, &mut works, &mut outcome) {
            recheck.push(source);
        }
    }
    lap(&mut outcome, "plan");
    if !recheck.is_empty() {
        let wanted: Vec<Identity> = recheck.iter().map(|r| r.id.clone()).collect();
        let objects = fetch::whole_objects(wanted, |key| {
            let ar = served_resource(&served, key)?.clone();
            let client = if key.namespaced { &clients.destination } else { &clients.cluster_destination };
            Some(TypeSource { ar, client: client.clone() })
        })
        .await;
        for source in &recheck {
            let existing = match objects.get(&source.id) {
                Some(Some(object)) => Existing::Object(object),
                Some(None) => Existing::Missing,
                // Unreadable now: re-applying is always safe, and comparing the metadata alone as if it
                // were the whole object finds our fields missing, which plans exactly that.
                None => destination_state.get(&source.id).map_or(Existing::Missing, Existing::Object),
            };
            if !settle(plan_one(source, job, &served, existing), &mut works, &mut outcome) {
                return Err(EngineError::Internal("planning with the whole destination object asked for it again"));
            }
        }
        tracing::debug!(migration = %job.name, objects = recheck.len(), "read whole destination objects to check drift");
        lap(&mut outcome, "read-to-verify");
    }

    let mut tiers: BTreeMap<u8, Vec<Work>> = BTreeMap::new();
    for work in works {
        tiers.entry(tier(&work.key)).or_default().push(work);
    }
    for (_, batch) in tiers {
        let results: Vec<Entry> = stream::iter(batch)
            .map(|work| {
                let processed = processed.clone();
                async move {
                    let client = if work.cluster_scoped { &clients.cluster_destination } else { &clients.destination };
                    let entry = apply_one(client, work).await;
                    processed.fetch_add(1, Ordering::Relaxed);
                    entry
                }
            })
            .buffer_unordered(job.concurrency.max(1))
            .collect()
            .await;
        for entry in results {
            outcome.record(entry);
        }
    }

    lap(&mut outcome, "apply");
    if job.spec.purge_deleted_resources == Some(true) {
        purge(clients, job, &ready.present, &served, &collection.types, &destination_state, &mut outcome).await;
        lap(&mut outcome, "purge");
    }
    let c = &outcome.counts;
    outcome.counts.total = c.created + c.updated + c.unchanged + c.failed - failed_purges(&outcome.entries);
    // Freeing thousands of JSON trees takes milliseconds the status write should not wait for.
    drop(sources);
    // Detached: nothing waits for it.
    drop(tokio::task::spawn_blocking(move || drop((collection, destination_state, ready))));
    Ok(outcome)
}

impl Outcome {
    pub(super) fn record(&mut self, entry: Entry) {
        match &entry.result {
            EntryResult::Created => self.counts.created += 1,
            EntryResult::Updated => self.counts.updated += 1,
            EntryResult::Unchanged => self.counts.unchanged += 1,
            EntryResult::Failed(_) => self.counts.failed += 1,
            EntryResult::Purged => self.counts.purged += 1,
        }
        self.entries.push(entry);
    }
}

async fn apply_one(client: &kube::Client, work: Work) -> Entry {
    let url = collect::resource_url(&work.ar, (!work.cluster_scoped).then_some(work.namespace.as_str()));
    let result = if work.create {
        // A plain create costs the API server less than an apply; it records our manager with the
        // Update operation, converted to Apply if the object is ever updated.
        match create(client, &url, &work).await {
            Err(kube::Error::Api(status)) if status.code == 409 => apply(client, &url, &work).await,
            other => other,
        }
    } else {
        apply(client, &url, &work).await
    };
    let result = match result {
        Ok(()) if work.create => EntryResult::Created,
        Ok(()) => EntryResult::Updated,
        Err(kube::Error::Api(status)) => EntryResult::Failed(format!("Error applying resource: {}", status.message)),
        Err(e) => EntryResult::Failed(format!("Error applying resource: {}", stork_kube::error_chain(&e))),
    };
    Entry { key: work.key, namespace: work.namespace, name: work.name, result, transformed_by: work.transformed_by }
}

/// True when the destination refused a Service's node ports because they are taken there.
fn node_ports_taken(work: &Work, result: &Result<(), kube::Error>) -> bool {
    matches!(result, Err(kube::Error::Api(status))
        if work.key.kind == "Service" && status.message.contains("provided port is already allocated"))
}

/// Sends a write and ignores the returned object: parsing thousands of responses costs CPU the API
/// server needs.
async fn send(
    client: &kube::Client,
    request: Result<http::Request<Vec<u8>>, kube::core::request::Error>,
) -> Result<(), kube::Error> {
    let request = request.map_err(kube::Error::BuildRequest)?;
    client.request_text(request).await.map(|_| ())
}

async fn create(client: &kube::Client, url: &str, work: &Work) -> Result<(), kube::Error> {
    let params = PostParams { field_manager: Some(FIELD_MANAGER.to_string()), ..Default::default() };
    let post = |body: &Value| {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        send(client, kube::core::Request::new(url).create(&params, bytes))
    };
    let result = post(&work.body).await;
    if node_ports_taken(work, &result) {
        // The destination has these node ports taken: let it choose others rather than fail.
        return post(&without_node_ports(&work.body)).await;
    }
    result
}

async fn apply(client: &kube::Client, url: &str, work: &Work) -> Result<(), kube::Error> {
    let request = kube::core::Request::new(url);
    if let Some(index) = work.update_entry {
        // Guarded by `test`: if the entry moved meanwhile the patch fails and the apply still proceeds.
        let patch = json!([
            {"op": "test", "path": format!("/metadata/managedFields/{index}/manager"), "value": FIELD_MANAGER},
            {"op": "test", "path": format!("/metadata/managedFields/{index}/operation"), "value": "Update"},
            {"op": "replace", "path": format!("/metadata/managedFields/{index}/operation"), "value": "Apply"},
        ]);
        if let Ok(patch) = serde_json::from_value::<json_patch::Patch>(patch) {
            let _ = send(client, request.patch(&work.name, &PatchParams::default(), &Patch::<()>::Json(patch))).await;
        }
    }
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let result = send(client, request.patch(&work.name, &params, &Patch::Apply(&work.body))).await;
    if node_ports_taken(work, &result) {
        return send(client, request.patch(&work.name, &params, &Patch::Apply(&without_node_ports(&work.body)))).await;
    }
    result
}

/// Our `Update` entry in an object's managedFields, if a create left one.
fn our_update_entry(obj: &Value) -> Option<usize> {
    obj["metadata"]["managedFields"].as_array()?.iter().position(|m| {
        m["manager"] == FIELD_MANAGER
            && m["operation"] == "Update"
            && m["subresource"].as_str().unwrap_or("").is_empty()
    })
}

/// Namespaces are created when missing (labels and annotations copied); existing ones are left alone.
async fn ensure_namespaces(clients: &Clients, collection: &Collection, outcome: &mut Outcome) {
    let ar = ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&());
    let api: Api<DynamicObject> = Api::all_with(clients.cluster_destination.clone(), &ar);
    let existing: BTreeSet<String> = match collect::list_pages(&clients.cluster_destination, &ar, None, true).await {
        Ok(list) => list.iter().filter_map(|ns| ns["metadata"]["name"].as_str().map(str::to_string)).collect(),
        Err(_) => BTreeSet::new(),
    };
    let missing: Vec<Value> = collection
        .namespaces
        .iter()
        .filter(|ns| ns["metadata"]["name"].as_str().is_some_and(|n| !existing.contains(n)))
        .cloned()
        .collect();
    let key = TypeKey {
        group: String::new(),
        version: "v1".into(),
        kind: "Namespace".into(),
        plural: "namespaces".into(),
        namespaced: false,
    };
    let entries: Vec<Entry> = stream::iter(missing)
        .map(|ns| {
            let (api, key) = (api.clone(), key.clone());
            async move {
                let name = ns["metadata"]["name"].as_str().unwrap_or_default().to_string();
                let mut labels = ns["metadata"]["labels"].as_object().cloned().unwrap_or_default();
                labels.remove("kubernetes.io/metadata.name");
                let annotations = ns["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
                let body = json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": labels, "annotations": annotations}});
                let result = match api.patch(&name, &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&body)).await {
                    Ok(_) => EntryResult::Created,
                    Err(e) => EntryResult::Failed(format!("Error creating namespace: {}", stork_kube::error_chain(&e))),
                };
                Entry { key, namespace: String::new(), name, result, transformed_by: String::new() }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    // Like Stork, namespaces are not migrated resources of their own: only a failure to create one is.
    for entry in entries.into_iter().filter(|e| matches!(e.result, EntryResult::Failed(_))) {
        outcome.record(entry);
    }
}

/// Copies the CRDs of migrated custom resources (when missing or different); true when any was written.
async fn apply_crds(clients: &Clients, collection: &Collection, full: bool, outcome: &mut Outcome) -> bool {
    let ar = ApiResource::erase::<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    >(&());
    let api: Api<DynamicObject> = Api::all_with(clients.cluster_destination.clone(), &ar);
    let key = TypeKey {
        group: "apiextensions.k8s.io".into(),
        version: "v1".into(),
        kind: "CustomResourceDefinition".into(),
        plural: "customresourcedefinitions".into(),
        namespaced: false,
    };
    let mut written = false;
    for crd in &collection.crds {
        let Some(name) = crd["metadata"]["name"].as_str() else { continue };
        let mut body = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
            "spec": crd["spec"].clone(),
        });
        let hash = content_hash(&body);
        body["metadata"]["annotations"] = json!({ann::RESOURCE_HASH: hash});
        let existing = api.get_opt(name).await.ok().flatten().map(|o| serde_json::to_value(o).unwrap_or(Value::Null));
        if !full
            && existing
                .as_ref()
                .is_some_and(|e| e["metadata"]["annotations"][ann::RESOURCE_HASH].as_str() == Some(hash.as_str()))
        {
            outcome.record(Entry {
                key: key.clone(),
                namespace: String::new(),
                name: name.to_string(),
                result: EntryResult::Unchanged,
                transformed_by: String::new(),
            });
            continue;
        }
        let result = match api.patch(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&body)).await {
            Ok(_) if existing.is_none() => EntryResult::Created,
            Ok(_) => EntryResult::Updated,
            Err(e) => EntryResult::Failed(format!("Error applying resource: {}", stork_kube::error_chain(&e))),
        };
        written |= !matches!(result, EntryResult::Failed(_));
        outcome.record(Entry {
            key: key.clone(),
            namespace: String::new(),
            name: name.to_string(),
            result,
            transformed_by: String::new(),
        });
    }
    written
}

/// Waits (up to 30 s) until the copied CRDs are Established on the destination.
async fn wait_for_crds(client: &kube::Client, collection: &Collection) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::runtime::wait::{await_condition, conditions};
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in &collection.crds {
        if let Some(name) = crd["metadata"]["name"].as_str() {
            let _ = tokio::time::timeout(
                Duration::from_secs(30),
                await_condition(api.clone(), name, conditions::is_crd_established()),
            )
            .await;
        }
    }
}

type Served = HashMap<(String, String, String), ApiResource>;

/// The destination's API resource for a source type, if it serves it.
fn served_resource<'a>(served: &'a Served, key: &TypeKey) -> Option<&'a ApiResource> {
    served.get(&(key.group.clone(), key.version.clone(), key.kind.clone()))
}

/// Discovery lags a moment behind `Established`: re-discover until every copied CRD's kinds are served
/// (at most 30 s; what is still missing then fails per object with a clear reason).
async fn served_with_crds(client: &kube::Client, collection: &Collection) -> Result<Served, EngineError> {
    let wanted: Vec<(String, String, String)> = collection
        .crds
        .iter()
        .flat_map(|crd| {
            let group = crd["spec"]["group"].as_str().unwrap_or_default().to_string();
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or_default().to_string();
            crd["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["served"] == true)
                .filter_map(|v| v["name"].as_str())
                .map(|v| (group.clone(), v.to_string(), kind.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let served = served_types(client).await?;
        if wanted.iter().all(|k| served.contains_key(k)) || Instant::now() > deadline {
            return Ok(served);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// (group, version, kind) → API resource, as the destination serves them.
async fn served_types(client: &kube::Client) -> Result<Served, EngineError> {
    let types = collect::discover_types(client).await.map_err(|e| EngineError::DestinationDiscovery(e.to_string()))?;
    Ok(types.into_iter().map(|(k, ar)| ((k.group, k.version, k.kind), ar)).collect())
}

/// Destination objects' metadata, by identity.
type DestinationState = HashMap<Identity, Value>;

/// `f` over `items` on every core, results in the items' order: preparing, hashing and comparing
/// thousands of objects is pure CPU.
pub(super) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Result<Vec<R>, EngineError> {
    tokio::task::block_in_place(|| {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
        let chunk = items.len().div_ceil(threads).max(1);
        let f = &f;
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<_>>())).collect();
            // A panicking planner is a bug; fail the migration rather than silently drop its objects.
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| EngineError::Internal("planning failed")))
                .collect::<Result<Vec<_>, _>>()
        })
    })
    .map(|parts| parts.into_iter().flatten().collect())
}

/// One metadata-only list per type on the destination, indexed by (type, namespace, name).
async fn list_destination(
    clients: &Clients,
    served: &Served,
    types: &BTreeSet<TypeKey>,
    namespaces: &BTreeSet<String>,
) -> Result<DestinationState, EngineError> {
    let listable: Vec<(TypeKey, ApiResource, Option<String>)> = types
        .iter()
        .filter_map(|key| {
            let ar = served_resource(served, key)?;
            Some(collect::list_scopes(key, namespaces).into_iter().map(|ns| (key.clone(), ar.clone(), ns)))
        })
        .flatten()
        .collect();
    let lists: Vec<Result<(TypeKey, Vec<Value>), EngineError>> = stream::iter(listable)
        .map(|(key, ar, namespace)| async move {
            let client = if key.namespaced { &clients.destination } else { &clients.cluster_destination };
            let items = collect::list_pages(client, &ar, namespace.as_deref(), true)
                .await
                .map_err(|e| EngineError::DestinationList { what: key.plural.clone(), message: e.to_string() })?;
            Ok((key, items))
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut state = DestinationState::new();
    for list in lists {
        let (key, items) = list?;
        for item in items {
            let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
            let name = item["metadata"]["name"].as_str().unwrap_or_default().to_string();
            state.insert((key.clone(), namespace, name), item);
        }
    }
    Ok(state)
}

/// Deletes destination objects in the migrated namespaces that stork-rs wrote and the source no longer
/// has. Objects anyone else created (no `stork-rs` field manager) are never touched.
async fn purge(
    clients: &Clients,
    job: &Job,
    present: &HashSet<Identity>,
    served: &Served,
    types: &[TypeKey],
    destination: &DestinationState,
    outcome: &mut Outcome,
) {
    let wanted: BTreeSet<&TypeKey> = types.iter().collect();
    for (id, obj) in destination {
        let (key, namespace, name) = id;
        if !key.namespaced || !wanted.contains(key) || !job.namespaces.contains(namespace) {
            continue;
        }
        if present.contains(id) || !written_by_us(obj) {
            continue;
        }
        let Some(ar) = served_resource(served, key) else { continue };
        let api: Api<DynamicObject> = Api::namespaced_with(clients.destination.clone(), namespace, ar);
        let result = match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => EntryResult::Purged,
            Err(kube::Error::Api(status)) if status.code == 404 => EntryResult::Purged,
            Err(e) => EntryResult::Failed(format!("Error purging resource: {}", stork_kube::error_chain(&e))),
        };
        outcome.record(Entry {
            key: key.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            result,
            transformed_by: String::new(),
        });
    }
}

fn failed_purges(entries: &[Entry]) -> u64 {
    entries.iter().filter(|e| matches!(&e.result, EntryResult::Failed(r) if r.starts_with("Error purging"))).count()
        as u64
}

fn written_by_us(obj: &Value) -> bool {
    obj["metadata"]["annotations"][ann::MIGRATED] == "true"
        && obj["metadata"]["managedFields"].as_array().is_some_and(|m| m.iter().any(|f| f["manager"] == FIELD_MANAGER))
}
