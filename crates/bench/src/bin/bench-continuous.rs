//! `bench-continuous`: continuous protection under load. On fresh local clusters (etcd syncing to disk)
//! with the migration benchmark's application (100 objects per namespace), a continuous schedule
//! protects every namespace; a load generator then changes N ConfigMaps per second for a while, and a
//! watch on the destination (this process's, not the controller's) times each change from the source
//! write to the destination's copy carrying it. Printed, per rate: p50/p99/max of that delay, against
//! the floor measured in the same run (a write on the destination seen by the same watch), changes
//! lost (final values missing at the end), the controller's CPU and its peak RSS; then an idle period:
//! CPU and destination writes.
//!
//! Usage: bench-continuous <path to the stork binary> [--namespaces 20] [--seconds 60] [--rates 10,100]
//! [--idle-seconds 60]

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::*;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use testenv::process::{Lifetime, Proc};
use testenv::{ClusterOptions, TestCluster};

/// Writes in flight at once from the load generator.
const LOAD_WORKERS: usize = 32;
/// Each change writes one of this many ConfigMaps per namespace (the application's own).
const TOUCHED_PER_NAMESPACE: usize = 50;

/// When each (namespace/name, value) was written on the source, and when its copy first showed it.
#[derive(Default)]
struct Ledger {
    sent: HashMap<(String, String), Instant>,
    seen: HashMap<(String, String), Instant>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let stork = args
        .get(1)
        .context("usage: bench-continuous <path to the stork binary> [--namespaces N] [--seconds N] [--rates 10,100]")?
        .clone();
    let namespaces = number_flag(&args, "--namespaces", 20)?;
    let seconds = number_flag(&args, "--seconds", 60)?.max(1);
    let idle_seconds = number_flag(&args, "--idle-seconds", 60)?.max(1);
    let rates: Vec<usize> = match args.iter().position(|a| a == "--rates").and_then(|i| args.get(i + 1)) {
        Some(list) => list
            .split(',')
            .map(|r| r.trim().parse())
            .collect::<Result<_, _>>()
            .context("--rates needs numbers, e.g. 10,100")?,
        None => vec![10, 100],
    };
    testenv::install_crypto_provider();

    println!("starting two clusters, etcd with fsync (destination with kube-controller-manager)...");
    let (source, destination) = tokio::join!(
        TestCluster::start_with(ClusterOptions::new("source").with_fsync()),
        TestCluster::start_with(ClusterOptions::new("destination").with_controller_manager().with_fsync()),
    );
    let (source, destination) = (source?, destination?);
    let objects = application(namespaces, MIGRATION_MIX);
    let object_count = objects.iter().filter(|(ar, _)| ar.kind != "Namespace").count();
    println!("{object_count} objects in {namespaces} namespaces");
    create_all(&source.client(), &objects).await?;

    let log = source.dir().join("logs/stork-bench.log");
    let mut cmd = Command::new(&stork);
    cmd.arg(format!("--kubeconfig={}", source.kubeconfig_path().display()))
        .args(["--http-address=127.0.0.1:0", "--leader-elect=false"])
        .args(std::env::var("STORK_BENCH_ARGS").unwrap_or_default().split_whitespace())
        .env("RUST_LOG", "warn,stork_controller::schedule=info");
    let controller = Proc::spawn("stork", cmd, &log, Lifetime::WithParent)?;
    pair(&source, &destination).await?;

    let started = Instant::now();
    protect(&source, namespaces).await?;
    wait_watching(&source).await?;
    println!("schedule created; the sync caught up and watches after {:.1} s", started.elapsed().as_secs_f64());
    let waited = quiet(&destination).await?;
    println!("the destination's own controllers were done with the copies {:.0} s later", waited.as_secs_f64());

