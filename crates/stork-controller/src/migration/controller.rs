//! The Migration controller: validates (terminal `Failed` with a reason instead of Stork's silent
//! retries), runs the engine, and reports stages, counts and a bounded per-resource list.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::json;
use stork_api::{
    ClusterPair, ClusterPairStatusType, FINALIZER, Migration, MigrationStage, MigrationStatus, MigrationStatusType,
    MigrationSummary, ResourceCounts,
};

use super::engine::{self, Clients, FIELD_MANAGER, Job};
use super::status::{bounded, compressed_details, go_duration};
use crate::clock::now;
use crate::context::Context;

/// Annotation asking for a full migration (every object rewritten) instead of an incremental one.
pub const MIGRATION_TYPE_ANNOTATION: &str = "stork.libopenstorage.org/migration-type";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API error: {0}")]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("Migration has no namespace")]
    NoNamespace,
}

pub async fn run(ctx: Arc<Context>, shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static) {
    let api: Api<DeserializeGuard<Migration>> = Api::all(ctx.client.clone());
    Controller::new(api, watcher::Config::default().any_semantic())
        .with_config(kube::runtime::controller::Config::default().concurrency(4))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::warn!(error = %stork_kube::error_chain(&e), "Migration reconcile failed");
            }
        })
        .await;
}

fn error_policy(_m: Arc<DeserializeGuard<Migration>>, _e: &Error, _ctx: Arc<Context>) -> Action {
    Action::requeue(Duration::from_secs(10))
}

