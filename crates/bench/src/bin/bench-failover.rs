//! `bench-failover`: on two fresh local clusters (etcd syncing to disk, kube-controller-manager on both,
//! so scaling up creates ReplicaSets and Pods as it would), a 2,000-object application with 200
//! workloads and 60 CronJobs protected by a MigrationSchedule, then, measured in the same run:
//! - a raw parallel scale of the same workloads (idle the source, then bring the destination up: the
//!   least a failover must write, at the API servers' own rate), and `perform failover` (an Action on
//!   the destination) until it is Final with every workload scaled up there: the time to recover;
//! - the same for failback, after the destination's own schedule copied the application back.
//!
//! With `--continuous` both schedules are continuous: their syncs carry the scale-down and are drained
//! as the last mile (they are suspended while the raw baselines scale, so that they do not undo them).
//!
//! Usage: bench-failover <path to the stork binary> [--namespaces 20] [--continuous]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::*;
use futures::{StreamExt, stream};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use stork_api::{Action, ActionStage, ActionStatusType, MigrationSchedule};
use testenv::process::{Lifetime, Proc};
use testenv::{ClusterOptions, TestCluster};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let stork = args
        .get(1)
        .context("usage: bench-failover <path to the stork binary> [--namespaces N] [--continuous]")?
        .clone();
    let namespaces = number_flag(&args, "--namespaces", 20)?;
    let continuous = args.iter().any(|a| a == "--continuous");
    testenv::install_crypto_provider();

    println!("starting two clusters, etcd with fsync, kube-controller-manager on both...");
    let (source, destination) = tokio::join!(
        TestCluster::start_with(ClusterOptions::new("source").with_controller_manager().with_fsync()),
        TestCluster::start_with(ClusterOptions::new("destination").with_controller_manager().with_fsync()),
    );
    let (source, destination) = (source?, destination?);
    let objects = Arc::new(application(namespaces, FAILOVER_MIX));
    let workloads: Vec<Workload> = objects.iter().filter_map(Workload::of).collect();
    let scaled = workloads.iter().filter(|w| w.replicas.is_some()).count();
    println!(
        "{} objects in {namespaces} namespaces: {scaled} workloads, {} CronJobs",
        objects.iter().filter(|(ar, _)| ar.kind != "Namespace").count(),
        workloads.len() - scaled
    );
    create_all(&source.client(), &objects).await?;

    let _src_stork = controller(&stork, &source)?;
    let dst_stork = controller(&stork, &destination)?;
    pair(&source, &destination).await?;
    pair(&destination, &source).await?;
    let migrated: Vec<String> = (0..namespaces).map(namespace_name).collect();
    policy(&source, continuous).await?;
    schedule(&source, "bench", &migrated).await?;
    wait_for_copy(&source, &destination, "bench", continuous).await?;
    println!(
        "the schedule's first migration copied the application; the destination is a standby{}",
        if continuous { ", kept current by the schedule's continuous sync" } else { "" }
    );
    settle(&destination).await;

    // Failover.
    hold(&source, "bench", continuous, true).await?;
    let raw_failover = raw_switch(&source, &destination, &workloads).await?;
    println!(
        "raw parallel scale ({WORKERS} workers): idle the source, then bring the destination up: {:.2} s",
        raw_failover.as_secs_f64()
    );
    raw_switch(&destination, &source, &workloads).await?;
    hold(&source, "bench", continuous, false).await?;
    wait_for_copy(&source, &destination, "bench", continuous).await?;
    settle(&destination).await;
    let (rto, action) = act(&destination, "bench-failover", "failover", "bench").await?;
    check_scaled(&destination, &workloads, true).await?;
    check_scaled(&source, &workloads, false).await?;
    println!("perform failover → Final, every workload up on the destination: {:.2} s", rto.as_secs_f64());
    print_stages(&action);

    // Failback, once the destination's own schedule copied the application back.
    policy(&destination, continuous).await?;
    schedule(&destination, "bench-back", &migrated).await?;
    wait_for_copy(&destination, &source, "bench-back", continuous).await?;
    settle(&source).await;
    settle(&destination).await;
    hold(&destination, "bench-back", continuous, true).await?;
    let raw_failback = raw_switch(&destination, &source, &workloads).await?;
    println!("raw parallel scale: idle the destination, then bring the source up: {:.2} s", raw_failback.as_secs_f64());
    raw_switch(&source, &destination, &workloads).await?;
    hold(&destination, "bench-back", continuous, false).await?;
    wait_for_copy(&destination, &source, "bench-back", continuous).await?;
    settle(&source).await;
    let (rtb, action) = act(&destination, "bench-failback", "failback", "bench-back").await?;
    check_scaled(&source, &workloads, true).await?;
    check_scaled(&destination, &workloads, false).await?;
    println!("perform failback → Final, every workload up on the source: {:.2} s", rtb.as_secs_f64());
    print_stages(&action);

    println!();
    println!(
        "failover RTO / raw parallel scale = {:.2}   ({:.2} s / {:.2} s)",
        rto.as_secs_f64() / raw_failover.as_secs_f64(),
        rto.as_secs_f64(),
        raw_failover.as_secs_f64()
    );
    println!(
        "failback RTO / raw parallel scale = {:.2}   ({:.2} s / {:.2} s)",
        rtb.as_secs_f64() / raw_failback.as_secs_f64(),
        rtb.as_secs_f64(),
        raw_failback.as_secs_f64()
    );
    let peak = peak_rss_kib(dst_stork.pid()).unwrap_or(0);
    println!("destination controller peak RSS   = {} MiB", peak / 1024);
    Ok(())
}

