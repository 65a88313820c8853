//! One attempt at a Migration: check the spec, resolve what it names, run the engine within the run
//! deadline, and report. An invalid Migration ends `Failed` with the reason; one that fails because a
//! cluster is unreachable or busy is tried again with backoff (shown in status) until the retry timeout.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use stork_api::annotations::{MIGRATION_SCHEDULE_NAME, MIGRATION_TYPE, MIGRATION_TYPE_REASON};
use stork_api::{ClusterPair, Migration, MigrationSpec, MigrationStage, MigrationStatus, TransformSpec};
use stork_kube::Cluster;
use stork_migrate::core::validate::{
    check_admin_pair, check_namespace_scope, check_spec, pair_ready, restrict_system_namespaces,
};
use stork_migrate::io::source::{load_rules, resolve_namespaces};
use stork_migrate::{Clusters, EngineError, Job, Mode, Progress};

use super::Error;
use super::retry::{Next, RetryPolicy};
use super::status;
use crate::clock::now;
use crate::context::Context;
use crate::remote::RemoteClient;

/// Why an attempt did not get to run.
pub(crate) enum Stop {
    /// Terminal: the Migration fails with this reason.
    Invalid(String),
    /// May pass: tried again later.
    Unavailable(String),
}

impl From<EngineError> for Stop {
    fn from(e: EngineError) -> Self {
        if e.is_transient() { Self::Unavailable(e.to_string()) } else { Self::Invalid(e.to_string()) }
    }
}

/// What resolving a Migration gave.
pub(crate) struct Resolved {
    pub clusters: Clusters,
    pub namespaces: BTreeSet<String>,
    pub cluster_namespaces: usize,
    pub transforms: HashMap<String, Vec<TransformSpec>>,
    pub writer: String,
}

pub(super) async fn attempt(cached: &Migration, ctx: &Context) -> Result<Action, Error> {
    let namespace = cached.namespace().ok_or(Error::NoNamespace)?;
    let name = cached.name_any();
    // The cache may not have seen our own Final status yet; a finished migration must never run twice.
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &namespace);
    let what = || format!("reading Migration {namespace}/{name}");
    let Some(migration) = ctx.source.within(what(), api.get_opt(&name)).await? else {
        return Ok(Action::await_change());
    };
    let previous = migration.status.clone();
    if previous.as_ref().is_some_and(|s| s.stage == MigrationStage::Final) {
        return Ok(Action::await_change());
    }
    let attempt = previous.as_ref().map_or(0, |s| s.attempts) + 1;
    let started = Instant::now();
    let spec = effective_spec(&migration);
    let resolved = match check_spec(&spec, &namespace).map_err(Stop::Invalid) {
        Ok(()) => resolve(ctx, &migration, &namespace, &spec).await,
        Err(stop) => Err(stop),
    };
    let validated_in = started.elapsed();
    let resolved = match resolved {
        Ok(resolved) => resolved,
        Err(stop) => return stopped(ctx, &migration, previous.as_ref(), attempt, stop).await,
    };

    let full = migration.annotations().get(MIGRATION_TYPE).is_some_and(|v| v.eq_ignore_ascii_case("full"));
    let mut running = status::running(previous.as_ref(), full, attempt);
    running.migration_type_reason = migration.annotations().get(MIGRATION_TYPE_REASON).cloned().unwrap_or_else(|| {
        if full { format!("Full: annotated {MIGRATION_TYPE}: full") } else { "Incremental".to_string() }
    });
    let marking = Instant::now();
    status::write(&ctx.source, &namespace, &name, &running).await?;
    let marked_in = marking.elapsed();
    ctx.metrics.set_migration(&namespace, &name, &schedule_of(&migration), &running, None);

    let job = Job {
        name: name.clone(),
        namespace: namespace.clone(),
        spec,
        namespaces: resolved.namespaces,
        cluster_namespaces: resolved.cluster_namespaces,
        full,
        time: jiff::Zoned::now().strftime("%Y-%m-%d-%H%M%S").to_string(),
        concurrency: ctx.settings.migration_concurrency,
        transforms: resolved.transforms,
        transform_name: migration.spec.transform_specs.first().cloned().unwrap_or_default(),
        mode: Mode::Apply,
        admin: namespace == ctx.settings.admin_namespace,
        writer: resolved.writer,
    };
    let progress = Arc::new(Progress::default());
    let ticker = spawn_progress(ctx, &namespace, &name, running.clone(), progress.clone());
    ctx.memory.begin_run();
    let deadline = ctx.settings.migration_run_timeout;
    let result =
        tokio::time::timeout(deadline, stork_migrate::run(&resolved.clusters, &job, &ctx.memory, &progress)).await;
    ctx.memory.end_run();
    let (stop_ticker, ticker) = ticker;
    let _ = stop_ticker.send(());
    let _ = ticker.await;

    let outcome = match result {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => return stopped(ctx, &migration, Some(&running), attempt, e.into()).await,
        Err(_) => {
            let reason = format!(
                "the run did not finish within {} (--migration-timeout); what was written is kept and the next attempt goes on from there",
                stork_kube::duration::format(deadline)
            );
            return stopped(ctx, &migration, Some(&running), attempt, Stop::Unavailable(reason)).await;
        }
    };
    let elapsed = started.elapsed();
    let finishing = Instant::now();
    let details = if outcome.entries.len() > stork_migrate::core::report::MAX_STATUS_RESOURCES {
        match status::write_details(&ctx.source, &ctx.settings.controller_namespace, &migration, &outcome.entries).await
        {
            Ok(name) => Some(name),
            Err(e) => {
                tracing::warn!(migration = %format!("{namespace}/{name}"), error = %e, "complete resource list not kept");
                publish(ctx, &migration, true, "DetailsNotKept", &e.to_string()).await;
                None
            }
        }
    } else {
        None
    };
    let done = status::finished(&running, &outcome, elapsed, details);
    status::write(&ctx.source, &namespace, &name, &done).await?;
    ctx.metrics.set_migration(&namespace, &name, &schedule_of(&migration), &done, Some(elapsed));
    let counts = &outcome.counts;
    let message = format!(
        "{} migration {}: {} created, {} updated, {} unchanged, {} failed, {} purged in {}",
        done.migration_type,
        done.status.as_str(),
        counts.created,
        counts.updated,
        counts.unchanged,
        counts.failed,
        counts.purged,
        stork_kube::duration::format_millis(elapsed)
    );
    let phases = format!(
        "validate={}ms mark-running={}ms {} write-status={}ms",
        validated_in.as_millis(),
        marked_in.as_millis(),
        outcome.phase_summary(),
        finishing.elapsed().as_millis()
    );
    tracing::info!(migration = %format!("{namespace}/{name}"), %phases, attempt, "{message}");
    publish(ctx, &migration, counts.failed > 0, done.status.as_str(), &message).await;
    Ok(Action::await_change())
}