    // The destination watch that times every change, and the floor: writes on the destination itself.
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let watching = tokio::spawn(watch_destination(destination.client(), ledger.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let floor = floor(&destination, &ledger).await?;
    println!(
        "floor: a write on the destination seen by the same watch: p50 {} p99 {} max {}",
        ms(floor.0),
        ms(floor.1),
        ms(floor.2)
    );

    let mut sequence = 0usize;
    for rate in &rates {
        ledger.lock().map_err(|_| anyhow::anyhow!("ledger"))?.sent.clear();
        let cpu_before = cpu_seconds(controller.pid()).unwrap_or(0.0);
        let load_started = Instant::now();
        let finals = load(&source, namespaces, *rate, seconds, &ledger, &mut sequence).await?;
        let wall = load_started.elapsed();
        // Every change gets up to 30 s more to arrive.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let missing = missing(&ledger);
            if missing == 0 || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let cpu = cpu_seconds(controller.pid()).unwrap_or(0.0) - cpu_before;
        let (delays, unseen) = delays(&ledger);
        let lost = lost(&destination, &finals).await?;
        let (p50, p99, max) = percentiles(&delays);
        println!();
        println!("{rate} changes/s for {seconds} s ({} changes written on the source):", delays.len() + unseen);
        println!(
            "  source write -> destination copy: p50 {} p99 {} max {}  (targets at 100/s: p99 <= 1 s, max <= 5 s)",
            ms(p50),
            ms(p99),
            ms(max)
        );
        println!("  p50 / floor p50                 = {:.1}", p50.as_secs_f64() / floor.0.as_secs_f64().max(1e-6));
        println!(
            "  changes never seen on the destination: {unseen}; final values missing at the end: {lost}  (target 0)"
        );
        println!(
            "  controller CPU: {:.2} s per minute = {:.3} cores  (target <= 0.5)",
            cpu * 60.0 / wall.as_secs_f64(),
            cpu / wall.as_secs_f64()
        );
    }

    quiet(&destination).await?;
    let writes_before = destination_writes_by_request(&destination).await?;
    let cpu_before = cpu_seconds(controller.pid()).unwrap_or(0.0);
    tokio::time::sleep(Duration::from_secs(idle_seconds as u64)).await;
    let cpu = cpu_seconds(controller.pid()).unwrap_or(0.0) - cpu_before;
    let writes = moved(&writes_before, &destination_writes_by_request(&destination).await?);
    println!();
    println!("idle for {idle_seconds} s: controller CPU {:.4} cores (target <= 0.01)", cpu / idle_seconds as f64);
    println!("  destination write requests meanwhile (all clients): {writes}");
    let peak = peak_rss_kib(controller.pid()).unwrap_or(0);
    println!("controller peak RSS = {} MiB  (target <= 200 MiB at 20,000 objects)", peak / 1024);
    watching.abort();
    drop(controller);
    Ok(())
}

/// Waits until the destination has served no write for 5 s (its kube-controller-manager reacts to
/// thousands of new workloads for minutes), at most 10 minutes; returns how long that took.
async fn quiet(destination: &TestCluster) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let (mut last, mut since) = (destination_writes(destination).await?, Instant::now());
    while since.elapsed() < Duration::from_secs(5) && started.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = destination_writes(destination).await?;
        if now != last {
            (last, since) = (now, Instant::now());
        }
    }
    Ok(started.elapsed())
}

/// A continuous policy and a schedule of every bench namespace.
async fn protect(source: &TestCluster, namespaces: usize) -> anyhow::Result<()> {
    let policies: Api<stork_api::SchedulePolicy> = Api::all(source.client());
    let policy: stork_api::SchedulePolicy = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "SchedulePolicy",
        "metadata": {"name": "bench-continuous"},
        "policy": {"continuous": {"fullSyncIntervalMinutes": 60}},
    }))?;
    policies.create(&PostParams::default(), &policy).await?;
    let names: Vec<String> = (0..namespaces).map(namespace_name).collect();
    let schedule: stork_api::MigrationSchedule = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "MigrationSchedule",
        "metadata": {"name": "bench", "namespace": "kube-system"},
        "spec": {"schedulePolicyName": "bench-continuous", "template": {"spec": {"clusterPair": "remotecluster", "namespaces": names}}},
    }))?;
    let api: Api<stork_api::MigrationSchedule> = Api::namespaced(source.client(), "kube-system");
    api.create(&PostParams::default(), &schedule).await?;
    Ok(())
}