async fn reconcile(guarded: Arc<DeserializeGuard<Migration>>, ctx: Arc<Context>) -> Result<Action, Error> {
    let migration = match &guarded.0 {
        Ok(m) => m.clone(),
        Err(invalid) => {
            tracing::warn!(error = %invalid.error, name = ?invalid.metadata.name, "malformed Migration");
            return Ok(Action::await_change());
        }
    };
    let namespace = migration.namespace().ok_or(Error::NoNamespace)?;
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    // Add the finalizer here and carry on, instead of waiting for the watch to bring the change back.
    let migration =
        if migration.meta().deletion_timestamp.is_none() && !migration.finalizers().iter().any(|f| f == FINALIZER) {
            let patch = if migration.finalizers().is_empty() {
                json!([{"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]}])
            } else {
                json!([{"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER}])
            };
            let patch: json_patch::Patch =
                serde_json::from_value(patch).map_err(|e| Error::Kube(kube::Error::SerdeError(e)))?;
            api.patch(&migration.name_any(), &PatchParams::default(), &Patch::<()>::Json(patch)).await?
        } else {
            migration
        };
    finalizer(&api, FINALIZER, Arc::new(migration), |event| async {
        match event {
            FinalizerEvent::Apply(m) => apply(&m, &ctx).await,
            FinalizerEvent::Cleanup(m) => {
                ctx.metrics.forget_migration(&m.namespace().unwrap_or_default(), &m.name_any(), &schedule_of(&m));
                Ok(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

/// What validation resolved.
struct Validated {
    clients: Clients,
    namespaces: BTreeSet<String>,
    transforms: HashMap<String, Vec<stork_api::TransformSpec>>,
}

async fn apply(cached: &Migration, ctx: &Context) -> Result<Action, Error> {
    let namespace = cached.namespace().ok_or(Error::NoNamespace)?;
    let name = cached.name_any();
    // The cache may not have seen our own Final status yet; a finished migration must never run twice.
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    let Some(fresh) = api.get_opt(&name).await? else { return Ok(Action::await_change()) };
    let migration = &fresh;
    if migration.status.as_ref().is_some_and(|s| s.stage == MigrationStage::Final) {
        return Ok(Action::await_change());
    }
    let started = Instant::now();
    let validating = Instant::now();
    let validated = match validate(migration, &namespace, ctx).await {
        Ok(v) => v,
        Err(reason) => {
            finish_failed(ctx, migration, &reason).await?;
            return Ok(Action::await_change());
        }
    };
    let validated_in = validating.elapsed();
    let full = migration.annotations().get(MIGRATION_TYPE_ANNOTATION).is_some_and(|v| v.eq_ignore_ascii_case("full"));
    let mut running = MigrationStatus {
        stage: MigrationStage::Applications,
        status: MigrationStatusType::InProgress,
        migration_type: if full { "Full" } else { "Incremental" }.to_string(),
        volume_migration_finish_timestamp: Some(now()),
        ..Default::default()
    };
    let marking = Instant::now();
    write_status(ctx, &namespace, &name, &running).await?;
    let marked_in = marking.elapsed();
    ctx.metrics.set_migration(&namespace, &name, &schedule_of(migration), &running, None);

    let job = Job {
        name: name.clone(),
        namespace: namespace.clone(),
        spec: effective_spec(migration),
        namespaces: validated.namespaces,
        full,
        time: jiff::Zoned::now().strftime("%Y-%m-%d-%H%M%S").to_string(),
        concurrency: ctx.settings.migration_concurrency,
        transforms: validated.transforms,
        transform_name: migration.spec.transform_specs.first().cloned().unwrap_or_default(),
    };
    let processed = Arc::new(AtomicU64::new(0));
    let progress = spawn_progress(ctx, &namespace, &name, running.clone(), processed.clone());
    ctx.prepared.begin_run();
    let result = engine::run(&validated.clients, &job, &ctx.prepared, processed).await;
    ctx.prepared.trim();
    let (stop_progress, progress) = progress;
    let _ = stop_progress.send(());
    let _ = progress.await;

    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            finish_failed(ctx, migration, &e.to_string()).await?;
            return Ok(Action::await_change());
        }
    };
    let counts = ResourceCounts { processed: outcome.entries.len() as u64, ..outcome.counts.clone() };
    let (resources, truncated) = bounded(&outcome.entries);
    let details = if truncated { format!("{name}-resources") } else { String::new() };
    let elapsed = started.elapsed();
    let failed = counts.failed;
    let succeeded = counts.created + counts.updated + counts.unchanged;
    running.stage = MigrationStage::Final;
    running.status = if failed == 0 {
        MigrationStatusType::Successful
    } else if succeeded > 0 {
        MigrationStatusType::PartialSuccess
    } else {
        MigrationStatusType::Failed
    };
    running.reason = if failed == 0 {
        String::new()
    } else {
        format!(
            "{failed} of {} objects could not be applied on the destination; their reasons are in status.resources",
            counts.total
        )
    };
    running.summary = Some(MigrationSummary {
        total_number_of_resources: counts.total,
        num_of_migrated_resources: succeeded.min(counts.total),
        elapsed_time_for_volume_migration: "0s".to_string(),
        elapsed_time_for_resource_migration: go_duration(elapsed),
        ..Default::default()
    });
    running.resources = resources;
    running.resources_truncated = truncated;
    running.resource_details = details.clone();
    running.resource_counts = Some(counts.clone());
    running.finish_timestamp = Some(now());
    running.resource_migration_finish_timestamp = running.finish_timestamp.clone();
    let finishing = Instant::now();
    // The full list goes beside the status, written at the same time.
    let (written, details_written) = tokio::join!(write_status(ctx, &namespace, &name, &running), async {
        if truncated { write_details(ctx, migration, &details, &outcome.entries).await } else { Ok(()) }
    });
    written?;
    if let Err(e) = details_written {
        tracing::warn!(migration = %name, error = %e, "cannot write the full resource list");
    }
    ctx.metrics.set_migration(&namespace, &name, &schedule_of(migration), &running, Some(elapsed));
    let message = format!(
        "{} migration {}: {} created, {} updated, {} unchanged, {} failed, {} purged in {}",
        running.migration_type,
        running.status.as_str(),
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.failed,
        counts.purged,
        go_duration(elapsed)
    );
    let phases = format!(
        "validate={}ms mark-running={}ms {} write-status={}ms",
        validated_in.as_millis(),
        marked_in.as_millis(),
        outcome.phase_summary(),
        finishing.elapsed().as_millis()
    );
    tracing::info!(migration = %format!("{namespace}/{name}"), %phases, "{message}");
    publish(ctx, migration, failed > 0, running.status.as_str(), &message).await;
    Ok(Action::await_change())
}

/// `includeResources: false` migrates only volumes' objects (claims and their volumes).
fn effective_spec(migration: &Migration) -> stork_api::MigrationSpec {
    let mut spec = migration.spec.clone();
    if spec.include_resources == Some(false) {
        spec.resource_types = vec!["PersistentVolumeClaim".to_string()];
    }
    spec
}

/// Checks everything that can be known before touching the destination; the error is the status reason.
async fn validate(migration: &Migration, namespace: &str, ctx: &Context) -> Result<Validated, String> {
    let spec = &migration.spec;
    if spec.cluster_pair.is_empty() {
        return Err(format!(
            "spec.clusterPair is empty: name the ClusterPair (in namespace {namespace}) to migrate to"
        ));
    }
    if spec.namespaces.is_empty() && spec.namespace_selectors.is_empty() {
        return Err(
            "spec.namespaces is empty: list the namespaces to migrate (or use spec.namespaceSelectors)".to_string()
        );
    }
    for (field, rule) in [("preExecRule", &spec.pre_exec_rule), ("postExecRule", &spec.post_exec_rule)] {
        if !rule.is_empty() {
            return Err(format!(
                "spec.{field} ({rule}) is not supported by stork-rs yet: Rules run commands in application pods; \
                 remove it and quiesce the application another way"
            ));
        }
    }
    if spec.transform_specs.len() > 1 {
        return Err(
            "spec.transformSpecs names more than one ResourceTransformation; at most one is supported".to_string()
        );
    }
    for (field, selector) in [
        ("selectors", &spec.selectors),
        ("excludeSelectors", &spec.exclude_selectors),
        ("namespaceSelectors", &spec.namespace_selectors),
    ] {
        for (k, v) in selector {
            if let Some(problem) = label_problem(k, v) {
                return Err(format!("spec.{field} has an invalid label {k}={v}: {problem}"));
            }
        }
    }
    let namespaces = resolve_namespaces(migration, ctx).await?;
    if namespace != ctx.settings.admin_namespace && namespaces.iter().any(|ns| ns != namespace) {
        return Err(format!(
            "migration namespaces should only contain the current namespace: a Migration in {namespace} may only migrate {namespace}; \
             create it in the admin namespace {} to migrate others",
            ctx.settings.admin_namespace
        ));
    }
    let destination = ready_pair(ctx, namespace, &spec.cluster_pair).await?;
    let cluster_destination = if spec.admin_cluster_pair.is_empty() {
        destination.clone()
    } else {
        ready_pair(ctx, &ctx.settings.admin_namespace, &spec.admin_cluster_pair).await?
    };
    let transforms = match spec.transform_specs.first() {
        Some(rt) => load_transforms(ctx, rt, &namespaces).await?,
        None => HashMap::new(),
    };
    Ok(Validated {
        clients: Clients { source: ctx.client.clone(), destination, cluster_destination },
        namespaces,
        transforms,
    })
}

/// The named ResourceTransformation must exist in every migrated namespace (as in Stork) and be valid.
async fn load_transforms(
    ctx: &Context,
    name: &str,
    namespaces: &BTreeSet<String>,
) -> Result<HashMap<String, Vec<stork_api::TransformSpec>>, String> {
    let mut out = HashMap::new();
    for ns in namespaces {
        let api: Api<stork_api::ResourceTransformation> = Api::namespaced(ctx.client.clone(), ns);
        let rt = match api.get_opt(name).await {
            Ok(Some(rt)) => rt,
            Ok(None) => {
                return Err(format!("ResourceTransformation {name} not found in namespace {ns} (spec.transformSpecs)"));
            }
            Err(e) => {
                return Err(format!("cannot read ResourceTransformation {ns}/{name}: {}", stork_kube::error_chain(&e)));
            }
        };
        let specs = rt.spec.specs.transform_specs;
        super::resource_transform::validate(&specs).map_err(|e| format!("ResourceTransformation {ns}/{name}: {e}"))?;
        out.insert(ns.clone(), specs);
    }
    Ok(out)
}

/// `namespaces` (existing ones; missing ones fail unless skipDeletedNamespaces) ∪ each selector's matches.
async fn resolve_namespaces(migration: &Migration, ctx: &Context) -> Result<BTreeSet<String>, String> {
    let spec = &migration.spec;
    let api: Api<Namespace> = Api::all(ctx.client.clone());
    let mut out = BTreeSet::new();
    let existing: BTreeSet<String> = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(|e| format!("cannot list namespaces: {}", stork_kube::error_chain(&e)))?
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    for ns in &spec.namespaces {
        if existing.contains(ns) {
            out.insert(ns.clone());
        } else if spec.skip_deleted_namespaces != Some(false) {
            tracing::info!(namespace = %ns, "skipping missing namespace (skipDeletedNamespaces)");
        } else {
            return Err(format!("error getting namespace {ns}: namespaces \"{ns}\" not found"));
        }
    }
    for (k, v) in &spec.namespace_selectors {
        let list = api
            .list(&ListParams::default().labels(&format!("{k}={v}")))
            .await
            .map_err(|e| format!("cannot list namespaces with {k}={v}: {}", stork_kube::error_chain(&e)))?;
        out.extend(list.items.into_iter().filter_map(|n| n.metadata.name));
    }
    if out.is_empty() {
        return Err("no valid namespace found based on the provided 'Namespaces' and 'NamespaceSelectors'".to_string());
    }
    Ok(out)
}

/// The destination client of a Ready pair.
async fn ready_pair(ctx: &Context, namespace: &str, name: &str) -> Result<kube::Client, String> {
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), namespace);
    let pair = match pairs.get_opt(name).await {
        Ok(Some(pair)) => pair,
        Ok(None) => return Err(format!("ClusterPair {name} not found in namespace {namespace}")),
        Err(e) => return Err(format!("cannot read ClusterPair {namespace}/{name}: {}", stork_kube::error_chain(&e))),
    };
    let status = pair.status.clone().unwrap_or_default();
    if status.scheduler_status != ClusterPairStatusType::Ready {
        let why = status
            .conditions
            .iter()
            .find(|c| c.type_ == stork_api::CONDITION_SCHEDULER_READY)
            .map(|c| format!(": {}", c.message))
            .unwrap_or_default();
        return Err(format!(
            "ClusterPair {namespace}/{name} is not Ready (schedulerStatus {:?}){why}; fix the pair, then create the Migration again",
            status.scheduler_status.as_str()
        ));
    }
    ctx.remotes.get(namespace, name, &pair.spec.config).await.map(|r| r.client).map_err(|e| e.to_string())
}

/// Label keys and values as Kubernetes accepts them.
fn label_problem(key: &str, value: &str) -> Option<&'static str> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let name = key.rsplit('/').next().unwrap_or(key);
    if !name_ok(name) || key.matches('/').count() > 1 {
        return Some("keys are up to 63 characters of [A-Za-z0-9-_.] (with an optional DNS prefix and /)");
    }
    if !value.is_empty() && !name_ok(value) {
        return Some("values are empty or up to 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric");
    }
    None
}

async fn finish_failed(ctx: &Context, migration: &Migration, reason: &str) -> Result<(), Error> {
    let namespace = migration.namespace().ok_or(Error::NoNamespace)?;
    let name = migration.name_any();
    let status = MigrationStatus {
        stage: MigrationStage::Final,
        status: MigrationStatusType::Failed,
        reason: reason.to_string(),
        finish_timestamp: Some(now()),
        ..Default::default()
    };
    write_status(ctx, &namespace, &name, &status).await?;
    ctx.metrics.set_migration(&namespace, &name, &schedule_of(migration), &status, None);
    tracing::warn!(migration = %format!("{namespace}/{name}"), %reason, "migration failed");
    publish(ctx, migration, true, "Failed", reason).await;
    Ok(())
}

/// Writes the processed count every two seconds while the engine runs (for `storkctl ... --wait`).
/// Stopped through the returned sender and awaited, never aborted: an aborted task may leave a patch in
/// flight that lands after the final status and turns the Migration back to InProgress.
fn spawn_progress(
    ctx: &Context,
    namespace: &str,
    name: &str,
    base: MigrationStatus,
    processed: Arc<AtomicU64>,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let client = ctx.client.clone();
    let (namespace, name) = (namespace.to_string(), name.to_string());
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let api: Api<Migration> = Api::namespaced(client, &namespace);
        let mut last = 0;
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            let done = processed.load(Ordering::Relaxed);
            if done == last {
                continue;
            }
            last = done;
            let mut status = base.clone();
            status.resource_counts = Some(ResourceCounts { processed: done, ..Default::default() });
            let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "Migration", "status": status});
            let _ = api.patch_status(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(patch)).await;
        }
    });
    (stop, task)
}

async fn write_status(ctx: &Context, namespace: &str, name: &str, status: &MigrationStatus) -> Result<(), Error> {
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), namespace);
    let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "Migration", "status": status});
    api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(patch)).await?;
    Ok(())
}

