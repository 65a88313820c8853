//! `bench-migration`: on fresh local clusters (etcd syncing to disk, as in production), creates 2,000
//! objects (20 namespaces × 50 ConfigMaps, 20 Secrets, 10 Deployments, 10 Services, 5 StatefulSets,
//! 5 CronJobs) and prints, measured in the same run: a tight parallel create of the migration's end
//! state (workloads idle, CronJobs suspended, prepared by the engine library itself) on a cluster set up
//! like the destination (the API server's own limit), our full migration, no-change re-migrations with
//! the destination's write requests, and the controller's peak memory.
//!
//! Usage: bench-migration <path to the stork binary> [--namespaces 20] [--repeat 5]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, stream};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};
use testenv::process::{Lifetime, Proc};
use testenv::{ClusterOptions, TestCluster};

const WORKERS: usize = 32;

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
    let objects = Arc::new(application(namespaces));
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

/// The number after `flag`, or `default` without the flag.
fn number_flag(args: &[String], flag: &str, default: usize) -> anyhow::Result<usize> {
    match args.iter().position(|a| a == flag).map(|i| args.get(i + 1)) {
        None => Ok(default),
        Some(value) => value.and_then(|v| v.parse().ok()).with_context(|| format!("{flag} needs a whole number")),
    }
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

/// The benchmark's application, namespaces first.
fn application(namespaces: usize) -> Vec<(ApiResource, Value)> {
    let ar = |group: &str, version: &str, kind: &str, plural: &str| ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: if group.is_empty() { version.into() } else { format!("{group}/{version}") },
        kind: kind.into(),
        plural: plural.into(),
    };
    let mut out = Vec::new();
    for n in 0..namespaces {
        out.push((ar("", "v1", "Namespace", "namespaces"), json!({"metadata": {"name": namespace_name(n)}})));
    }
    for n in 0..namespaces {
        let ns = namespace_name(n);
        let meta = |name: String| json!({"name": name, "namespace": ns, "labels": {"app": "bench"}});
        for i in 0..50 {
            out.push((ar("", "v1", "ConfigMap", "configmaps"), json!({"metadata": meta(format!("config-{i}")), "data": {"key": format!("value-{i}"), "other": "x".repeat(200)}})));
        }
        for i in 0..20 {
            out.push((ar("", "v1", "Secret", "secrets"), json!({"metadata": meta(format!("secret-{i}")), "type": "Opaque", "stringData": {"password": format!("pw-{i}")}})));
        }
        let pod = |app: String| json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}});
        for i in 0..10 {
            let app = format!("web-{i}");
            out.push((ar("apps", "v1", "Deployment", "deployments"), json!({"metadata": meta(app.clone()), "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}}, "template": pod(app.clone())}})));
            out.push((
                ar("", "v1", "Service", "services"),
                json!({"metadata": meta(app.clone()), "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}}),
            ));
        }
        for i in 0..5 {
            let app = format!("db-{i}");
            out.push((ar("apps", "v1", "StatefulSet", "statefulsets"), json!({"metadata": meta(app.clone()), "spec": {"replicas": 1, "serviceName": app, "selector": {"matchLabels": {"app": app}}, "template": pod(app.clone())}})));
            out.push((ar("batch", "v1", "CronJob", "cronjobs"), json!({"metadata": meta(format!("job-{i}")), "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "j", "image": "busybox"}]}}}}}})));
        }
    }
    out
}

fn namespace_name(n: usize) -> String {
    format!("bench-{n:03}")
}

/// The objects as a migration leaves them on the destination: prepared by the engine (workloads at 0
/// replicas, CronJobs suspended, bookkeeping annotations), so the baseline writes what the migration
/// writes.
fn end_state(objects: &[(ApiResource, Value)]) -> Vec<(ApiResource, Value)> {
    use stork_migrate::TypeKey;
    use stork_migrate::core::hash::content_hash;
    use stork_migrate::core::prepare::{PrepareOptions, annotate, prepare};
    objects
        .iter()
        .map(|(ar, body)| {
            if ar.kind == "Namespace" {
                return (ar.clone(), body.clone());
            }
            let key = TypeKey::of(ar, true);
            let mut copy = prepare(&key, body, &PrepareOptions::default());
            let hash = content_hash(&copy).to_hex();
            annotate(&mut copy, "baseline", "kube-system", &hash, "2026-01-01-000000");
            (ar.clone(), copy)
        })
        .collect()
}

/// Namespaces, then everything else with `WORKERS` creates in flight.
async fn create_all(client: &kube::Client, objects: &[(ApiResource, Value)]) -> anyhow::Result<()> {
    let create = |ar: ApiResource, body: Value| {
        let client = client.clone();
        async move {
            let ns = body["metadata"]["namespace"].as_str().map(str::to_string);
            let api: Api<DynamicObject> = match &ns {
                Some(ns) => Api::namespaced_with(client, ns, &ar),
                None => Api::all_with(client, &ar),
            };
            let mut obj: DynamicObject = serde_json::from_value(body)?;
            obj.types = Some(kube::api::TypeMeta { api_version: ar.api_version.clone(), kind: ar.kind.clone() });
            api.create(&PostParams::default(), &obj).await.with_context(|| format!("create {}", ar.kind))?;
            Ok::<_, anyhow::Error>(())
        }
    };
    let (namespaces, rest): (Vec<_>, Vec<_>) = objects.iter().cloned().partition(|(ar, _)| ar.kind == "Namespace");
    for batch in [namespaces, rest] {
        let results: Vec<anyhow::Result<()>> =
            stream::iter(batch).map(|(ar, body)| create(ar, body)).buffer_unordered(WORKERS).collect().await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    }
    Ok(())
}

/// The same objects in namespaces `bench-<tag>-NN`.
fn renamespace(objects: &[(ApiResource, Value)], tag: &str) -> Vec<(ApiResource, Value)> {
    objects
        .iter()
        .map(|(ar, body)| {
            let mut body = body.clone();
            let rename = |v: &Value| json!(v.as_str().unwrap_or_default().replace("bench-", &format!("{tag}-")));
            if ar.kind == "Namespace" {
                body["metadata"]["name"] = rename(&body["metadata"]["name"]);
            } else {
                body["metadata"]["namespace"] = rename(&body["metadata"]["namespace"]);
            }
            (ar.clone(), body)
        })
        .collect()
}

/// Namespaces, then everything else as server-side applies with `WORKERS` in flight.
async fn apply_all(client: &kube::Client, objects: &[(ApiResource, Value)]) -> anyhow::Result<()> {
    use kube::api::{Patch, PatchParams};
    let apply = |ar: ApiResource, mut body: Value| {
        let client = client.clone();
        async move {
            body["apiVersion"] = json!(ar.api_version);
            body["kind"] = json!(ar.kind);
            let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let api: Api<DynamicObject> = match body["metadata"]["namespace"].as_str() {
                Some(ns) => Api::namespaced_with(client, ns, &ar),
                None => Api::all_with(client, &ar),
            };
            api.patch(&name, &PatchParams::apply("bench").force(), &Patch::Apply(&body)).await?;
            Ok::<_, anyhow::Error>(())
        }
    };
    let (namespaces, rest): (Vec<_>, Vec<_>) = objects.iter().cloned().partition(|(ar, _)| ar.kind == "Namespace");
    for batch in [namespaces, rest] {
        let results: Vec<anyhow::Result<()>> =
            stream::iter(batch).map(|(ar, body)| apply(ar, body)).buffer_unordered(WORKERS).collect().await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    }
    Ok(())
}

async fn pair(source: &TestCluster, destination: &TestCluster) -> anyhow::Result<()> {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let pki = destination.pki();
    let pair: stork_api::ClusterPair = serde_json::from_value(json!({
        "apiVersion": stork_api::API_VERSION, "kind": "ClusterPair",
        "metadata": {"name": "remotecluster", "namespace": "kube-system"},
        "spec": {"config": {
            "clusters": {"d": {"server": destination.server_url(), "certificate-authority-data": b64(&pki.serving_ca_pem)}},
            "users": {"admin": {"client-certificate-data": b64(&pki.admin_cert_pem), "client-key-data": b64(&pki.admin_key_pem)}},
            "contexts": {"c": {"cluster": "d", "user": "admin"}},
            "current-context": "c"}}
    }))?;
    let api: Api<stork_api::ClusterPair> = Api::namespaced(source.client(), "kube-system");
    api.create(&PostParams::default(), &pair).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = api.get("remotecluster").await?.status.unwrap_or_default();
        if status.scheduler_status == stork_api::ClusterPairStatusType::Ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("pair not Ready: {status:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// Mutating requests the destination's API server has served so far (all clients).
async fn destination_writes(destination: &TestCluster) -> anyhow::Result<u64> {
    Ok(destination_writes_by_request(destination).await?.values().sum())
}

/// Mutating requests served so far, by "VERB resource[/subresource]" (all clients).
async fn destination_writes_by_request(destination: &TestCluster) -> anyhow::Result<BTreeMap<String, u64>> {
    let text = destination.client().request_text(http::Request::get("/metrics").body(Vec::new())?).await?;
    let label = |line: &str, name: &str| {
        line.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string()
    };
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("apiserver_request_total{")) {
        let verb = label(line, "verb");
        if matches!(verb.as_str(), "POST" | "PUT" | "PATCH" | "DELETE" | "APPLY") {
            let count = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) as u64;
            let subresource = label(line, "subresource");
            let resource = label(line, "resource");
            let target = if subresource.is_empty() { resource } else { format!("{resource}/{subresource}") };
            *out.entry(format!("{verb} {target}")).or_default() += count;
        }
    }
    Ok(out)
}

/// `after - before`, requests whose count moved only.
fn moved(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> String {
    let moved: Vec<String> = after
        .iter()
        .filter_map(|(k, v)| {
            let d = v.saturating_sub(before.get(k).copied().unwrap_or(0));
            (d > 0).then(|| format!("{k} {d}"))
        })
        .collect();
    if moved.is_empty() { "none".to_string() } else { moved.join(", ") }
}

/// Lets the destination's controllers finish reacting to the first migration.
async fn settle(destination: &TestCluster) {
    let mut last = destination_writes(destination).await.unwrap_or(0);
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = destination_writes(destination).await.unwrap_or(0);
        if now == last {
            return;
        }
        last = now;
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}