async fn wait_watching(source: &TestCluster) -> anyhow::Result<()> {
    let api: Api<stork_api::MigrationSchedule> = Api::namespaced(source.client(), "kube-system");
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let status = api.get("bench").await?.status.unwrap_or_default();
        let watching = status.continuous.as_ref().is_some_and(|c| c.state == "Watching");
        let first_pass_done = status.items.values().flatten().any(|i| i.finish_timestamp.is_some());
        if watching && first_pass_done {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "the sync is not watching: {:?}", status.continuous);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Records when each ConfigMap value first shows on the destination.
async fn watch_destination(client: kube::Client, ledger: Arc<Mutex<Ledger>>) {
    let api: Api<ConfigMap> = Api::all(client);
    let events = watcher(api, watcher::Config::default().labels("app=bench")).touched_objects();
    let mut events = std::pin::pin!(events);
    while let Ok(Some(cm)) = events.try_next().await {
        let at = Instant::now();
        let Some(v) = cm.data.as_ref().and_then(|d| d.get("seq")).cloned() else { continue };
        let key = format!("{}/{}", cm.metadata.namespace.unwrap_or_default(), cm.metadata.name.unwrap_or_default());
        if let Ok(mut ledger) = ledger.lock() {
            ledger.seen.entry((key, v)).or_insert(at);
        }
    }
}

/// Writes 100 values straight to the destination (one at a time) and times the same watch seeing them.
async fn floor(
    destination: &TestCluster,
    ledger: &Arc<Mutex<Ledger>>,
) -> anyhow::Result<(Duration, Duration, Duration)> {
    let ns = "bench-floor";
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(destination.client());
    namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}}))?).await?;
    let api: Api<ConfigMap> = Api::namespaced(destination.client(), ns);
    let mut sent = Vec::new();
    for i in 0..100 {
        let v = format!("floor-{i}");
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("floor-{}", i % 10), "labels": {"app": "bench"}}, "data": {"seq": v}});
        let at = Instant::now();
        api.patch(&format!("floor-{}", i % 10), &PatchParams::apply("bench").force(), &Patch::Apply(&cm)).await?;
        sent.push(((format!("{ns}/floor-{}", i % 10), v), at));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ledger = ledger.lock().map_err(|_| anyhow::anyhow!("ledger"))?;
    let delays: Vec<Duration> =
        sent.iter().filter_map(|(k, at)| ledger.seen.get(k).map(|s| s.saturating_duration_since(*at))).collect();
    Ok(percentiles(&delays))
}

/// `rate` changes per second for `seconds`, spread over every namespace's ConfigMaps; returns the final
/// value of every ConfigMap written.
async fn load(
    source: &TestCluster,
    namespaces: usize,
    rate: usize,
    seconds: usize,
    ledger: &Arc<Mutex<Ledger>>,
    sequence: &mut usize,
) -> anyhow::Result<HashMap<String, String>> {
    let total = rate * seconds;
    let every = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let start = tokio::time::Instant::now();
    let mut changes = Vec::with_capacity(total);
    for _ in 0..total {
        *sequence += 1;
        let n = *sequence;
        // A spread that revisits objects, so some changes coalesce and some objects change often.
        let ns = namespace_name(n % namespaces);
        let name = format!("config-{}", (n / namespaces) % TOUCHED_PER_NAMESPACE);
        changes.push((ns, name, format!("{n}")));
    }
    let mut finals = HashMap::new();
    for (ns, name, v) in &changes {
        finals.insert(format!("{ns}/{name}"), v.clone());
    }
    let client = source.client();
    futures::stream::iter(changes.into_iter().enumerate())
        .map(|(i, (ns, name, v))| {
            let (client, ledger) = (client.clone(), ledger.clone());
            async move {
                tokio::time::sleep_until(start + every * i as u32).await;
                let api: Api<ConfigMap> = Api::namespaced(client, &ns);
                let cm =
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"seq": v}});
                let at = Instant::now();
                if let Ok(mut l) = ledger.lock() {
                    l.sent.insert((format!("{ns}/{name}"), v.clone()), at);
                }
                api.patch(&name, &PatchParams::apply("bench-load").force(), &Patch::Apply(&cm)).await.map(|_| ())
            }
        })
        .buffer_unordered(LOAD_WORKERS)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(finals)
}