/// `includeResources: false` migrates only volumes' objects (claims and their volumes).
pub(crate) fn effective_spec(migration: &Migration) -> MigrationSpec {
    let mut spec = migration.spec.clone();
    if spec.include_resources == Some(false) {
        spec.resource_types = vec!["PersistentVolumeClaim".to_string()];
    }
    spec
}

/// Everything the Migration names, read on the source: its namespaces, its pairs, its rules. A
/// continuous schedule's sync resolves its template the same way.
pub(crate) async fn resolve(
    ctx: &Context,
    migration: &Migration,
    namespace: &str,
    spec: &MigrationSpec,
) -> Result<Resolved, Stop> {
    let mut found = resolve_namespaces(&ctx.source, spec).await?;
    let admin = &ctx.settings.admin_namespace;
    check_admin_pair(namespace, admin, &spec.admin_cluster_pair).map_err(Stop::Invalid)?;
    let controller_namespace = &ctx.settings.controller_namespace;
    restrict_system_namespaces(namespace, admin, controller_namespace, &spec.namespaces, &mut found.namespaces)
        .map_err(Stop::Invalid)?;
    if found.namespaces.is_empty() {
        return Err(Stop::Invalid(
            "no valid namespace found based on the provided 'Namespaces' and 'NamespaceSelectors' (system namespaces \
             are migrated only when named)"
                .to_string(),
        ));
    }
    check_namespace_scope(namespace, admin, &found.namespaces).map_err(Stop::Invalid)?;
    let include_volumes = spec.include_volumes != Some(false);
    let destination = ready_pair(ctx, namespace, &spec.cluster_pair, include_volumes).await?;
    let cluster_destination = if spec.admin_cluster_pair.is_empty() {
        destination.clone()
    } else {
        ready_pair(ctx, &ctx.settings.admin_namespace, &spec.admin_cluster_pair, include_volumes).await?
    };
    if let Some(schedule) = migration.annotations().get(MIGRATION_SCHEDULE_NAME) {
        refuse_if_activated(&destination, namespace, schedule, ctx.settings.request_timeout).await?;
    }
    let transforms = match migration.spec.transform_specs.first() {
        Some(rt) => load_rules(&ctx.source, namespace, rt, &found.namespaces).await?,
        None => HashMap::new(),
    };
    let source_cluster = stork_migrate::io::source::cluster_id(&ctx.source).await?;
    let timeout = ctx.settings.request_timeout;
    let destination_id = stork_migrate::cache::fingerprint(&(namespace, &spec.cluster_pair, &destination.server));
    Ok(Resolved {
        clusters: Clusters {
            source: ctx.source.clone(),
            destination: Cluster::new(destination.client, "destination", timeout),
            cluster_destination: Cluster::new(cluster_destination.client, "destination (admin pair)", timeout),
            destination_id,
            fence: ctx.fence.clone(),
        },
        namespaces: found.namespaces,
        cluster_namespaces: found.cluster_namespaces,
        transforms,
        writer: stork_migrate::job::writer(&source_cluster, namespace, &spec.cluster_pair),
    })
}

