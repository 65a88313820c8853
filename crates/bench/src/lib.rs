//! What the benchmarks share: the application they migrate and fail over, tight parallel baselines of
//! the API server's own limit, pairing, and reading a cluster's request counters.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{StreamExt, stream};
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use serde_json::{Value, json};
use testenv::TestCluster;

/// Requests in flight at once in the baselines.
pub const WORKERS: usize = 32;

/// The number after `flag`, or `default` without the flag.
pub fn number_flag(args: &[String], flag: &str, default: usize) -> anyhow::Result<usize> {
    match args.iter().position(|a| a == flag).map(|i| args.get(i + 1)) {
        None => Ok(default),
        Some(value) => value.and_then(|v| v.parse().ok()).with_context(|| format!("{flag} needs a whole number")),
    }
}

/// How many objects of each kind one namespace of the application has (100 in all).
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub configmaps: usize,
    pub secrets: usize,
    /// Each with a Service.
    pub deployments: usize,
    /// Each with a CronJob.
    pub statefulsets: usize,
}

/// The migration benchmark's: many small objects, 15 workloads per namespace.
pub const MIGRATION_MIX: Mix = Mix { configmaps: 50, secrets: 20, deployments: 10, statefulsets: 5 };
/// The failover benchmark's: 10 workloads per namespace (200 in 2,000 objects).
pub const FAILOVER_MIX: Mix = Mix { configmaps: 60, secrets: 20, deployments: 7, statefulsets: 3 };

/// The benchmark's application, namespaces first.
pub fn application(namespaces: usize, mix: Mix) -> Vec<(ApiResource, Value)> {
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
        for i in 0..mix.configmaps {
            out.push((ar("", "v1", "ConfigMap", "configmaps"), json!({"metadata": meta(format!("config-{i}")), "data": {"key": format!("value-{i}"), "other": "x".repeat(200)}})));
        }
        for i in 0..mix.secrets {
            out.push((ar("", "v1", "Secret", "secrets"), json!({"metadata": meta(format!("secret-{i}")), "type": "Opaque", "stringData": {"password": format!("pw-{i}")}})));
        }
        let pod = |app: String| json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}});
        for i in 0..mix.deployments {
            let app = format!("web-{i}");
            out.push((ar("apps", "v1", "Deployment", "deployments"), json!({"metadata": meta(app.clone()), "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}}, "template": pod(app.clone())}})));
            out.push((
                ar("", "v1", "Service", "services"),
                json!({"metadata": meta(app.clone()), "spec": {"selector": {"app": app}, "ports": [{"port": 80}]}}),
            ));
        }
        for i in 0..mix.statefulsets {
            let app = format!("db-{i}");
            out.push((ar("apps", "v1", "StatefulSet", "statefulsets"), json!({"metadata": meta(app.clone()), "spec": {"replicas": 1, "serviceName": app, "selector": {"matchLabels": {"app": app}}, "template": pod(app.clone())}})));
            out.push((ar("batch", "v1", "CronJob", "cronjobs"), json!({"metadata": meta(format!("job-{i}")), "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "j", "image": "busybox"}]}}}}}})));
        }
    }
    out
}

pub fn namespace_name(n: usize) -> String {
    format!("bench-{n:03}")
}

/// The objects as a migration leaves them on the destination: prepared by the engine (workloads at 0
/// replicas, CronJobs suspended, bookkeeping annotations), so the baseline writes what the migration
/// writes.
pub fn end_state(objects: &[(ApiResource, Value)]) -> Vec<(ApiResource, Value)> {
    use stork_migrate::TypeKey;
    use stork_migrate::core::hash::content_hash;
    use stork_migrate::core::prepare::{PrepareOptions, Stamps, annotate, prepare};
    objects
        .iter()
        .map(|(ar, body)| {
            if ar.kind == "Namespace" {
                return (ar.clone(), body.clone());
            }
            let key = TypeKey::of(ar, true);
            let mut copy = prepare(&key, body, &PrepareOptions::default());
            let hash = content_hash(&copy).to_hex();
            let stamps = Stamps {
                migration_name: "baseline",
                migration_namespace: "kube-system",
                hash: &hash,
                time: "2026-01-01-000000",
                writer: "00000000-0000-0000-0000-000000000000/kube-system/remotecluster",
                adopted: false,
            };
            annotate(&mut copy, &stamps);
            (ar.clone(), copy)
        })
        .collect()
}

/// Namespaces, then everything else with `WORKERS` creates in flight.
pub async fn create_all(client: &kube::Client, objects: &[(ApiResource, Value)]) -> anyhow::Result<()> {
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
pub fn renamespace(objects: &[(ApiResource, Value)], tag: &str) -> Vec<(ApiResource, Value)> {
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
pub async fn apply_all(client: &kube::Client, objects: &[(ApiResource, Value)]) -> anyhow::Result<()> {
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

pub async fn pair(source: &TestCluster, destination: &TestCluster) -> anyhow::Result<()> {
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

/// Mutating requests the destination's API server has served so far (all clients).
pub async fn destination_writes(destination: &TestCluster) -> anyhow::Result<u64> {
    Ok(destination_writes_by_request(destination).await?.values().sum())
}

/// Mutating requests served so far, by "VERB resource[/subresource]" (all clients).
pub async fn destination_writes_by_request(destination: &TestCluster) -> anyhow::Result<BTreeMap<String, u64>> {
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
pub fn moved(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> String {
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
pub async fn settle(destination: &TestCluster) {
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

pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}
