//! `bench-migration`: on fresh local clusters (etcd syncing to disk, as in production), creates 2,000
//! objects (20 namespaces × 50 ConfigMaps, 20 Secrets, 10 Deployments, 10 Services, 5 StatefulSets,
//! 5 CronJobs) and prints, measured in the same run: a tight parallel create of the migration's end
//! state (workloads idle, CronJobs suspended, prepared by the engine library itself) on a cluster set up
//! like the destination (the API server's own limit), our full migration, no-change re-migrations with
//! the destination's write requests, and the controller's peak memory.
//!
//! Usage: bench-migration <path to the stork binary> [--namespaces 20] [--repeat 5]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::*;
use kube::api::{Api, PostParams};
use serde_json::json;
use testenv::process::{Lifetime, Proc};
use testenv::{ClusterOptions, TestCluster};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let stork =
        args.get(1).context("usage: bench-migration <path to the stork binary> [--namespaces N] [--repeat N]")?.clone();
    let namespaces = number_flag(&args, "--namespaces", 20)?;
    let repeats = number_flag(&args, "--repeat", 5)?.max(1);
    testenv::install_crypto_provider();

    println!(
        "starting three clusters, etcd with fsync (source; baseline and destination with kube-controller-manager)..."
    );
    let (source, baseline, destination) = tokio::join!(
        TestCluster::start_with(ClusterOptions::new("source").with_fsync()),
        TestCluster::start_with(ClusterOptions::new("baseline").with_controller_manager().with_fsync()),
        TestCluster::start_with(ClusterOptions::new("destination").with_controller_manager().with_fsync()),
    );
    let (source, baseline, destination) = (source?, baseline?, destination?);
    let objects = Arc::new(application(namespaces, MIGRATION_MIX));
    let object_count = objects.iter().filter(|(ar, _)| ar.kind != "Namespace").count();
    println!("{object_count} objects in {namespaces} namespaces");

    create_all(&source.client(), &objects).await?;
    let end_state = Arc::new(end_state(&objects));
    let started = Instant::now();
    create_all(&baseline.client(), &end_state).await?;
    let raw = started.elapsed();
    println!(
        "raw parallel create of the migration's end state ({WORKERS} workers, no client rate limit): {:.2} s",
        raw.as_secs_f64()
    );
    let renamed = Arc::new(renamespace(&end_state, "apply"));
    let started = Instant::now();
    apply_all(&baseline.client(), &renamed).await?;
    let raw_apply = started.elapsed();
    println!(
        "raw parallel server-side apply of the same objects (same cluster, new namespaces): {:.2} s",
        raw_apply.as_secs_f64()
    );

    // Paused while the migrations are measured (its controllers would steal CPU from them), and measured
    // again afterwards: disk and CPU vary over minutes on a shared machine, so the baseline is the mean
    // of a measurement before and one after.
    baseline.pause_apiserver();

    let log = source.dir().join("logs/stork-bench.log");
    let mut cmd = Command::new(&stork);
    cmd.arg(format!("--kubeconfig={}", source.kubeconfig_path().display()))
        .args(["--http-address=127.0.0.1:0", "--leader-elect=false"])
        .args(std::env::var("STORK_BENCH_ARGS").unwrap_or_default().split_whitespace())
        .env("RUST_LOG", "warn,stork_controller::migration=info");
    let controller = Proc::spawn("stork", cmd, &log, Lifetime::WithParent)?;
    pair(&source, &destination).await?;

    let writes_before = destination_writes(&destination).await?;
    let migrated: Vec<String> = (0..namespaces).map(namespace_name).collect();
    let (full, status) = migrate(&source, "bench-full", &migrated, false).await?;
    let writes_full = destination_writes(&destination).await? - writes_before;
    report("full migration (empty destination)", full, &status);

    settle(&destination).await;
    // Short runs vary with whatever else the two cores are doing: the median of several is reported.
    let writes_before = destination_writes(&destination).await?;
    let requests_before = destination_writes_by_request(&destination).await?;
    let mut runs = Vec::new();
    for run in 0..repeats {
        let (took, status) = migrate(&source, &format!("bench-again-{run}"), &migrated, false).await?;
        report(&format!("no-change re-migration #{}", run + 1), took, &status);
        runs.push(took);
    }
    let writes_again = destination_writes(&destination).await? - writes_before;
    let requests_again = moved(&requests_before, &destination_writes_by_request(&destination).await?);
    runs.sort();
    let again = runs[runs.len() / 2];
    println!("no-change re-migration, median of {repeats}: {:.3} s", again.as_secs_f64());

    let (forced, status) = migrate(&source, "bench-forced-full", &migrated, true).await?;
    report("forced full re-migration (every object re-applied)", forced, &status);
    let peak = peak_rss_kib(controller.pid()).unwrap_or(0);
    drop(controller);
    baseline.resume_apiserver();
    let second = Arc::new(renamespace(&end_state, "raw2"));
    let started = Instant::now();
    create_all(&baseline.client(), &second).await?;
    let raw_after = started.elapsed();
    println!("raw parallel create of the end state again, after the migrations: {:.2} s", raw_after.as_secs_f64());
    let raw = (raw + raw_after) / 2;

    println!();
    println!(
        "full migration / raw create      = {:.2}   (target <= 1.25; raw create = mean of before and after, {:.2} s)",
        full.as_secs_f64() / raw.as_secs_f64(),
        raw.as_secs_f64()
    );
    println!("full migration / raw apply       = {:.2}", full.as_secs_f64() / raw_apply.as_secs_f64());
    println!(
        "no-change / full migration       = {:.3}  (target <= 0.05, with 0 writes)",
        again.as_secs_f64() / full.as_secs_f64()
    );
    println!(
        "destination write requests: full migration {writes_full}, {repeats} no-change re-migrations {writes_again} (all clients)"
    );
    println!("  during the no-change re-migrations, by request: {requests_again}");
    let rss_target = if object_count > 5_000 { 200 } else { 100 };
    println!("controller peak RSS              = {} MiB  (target <= {rss_target} MiB)", peak / 1024);
    println!("\nphases reported by the controller:");
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines().filter(|l| l.contains("phases=")) {
        let migration = line.split("migration=").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("?");
        let phases = line.split("phases=").nth(1).and_then(|r| r.split(" migration=").next()).unwrap_or("?");
        println!("  {migration}: {}", phases.trim_matches('"'));
    }
    Ok(())
}