/// As Stork: a scheduled Migration does not run once the destination reports the schedule's
/// applications activated there (a failover happened; copying over them would undo it).
async fn refuse_if_activated(
    destination: &RemoteClient,
    namespace: &str,
    schedule: &str,
    timeout: Duration,
) -> Result<(), Stop> {
    let cluster = Cluster::new(destination.client.clone(), "destination", timeout);
    let api: Api<stork_api::MigrationSchedule> = Api::namespaced(destination.client.clone(), namespace);
    let what = format!("reading MigrationSchedule {namespace}/{schedule}");
    match cluster.within(what, api.get_opt(schedule)).await {
        Ok(Some(copy)) if copy.status.as_ref().is_some_and(|s| s.application_activated) => {
            Err(Stop::Invalid("migrated applications are active on remote cluster".to_string()))
        }
        // The copy is only looked at; a destination without it (or without the kind) is not a failover.
        _ => Ok(()),
    }
}

/// The destination client of a pair that can carry the migration. A missing pair is invalid; a pair
/// that is not Ready (yet, or any more) may become so.
async fn ready_pair(ctx: &Context, namespace: &str, name: &str, include_volumes: bool) -> Result<RemoteClient, Stop> {
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), namespace);
    let what = || format!("reading ClusterPair {namespace}/{name}");
    let pair = match ctx.source.within(what(), pairs.get_opt(name)).await {
        Ok(Some(pair)) => pair,
        Ok(None) => return Err(Stop::Invalid(format!("ClusterPair {name} not found in namespace {namespace}"))),
        Err(e) => return Err(EngineError::from(e).into()),
    };
    pair_ready(namespace, name, &pair.status.clone().unwrap_or_default(), include_volumes)
        .map_err(Stop::Unavailable)?;
    ctx.remotes.get(&pair).await.map_err(|e| Stop::Invalid(e.to_string()))
}

/// Ends the attempt: terminal failure, or a retry later while the retry timeout allows.
async fn stopped(
    ctx: &Context,
    migration: &Migration,
    previous: Option<&MigrationStatus>,
    attempt: u32,
    stop: Stop,
) -> Result<Action, Error> {
    let namespace = migration.namespace().ok_or(Error::NoNamespace)?;
    let name = migration.name_any();
    let reason = match stop {
        Stop::Invalid(reason) => reason,
        Stop::Unavailable(reason) => {
            let policy = RetryPolicy::new(ctx.settings.migration_retry_timeout);
            let since = previous.and_then(|s| s.retrying_since.clone()).unwrap_or_else(now);
            let failing_for = Duration::try_from(now().0.duration_since(since.0)).unwrap_or_default();
            match policy.next(attempt, failing_for) {
                Next::RetryIn(delay) => {
                    let give_up_at =
                        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(since.0 + policy.give_up_after);
                    let mut previous = previous.cloned();
                    if let Some(p) = previous.as_mut() {
                        p.retrying_since = Some(since);
                    }
                    let retrying = status::retrying(previous.as_ref(), attempt, &reason, delay, &give_up_at);
                    status::write(&ctx.source, &namespace, &name, &retrying).await?;
                    ctx.metrics.set_migration(&namespace, &name, &schedule_of(migration), &retrying, None);
                    tracing::info!(migration = %format!("{namespace}/{name}"), attempt, %reason, "retrying in {delay:?}");
                    return Ok(Action::requeue(delay));
                }
                Next::GiveUp => format!(
                    "gave up after {attempt} attempts in {}: {reason}",
                    stork_kube::duration::format_millis(failing_for)
                ),
            }
        }
    };
    let failed = status::failed(previous, &reason);
    status::write(&ctx.source, &namespace, &name, &failed).await?;
    ctx.metrics.set_migration(&namespace, &name, &schedule_of(migration), &failed, None);
    tracing::warn!(migration = %format!("{namespace}/{name}"), %reason, "migration failed");
    publish(ctx, migration, true, "Failed", &reason).await;
    Ok(Action::await_change())
}

/// Writes the processed count every two seconds while the engine runs (for `storkctl ... --wait`).
/// Stopped through the returned sender and awaited, never aborted: an aborted task may leave a patch in
/// flight that lands after the final status and turns the Migration back to InProgress.
fn spawn_progress(
    ctx: &Context,
    namespace: &str,
    name: &str,
    base: MigrationStatus,
    progress: Arc<Progress>,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let source = ctx.source.clone();
    let (namespace, name) = (namespace.to_string(), name.to_string());
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut last = 0;
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            let done = progress.done();
            if done == last {
                continue;
            }
            last = done;
            let _ = status::write_progress(&source, &namespace, &name, &base, done).await;
        }
    });
    (stop, task)
}

pub(super) async fn publish(ctx: &Context, migration: &Migration, warning: bool, reason: &str, message: &str) {
    ctx.publish(migration, "Migrating", warning, reason, message).await;
}

/// The schedule that created the migration (its owner), for metrics labels as Stork.
pub(super) fn schedule_of(migration: &Migration) -> String {
    migration.owner_references().last().map(|o| o.name.clone()).unwrap_or_default()
}
