//! One continuous sync, start to end. A session resolves the schedule's template as a Migration would,
//! notes where each watched collection stands, compares both clusters whole once (an incremental run:
//! only what differs by hash or drifted is written), then watches: each change is written alone once
//! debounced. A session ends to start over (new namespaces or types, a watch that cannot resume, an
//! object only a whole pass can bring) or to pause (a cluster out of reach, a spec that cannot run);
//! the next one catches up by the same comparison.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, ApiResource};
use stork_api::annotations::MIGRATION_SCHEDULE_NAME;
use stork_api::{ClusterPair, Migration, MigrationSchedule};
use stork_kube::Cluster;
use stork_migrate::core::continuous::{Backlog, copy_change_matters};
use stork_migrate::core::hash::ContentHash;
use stork_migrate::core::select::wants_type;
use stork_migrate::core::validate::{check_spec, restrict_system_namespaces};
use stork_migrate::io::destination::Served;
use stork_migrate::io::sync::{Synced, Syncer};
use stork_migrate::io::watch::{Noticed, Side, Watched, current_version, watch};
use stork_migrate::schedule::policy::Continuous;
use stork_migrate::{EngineError, Job, Mode, ObjectId, Progress, TypeKey};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::report::{Reporter, State};
use crate::context::Context;
use crate::migration::attempt::{Resolved, Stop, effective_spec, resolve};

/// Copies whose last written hash is remembered at most (then forgotten all at once).
const MAX_WRITTEN: usize = 200_000;
/// Watch reports buffered before the watches wait for the sync to take them.
const CHANNEL: usize = 4096;
/// Collections whose versions are read at once when a session starts.
const CONCURRENT_VERSIONS: usize = 8;
/// Waits after a write failed for a reason that may pass, doubling up to the maximum.
const HOLD: Duration = Duration::from_millis(500);
const MAX_HOLD: Duration = Duration::from_secs(10);
/// Waits between sessions while paused, doubling up to the maximum.
const PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Why a session ended.
enum Ended {
    /// Start over at once (and catch up).
    Again(String),
    /// Wait, then start over.
    Paused(String),
    /// Drained on request: the sync is over.
    Drained,
}

/// When the source's types are looked at again after a namespace or CRD changed without changing them.
const RECHECKS: [Duration; 3] = [Duration::from_secs(1), Duration::from_secs(3), Duration::from_secs(8)];

/// How long a drain waits with nothing pending and nothing written before it calls the destination
/// current: watch events arrive within milliseconds of their writes.
const QUIET: Duration = Duration::from_secs(1);