fn report(what: &str, elapsed: Duration, status: &stork_api::MigrationStatus) {
    let c = status.resource_counts.clone().unwrap_or_default();
    println!(
        "{what}: {:.2} s, {} {} (created {}, updated {}, unchanged {}, failed {})",
        elapsed.as_secs_f64(),
        status.migration_type,
        status.status.as_str(),
        c.created,
        c.updated,
        c.unchanged,
        c.failed
    );
}

/// Creates a Migration of every bench namespace and times it until Final.
async fn migrate(
    source: &TestCluster,
    name: &str,
    namespaces: &[String],
    full: bool,
) -> anyhow::Result<(Duration, stork_api::MigrationStatus)> {
    let api: Api<stork_api::Migration> = Api::namespaced(source.client(), "kube-system");
    let mut annotations = serde_json::Map::new();
    if full {
        annotations.insert("stork.libopenstorage.org/migration-type".into(), json!("full"));
    }
    let migration: stork_api::Migration = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "Migration",
        "metadata": {"name": name, "namespace": "kube-system", "annotations": annotations},
        "spec": {"clusterPair": "remotecluster", "namespaces": namespaces},
    }))?;
    let started = Instant::now();
    api.create(&PostParams::default(), &migration).await?;
    // A watch, not polling: GETs of a Migration with a large status would load the source API server
    // during the very run being measured.
    let finished = |m: Option<&stork_api::Migration>| {
        m.and_then(|m| m.status.as_ref()).is_some_and(|s| s.stage == stork_api::MigrationStage::Final)
    };
    let done = tokio::time::timeout(
        Duration::from_secs(1800),
        kube::runtime::wait::await_condition(api.clone(), name, finished),
    )
    .await
    .with_context(|| format!("migration {name} did not finish in 30 minutes"))??;
    let elapsed = started.elapsed();
    let status = done.and_then(|m| m.status).context("migration without status")?;
    Ok((elapsed, status))
}