/// Changes sent whose value the destination has not shown yet, counting only the last value of each
/// object (earlier ones may be coalesced away).
fn missing(ledger: &Arc<Mutex<Ledger>>) -> usize {
    let Ok(ledger) = ledger.lock() else { return usize::MAX };
    let mut last: HashMap<&str, (&str, Instant)> = HashMap::new();
    for ((key, v), at) in &ledger.sent {
        let entry = last.entry(key.as_str()).or_insert((v.as_str(), *at));
        if *at > entry.1 {
            *entry = (v.as_str(), *at);
        }
    }
    last.iter().filter(|(k, (v, _))| !ledger.seen.contains_key(&(k.to_string(), v.to_string()))).count()
}

/// The delay of every change that was seen, and how many were never seen. A change coalesced into a
/// later one of the same object counts as arriving when that later one did.
fn delays(ledger: &Arc<Mutex<Ledger>>) -> (Vec<Duration>, usize) {
    let Ok(ledger) = ledger.lock() else { return (Vec::new(), 0) };
    let mut by_object: HashMap<&str, Vec<(Instant, &str)>> = HashMap::new();
    for ((key, v), at) in &ledger.sent {
        by_object.entry(key.as_str()).or_default().push((*at, v.as_str()));
    }
    let (mut out, mut unseen) = (Vec::new(), 0);
    for (key, mut writes) in by_object {
        writes.sort();
        for (i, (at, _)) in writes.iter().enumerate() {
            // The first value at or after this one that the destination showed.
            let arrived = writes[i..]
                .iter()
                .filter_map(|(_, v)| ledger.seen.get(&(key.to_string(), v.to_string())))
                .filter(|seen| **seen >= *at)
                .min();
            match arrived {
                Some(seen) => out.push(seen.saturating_duration_since(*at)),
                None => unseen += 1,
            }
        }
    }
    (out, unseen)
}

/// Final values missing on the destination, read back with a list.
async fn lost(destination: &TestCluster, finals: &HashMap<String, String>) -> anyhow::Result<usize> {
    let api: Api<ConfigMap> = Api::all(destination.client());
    let mut found = HashMap::new();
    let list = api.list(&kube::api::ListParams::default().labels("app=bench")).await?;
    for cm in list.items {
        let key = format!("{}/{}", cm.metadata.namespace.unwrap_or_default(), cm.metadata.name.unwrap_or_default());
        if let Some(v) = cm.data.and_then(|d| d.get("seq").cloned()) {
            found.insert(key, v);
        }
    }
    Ok(finals.iter().filter(|(k, v)| found.get(*k) != Some(*v)).count())
}

fn percentiles(delays: &[Duration]) -> (Duration, Duration, Duration) {
    if delays.is_empty() {
        return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    }
    let mut sorted = delays.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1).min(sorted.len() - 1)];
    (at(0.50), at(0.99), sorted[sorted.len() - 1])
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// User plus system CPU seconds a process has used (from `/proc/<pid>/stat`, in clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit(')').next()?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