/// Runs the sync of `schedule` until the task is aborted.
pub(super) async fn run(
    ctx: Arc<Context>,
    schedule: MigrationSchedule,
    policy: Continuous,
    mut drain: tokio::sync::watch::Receiver<bool>,
) {
    let namespace = schedule.namespace().unwrap_or_default();
    let name = schedule.name_any();
    let label = format!("{namespace}/{name}");
    let mut reporter = Reporter::new(&namespace, &name);
    let mut pause = PAUSE;
    let mut paused_since: Option<Instant> = None;
    loop {
        if *drain.borrow() {
            // Asked to drain while it could not watch: nothing it can vouch for.
            reporter.set_state(State::Stopped, "suspended while paused: not drained");
            reporter.report(&ctx, Duration::ZERO, 0).await;
            return;
        }
        match session(&ctx, &schedule, policy, &mut reporter, paused_since, &mut drain).await {
            Ended::Drained => {
                tracing::info!(schedule = %label, "continuous sync drained");
                return;
            }
            Ended::Again(reason) => {
                tracing::info!(schedule = %label, %reason, "continuous sync starts over");
                pause = PAUSE;
                paused_since = None;
            }
            Ended::Paused(reason) => {
                tracing::warn!(schedule = %label, %reason, retry_in = ?pause, "continuous sync paused");
                let since = *paused_since.get_or_insert_with(Instant::now);
                reporter.set_state(State::Paused, reason);
                // Nothing is seen while paused: the destination is taken to fall behind all along.
                reporter.report(&ctx, since.elapsed(), 0).await;
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// The schedule's template as the Migration its full passes create.
fn as_migration(schedule: &MigrationSchedule) -> Migration {
    let mut migration = Migration::new(&schedule.name_any(), schedule.spec.template.spec.clone());
    migration.metadata.namespace = schedule.namespace();
    migration.metadata.annotations =
        Some([(MIGRATION_SCHEDULE_NAME.to_string(), schedule.name_any())].into_iter().collect());
    migration
}

/// What a session works with.
struct Setup {
    resolved: Resolved,
    job: Job,
    served: Served,
    wanted: BTreeSet<TypeKey>,
    watched: Vec<(Watched, String)>,
}

async fn session(
    ctx: &Arc<Context>,
    schedule: &MigrationSchedule,
    policy: Continuous,
    reporter: &mut Reporter,
    paused_since: Option<Instant>,
    drain: &mut tokio::sync::watch::Receiver<bool>,
) -> Ended {
    let setup = match set_up(ctx, schedule).await {
        Ok(setup) => setup,
        Err(ended) => return ended,
    };
    let Setup { resolved, job, served, wanted, watched } = setup;
    let clusters = &resolved.clusters;
    let lag = |since: Option<Instant>| since.map_or(Duration::ZERO, |s| s.elapsed());

    reporter.set_state(State::CatchingUp, "comparing both clusters by hashes");
    reporter.report(ctx, lag(paused_since), 0).await;
    // Watches start from the versions read before this pass, so that nothing changed during it is missed.
    let progress = Progress::default();
    ctx.memory.begin_run();
    let deadline = ctx.settings.migration_run_timeout;
    let caught_up = tokio::time::timeout(deadline, stork_migrate::run(clusters, &job, &ctx.memory, &progress)).await;
    ctx.memory.end_run();
    match caught_up {
        Ok(Ok(outcome)) => {
            let c = &outcome.counts;
            reporter.caught_up(c.created + c.updated + c.purged);
            tracing::info!(schedule = %format!("{}/{}", job.namespace, job.name), created = c.created, updated = c.updated,
                purged = c.purged, unchanged = c.unchanged, failed = c.failed, "continuous sync caught up");
        }
        Ok(Err(e)) => return Ended::Paused(format!("catching up: {e}")),
        Err(_) => {
            return Ended::Paused(format!(
                "catching up did not finish within {} (--migration-timeout)",
                stork_kube::duration::format(deadline)
            ));
        }
    }

    let (tx, mut rx) = mpsc::channel(CHANNEL);
    let mut watches = JoinSet::new();
    for (w, version) in watched {
        watches.spawn(watch(w, version, tx.clone()));
    }
    drop(tx);
    reporter.set_state(State::Watching, "");
    reporter.report(ctx, Duration::ZERO, 0).await;

    let mut backlog = Backlog::new(policy.debounce);
    // Each change is written as soon as it is due and a place is free: no batch waits for its slowest.
    let progress = Progress::default();
    let syncer = Syncer::new(clusters, &job, &ctx.memory, &progress, &served);
    let mut in_flight = futures::stream::FuturesUnordered::new();
    let mut troubled: HashMap<Side, String> = HashMap::new();
    let mut hold: Option<(Instant, Duration)> = None;
    let mut rechecks: Vec<(Instant, String)> = Vec::new();
    // The hash of what the sync last wrote to each copy.
    let mut written: HashMap<ObjectId, ContentHash> = HashMap::new();
    let mut draining = *drain.borrow();
    // When the sync last wrote, or a drain began. A drain ends after QUIET without either, so that the
    // events of writes made just before it have arrived; events that change nothing the sync writes (a
    // source controller updating the status of the workloads a failover just idled, for a minute at
    // its own rate) do not hold it up.
    let mut last_write = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(if draining { 200 } else { 1000 }));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let held = hold.is_some_and(|(until, _)| Instant::now() < until) || !troubled.is_empty();
        let room = job.concurrency.max(1).saturating_sub(in_flight.len());
        let wake = match (held || room == 0, backlog.next_due()) {
            (false, Some(_)) if draining => tokio::time::Instant::now(),
            (false, Some(at)) => tokio::time::Instant::from_std(at),
            _ => tokio::time::Instant::now() + Duration::from_secs(3600),
        };
        tokio::select! {
            changed = drain.changed(), if !draining => {
                draining = changed.is_ok() && *drain.borrow();
                if draining {
                    last_write = Instant::now();
                    tick = tokio::time::interval(Duration::from_millis(200));
                }
            }
            noticed = rx.recv() => {
                let Some(noticed) = noticed else { return Ended::Again("every watch ended".into()) };
                match noticed {
                    Noticed::Changed { side: Side::Source, id, at, .. } => backlog.note(id, at),
                    Noticed::Changed { side: Side::Destination, id, at, record } => {
                        let baseline = ctx.memory.baselines.get(clusters.destination_id, &id);
                        if copy_change_matters(record.as_ref(), baseline.as_ref(), written.get(&id).copied()) {
                            backlog.note(id, at);
                        }
                    }
                    Noticed::Reshaped { what, .. } => {
                        match reshaped(ctx, &job, &wanted).await {
                            // Discovery serves a new CRD's kind a moment after the CRD's last change:
                            // looked at again shortly.
                            Ok(false) => {
                                rechecks = RECHECKS.iter().map(|after| (Instant::now() + *after, what.clone())).collect();
                            }
                            Ok(true) => return Ended::Again(format!("{what} changed what is migrated")),
                            Err(e) => return Ended::Paused(e.to_string()),
                        }
                    }
                    Noticed::Expired { side, what } => {
                        return Ended::Again(format!("{what} on the {} cannot resume (its version is gone)", side.as_str()));
                    }
                    Noticed::Trouble { side, message } => {
                        if troubled.is_empty() {
                            reporter.set_state(State::Paused, format!("{} out of reach: {message}", side.as_str()));
                        }
                        troubled.insert(side, message);
                    }
                    Noticed::Refused { side, what, message } => {
                        tracing::warn!(%what, side = side.as_str(), %message, "continuous sync cannot watch a kind; full passes still copy it");
                        reporter.failed(format!("{what} on the {}: {message}", side.as_str()));
                    }
                    Noticed::Resumed { side } => {
                        troubled.remove(&side);
                        match troubled.iter().next() {
                            None => reporter.set_state(State::Watching, ""),
                            Some((side, message)) => reporter.set_state(State::Paused, format!("{} out of reach: {message}", side.as_str())),
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                let due = if draining { backlog.take_all(room) } else { backlog.take_due(Instant::now(), room) };
                for id in due {
                    in_flight.push(syncer.sync(id));
                }
            }
            Some((id, result)) = in_flight.next(), if !in_flight.is_empty() => {
                match result {
                    Ok(Synced::NeedsPass(reason)) => {
                        backlog.written(&id);
                        return Ended::Again(reason);
                    }
                    Ok(synced) => {
                        if let Some(action) = action(&synced) {
                            reporter.applied(describe(&id), action);
                            last_write = Instant::now();
                        }
                        match synced {
                            Synced::Created(hash) | Synced::Updated(hash) => {
                                if written.len() >= MAX_WRITTEN {
                                    written.clear();
                                }
                                written.insert(id.clone(), hash);
                            }
                            _ => {
                                written.remove(&id);
                            }
                        }
                        backlog.written(&id);
                        hold = None;
                    }
                    Err(e) => {
                        reporter.failed(format!("{id}: {e}"));
                        if e.is_transient() {
                            backlog.retry(id, Instant::now());
                            hold = Some(match hold {
                                None => (Instant::now() + HOLD, HOLD),
                                Some((_, wait)) => {
                                    let wait = (wait * 2).min(MAX_HOLD);
                                    (Instant::now() + wait, wait)
                                }
                            });
                        } else {
                            // Refused by the destination: the next full pass tries again and reports it.
                            tracing::warn!(object = %id, error = %e, "continuous sync could not write a change");
                            backlog.written(&id);
                        }
                    }
                }
            }
            _ = tick.tick() => {
                if draining && backlog.is_empty() && in_flight.is_empty() && troubled.is_empty() && last_write.elapsed() >= QUIET {
                    reporter.set_state(State::Drained, "suspended: every change seen was written");
                    reporter.report(ctx, Duration::ZERO, 0).await;
                    return Ended::Drained;
                }
                reporter.report(ctx, backlog.lag(Instant::now()), backlog.len()).await;
                if let Some((_, what)) = rechecks.first().filter(|(at, _)| *at <= Instant::now()).cloned() {
                    rechecks.remove(0);
                    match reshaped(ctx, &job, &wanted).await {
                        Ok(false) => {}
                        Ok(true) => return Ended::Again(format!("{what} changed what is migrated")),
                        Err(e) => return Ended::Paused(e.to_string()),
                    }
                }
                if watches.is_empty() {
                    return Ended::Again("every watch ended".into());
                }
                if reporter.state() == State::Paused && troubled.is_empty() {
                    reporter.set_state(State::Watching, "");
                }
            }
        }
    }
}

/// Resolves the schedule's template, discovers both clusters' types and reads where each watched
/// collection stands.
async fn set_up(ctx: &Arc<Context>, schedule: &MigrationSchedule) -> Result<Setup, Ended> {
    let namespace = schedule.namespace().unwrap_or_default();
    let migration = as_migration(schedule);
    let spec = effective_spec(&migration);
    check_spec(&spec, &namespace).map_err(Ended::Paused)?;
    let resolved = match resolve(ctx, &migration, &namespace, &spec).await {
        Ok(resolved) => resolved,
        Err(Stop::Invalid(reason) | Stop::Unavailable(reason)) => return Err(Ended::Paused(reason)),
    };
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), &namespace);
    let pair_name = &spec.cluster_pair;
    let what = format!("reading ClusterPair {namespace}/{pair_name}");
    let pair = match ctx.source.within(what, pairs.get_opt(pair_name)).await {
        Ok(Some(pair)) => pair,
        Ok(None) => return Err(Ended::Paused(format!("ClusterPair {pair_name} not found in namespace {namespace}"))),
        Err(e) => return Err(Ended::Paused(e.to_string())),
    };
    let remote = ctx.remotes.get(&pair).await.map_err(|e| Ended::Paused(e.to_string()))?;
    let timeout = ctx.settings.request_timeout;
    let destination_watch = Cluster::new(remote.watcher, "destination", timeout);

    let clusters = &resolved.clusters;
    let (source_types, served) = tokio::join!(clusters.source.discover(), Served::discover(&clusters.destination));
    let source_types = source_types.map_err(|e| Ended::Paused(e.to_string()))?;
    let served = served.map_err(|e| Ended::Paused(e.to_string()))?;
    let namespaces = Arc::new(resolved.namespaces.clone());
    let mut wanted = BTreeSet::new();
    let mut watched = Vec::new();
    let source_watch = |ar: ApiResource, key: Arc<TypeKey>, shape: bool| Watched {
        cluster: ctx.source.clone(),
        side: Side::Source,
        ar,
        key,
        namespaces: namespaces.clone(),
        shape,
    };
    for t in source_types.iter().filter(|t| t.namespaced) {
        let key = TypeKey::of(&t.ar, true);
        if !wants_type(&key, &spec) {
            continue;
        }
        wanted.insert(key.clone());
        let key = Arc::new(key);
        watched.push(source_watch(t.ar.clone(), key.clone(), false));
        if let Some(dest_ar) = served.resource(&key) {
            watched.push(Watched {
                cluster: destination_watch.clone(),
                side: Side::Destination,
                ar: dest_ar.clone(),
                key,
                namespaces: namespaces.clone(),
                shape: false,
            });
        }
    }
    watched.push(source_watch(ApiResource::erase::<Namespace>(&()), Arc::new(TypeKey::namespace()), true));
    watched.push(source_watch(ApiResource::erase::<CustomResourceDefinition>(&()), Arc::new(TypeKey::crd()), true));
    let versioned: Vec<Option<(Watched, String)>> = stream::iter(watched)
        .map(|w| async move {
            match current_version(&w.cluster, &w.ar).await {
                Ok(version) => Ok(Some((w, version))),
                // A kind the controller may not list is left out, as a migration leaves it out.
                Err(EngineError::Refused(e)) if e.code == Some(403) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(CONCURRENT_VERSIONS)
        .try_collect()
        .await
        .map_err(|e| Ended::Paused(e.to_string()))?;
    let job = Job {
        name: schedule.name_any(),
        namespace: namespace.clone(),
        spec,
        namespaces: resolved.namespaces.clone(),
        cluster_namespaces: resolved.cluster_namespaces,
        full: false,
        time: jiff::Zoned::now().strftime("%Y-%m-%d-%H%M%S").to_string(),
        concurrency: ctx.settings.migration_concurrency,
        transforms: resolved.transforms.clone(),
        transform_name: migration.spec.transform_specs.first().cloned().unwrap_or_default(),
        mode: Mode::Apply,
        admin: namespace == ctx.settings.admin_namespace,
        writer: resolved.writer.clone(),
    };
    Ok(Setup { resolved, job, served, wanted, watched: versioned.into_iter().flatten().collect() })
}

/// Whether the source's namespaces or types changed what the sync covers: a namespace now matching (or
/// no longer matching) the selectors, a new type to copy.
async fn reshaped(ctx: &Context, job: &Job, wanted: &BTreeSet<TypeKey>) -> Result<bool, EngineError> {
    let mut found = stork_migrate::io::source::resolve_namespaces(&ctx.source, &job.spec).await?;
    let settings = &ctx.settings;
    let restricted = restrict_system_namespaces(
        &job.namespace,
        &settings.admin_namespace,
        &settings.controller_namespace,
        &job.spec.namespaces,
        &mut found.namespaces,
    );
    if restricted.is_err() || found.namespaces != job.namespaces {
        return Ok(true);
    }
    let types = ctx.source.discover().await?;
    let now: BTreeSet<TypeKey> = types
        .iter()
        .filter(|t| t.namespaced)
        .map(|t| TypeKey::of(&t.ar, true))
        .filter(|k| wants_type(k, &job.spec))
        .collect();
    Ok(&now != wanted)
}

/// How a written change is shown in status.
fn action(synced: &Synced) -> Option<&'static str> {
    match synced {
        Synced::Created(_) => Some("Created"),
        Synced::Updated(_) => Some("Updated"),
        Synced::Purged => Some("Deleted"),
        _ => None,
    }
}

fn describe(id: &ObjectId) -> String {
    format!("{} {}/{}", id.key.kind, id.namespace, id.name)
}