/// A workload or CronJob of the application and what it runs with on the source.
struct Workload {
    ar: ApiResource,
    namespace: String,
    name: String,
    /// `None` for a CronJob.
    replicas: Option<i64>,
}

impl Workload {
    fn of((ar, body): &(ApiResource, Value)) -> Option<Self> {
        let replicas = match ar.kind.as_str() {
            "Deployment" | "StatefulSet" => Some(body["spec"]["replicas"].as_i64().unwrap_or(1)),
            "CronJob" => None,
            _ => return None,
        };
        Some(Self {
            ar: ar.clone(),
            namespace: body["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
            name: body["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            replicas,
        })
    }

    fn api(&self, cluster: &TestCluster) -> Api<DynamicObject> {
        Api::namespaced_with(cluster.client(), &self.namespace, &self.ar)
    }

    /// The spec of a running (`up`) or idle copy.
    fn spec(&self, up: bool) -> Value {
        match self.replicas {
            Some(n) => json!({"replicas": if up { n } else { 0 }}),
            None => json!({"suspend": !up}),
        }
    }
}

fn controller(stork: &str, cluster: &TestCluster) -> anyhow::Result<Proc> {
    let log = cluster.dir().join("logs/stork-bench.log");
    let mut cmd = Command::new(stork);
    cmd.arg(format!("--kubeconfig={}", cluster.kubeconfig_path().display()))
        .args(["--http-address=127.0.0.1:0", "--leader-elect=false"])
        .env("RUST_LOG", "warn,stork_controller::action=info,stork_controller::schedule=info");
    Proc::spawn("stork", cmd, &log, Lifetime::WithParent)
}

/// An hourly policy: the benchmark's schedules run once when created, then not again while measured;
/// a continuous one (its full passes hourly too) with `continuous`.
async fn policy(cluster: &TestCluster, continuous: bool) -> anyhow::Result<()> {
    let member = if continuous {
        json!({"continuous": {"fullSyncIntervalMinutes": 60}})
    } else {
        json!({"interval": {"intervalMinutes": 60}})
    };
    let policy: stork_api::SchedulePolicy = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "SchedulePolicy",
        "metadata": {"name": "bench-hourly"}, "policy": member,
    }))?;
    let api: Api<stork_api::SchedulePolicy> = Api::all(cluster.client());
    api.create(&PostParams::default(), &policy).await?;
    Ok(())
}

async fn schedule(cluster: &TestCluster, name: &str, namespaces: &[String]) -> anyhow::Result<()> {
    let schedule: MigrationSchedule = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "MigrationSchedule",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {"schedulePolicyName": "bench-hourly", "template": {"spec": {"clusterPair": "remotecluster", "namespaces": namespaces}}},
    }))?;
    let api: Api<MigrationSchedule> = Api::namespaced(cluster.client(), "kube-system");
    api.create(&PostParams::default(), &schedule).await?;
    Ok(())
}