/// The complete per-resource list, owned by the Migration so it goes away with it.
async fn write_details(
    ctx: &Context,
    migration: &Migration,
    name: &str,
    entries: &[engine::Entry],
) -> anyhow::Result<()> {
    let namespace = migration.namespace().unwrap_or_default();
    let data = compressed_details(entries)?;
    let owner = migration.controller_owner_ref(&()).map(|mut o| {
        o.controller = Some(false);
        o
    });
    let cm = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.clone()),
            owner_references: owner.map(|o| vec![o]),
            labels: Some([("stork.libopenstorage.org/migration".to_string(), migration.name_any())].into()),
            ..Default::default()
        },
        binary_data: Some([("resources.jsonl.gz".to_string(), k8s_openapi::ByteString(data))].into()),
        ..Default::default()
    };
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
    match api.create(&PostParams::default(), &cm).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            api.replace(name, &PostParams::default(), &cm).await?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

async fn publish(ctx: &Context, migration: &Migration, warning: bool, reason: &str, message: &str) {
    let event = Event {
        type_: if warning { EventType::Warning } else { EventType::Normal },
        reason: reason.to_string(),
        note: Some(message.chars().take(1000).collect()),
        action: "Migrating".to_string(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &migration.object_ref(&())).await {
        tracing::warn!(error = %e, "cannot publish event");
    }
}

/// The schedule that created the migration (its owner), for metrics labels as Stork.
fn schedule_of(migration: &Migration) -> String {
    migration.owner_references().last().map(|o| o.name.clone()).unwrap_or_default()
}