/// Waits until the schedule on `cluster` has a successful migration and its static copy is on `other`
/// (and, `continuous`, its sync watches with nothing pending).
async fn wait_for_copy(
    cluster: &TestCluster,
    other: &TestCluster,
    schedule: &str,
    continuous: bool,
) -> anyhow::Result<()> {
    let schedules: Api<MigrationSchedule> = Api::namespaced(cluster.client(), "kube-system");
    let copies: Api<MigrationSchedule> = Api::namespaced(other.client(), "kube-system");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let status = schedules.get(schedule).await?.status.unwrap_or_default();
        let synced = !continuous || status.continuous.as_ref().is_some_and(|c| c.state == "Watching" && c.pending == 0);
        if status.last_success_timestamp.is_some() && synced && copies.get_opt(schedule).await?.is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{schedule}: no successful migration and static copy within 10 minutes: {status:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Suspends (or resumes) a continuous schedule and, suspending, waits until its sync has ended, so that
/// a raw baseline's writes are neither copied nor corrected as drift. Nothing for an interval schedule.
async fn hold(cluster: &TestCluster, schedule: &str, continuous: bool, suspend: bool) -> anyhow::Result<()> {
    if !continuous {
        return Ok(());
    }
    let api: Api<MigrationSchedule> = Api::namespaced(cluster.client(), "kube-system");
    let patch = json!({"spec": {"suspend": suspend}});
    api.patch(schedule, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    if !suspend {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = api.get(schedule).await?.status.unwrap_or_default();
        if status.continuous.as_ref().is_some_and(|c| c.state == "Drained" || c.state == "Stopped") {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{schedule}: the sync did not end: {:?}", status.continuous);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Scales every workload on `down` to 0 (CronJobs suspended), then on `up` to its replicas, `WORKERS`
/// merge patches at a time: what a switch writes, without anything else.
async fn raw_switch(down: &TestCluster, up: &TestCluster, workloads: &[Workload]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for (cluster, running) in [(down, false), (up, true)] {
        let results: Vec<Result<DynamicObject, kube::Error>> = stream::iter(workloads)
            .map(|w| {
                let api = w.api(cluster);
                let patch = json!({"spec": w.spec(running)});
                async move { api.patch(&w.name, &PatchParams::default(), &Patch::Merge(&patch)).await }
            })
            .buffer_unordered(WORKERS)
            .collect()
            .await;
        for result in results {
            result.context("raw scale")?;
        }
    }
    Ok(started.elapsed())
}

/// Creates an Action on the destination and waits (watching) until it is Final.
async fn act(destination: &TestCluster, name: &str, kind: &str, schedule: &str) -> anyhow::Result<(Duration, Action)> {
    let key = if kind == "failover" { "failoverParameter" } else { "failbackParameter" };
    let action: Action = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "Action",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {"actionType": kind, "actionParameter": {key: {"migrationScheduleReference": schedule}}},
    }))?;
    let api: Api<Action> = Api::namespaced(destination.client(), "kube-system");
    let started = Instant::now();
    api.create(&PostParams::default(), &action).await?;
    // Polled, not watched: a long stage leaves a watch silent for longer than the client's read timeout.
    let deadline = started + Duration::from_secs(900);
    let (mut said, mut stage, mut said_at) = (String::new(), None, Instant::now());
    let action = loop {
        let action = api.get(name).await?;
        let status = action.status.clone().unwrap_or_default();
        if status.stage == ActionStage::Final {
            break action;
        }
        // Each stage as it starts, and what a long one waits for every 10 s.
        let now = format!("{}: {}", status.stage.as_str(), status.reason);
        if now != said && (stage != Some(status.stage) || said_at.elapsed() >= Duration::from_secs(10)) {
            println!("  [{:5.1} s] {now}", started.elapsed().as_secs_f64());
            (said, stage, said_at) = (now, Some(status.stage), Instant::now());
        }
        anyhow::ensure!(Instant::now() < deadline, "{kind} did not finish in 15 minutes: {said}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let took = started.elapsed();
    let status = action.status.clone().unwrap_or_default();
    if status.status != ActionStatusType::Successful {
        bail!("{kind} ended {}: {}", status.status.as_str(), status.reason);
    }
    Ok((took, action))
}

/// Fails unless every workload on `cluster` is up (at the source's replicas, CronJobs running) or idle.
async fn check_scaled(cluster: &TestCluster, workloads: &[Workload], up: bool) -> anyhow::Result<()> {
    let mut wrong = 0;
    for w in workloads {
        let object = w.api(cluster).get(&w.name).await?;
        let spec = &object.data["spec"];
        let right = match w.replicas {
            Some(n) => spec["replicas"].as_i64() == Some(if up { n } else { 0 }),
            None => spec["suspend"].as_bool().unwrap_or(false) != up,
        };
        wrong += usize::from(!right);
    }
    if wrong > 0 {
        bail!(
            "{wrong} of {} workloads on {} are not {}",
            workloads.len(),
            cluster.name(),
            if up { "up" } else { "idle" }
        );
    }
    Ok(())
}

fn print_stages(action: &Action) {
    for record in action.status.iter().flat_map(|s| &s.stages) {
        let stage = if record.stage == ActionStage::Initial { "Validations" } else { record.stage.as_str() };
        let took = match (&record.start_timestamp, &record.finish_timestamp) {
            (Some(start), Some(finish)) => {
                format!("{:.0} s", (finish.0 - start.0).total(jiff::Unit::Second).unwrap_or(0.0))
            }
            _ => "-".to_string(),
        };
        println!("  {stage} ({took}): {} — {}", record.status.as_str(), record.reason);
    }
}
