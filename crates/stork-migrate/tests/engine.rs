//! The engine as a library, on real control planes: a run asked only to plan writes nothing and lists
//! what the real run then does; an unchanged source costs no write, one changed object exactly one (as
//! the destination's audit log counts them), a drifted copy is listed and corrected, a purge deletes
//! only what is gone on the source.

use std::collections::BTreeSet;
use std::time::Duration;

use stork_api::MigrationSpec;
use stork_kube::Cluster;
use stork_migrate::{Clusters, EntryResult, Job, Memory, Mode, Outcome, Progress};
use testenv::{ClusterOptions, TestCluster};

fn job(namespaces: &[&str], mode: Mode, purge: bool) -> Job {
    Job {
        name: "library".into(),
        namespace: "kube-system".into(),
        spec: MigrationSpec {
            cluster_pair: "remote".into(),
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
            purge_deleted_resources: Some(purge),
            ..Default::default()
        },
        namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        cluster_namespaces: 10,
        full: false,
        time: "2026-12-01-000000".into(),
        concurrency: 8,
        transforms: Default::default(),
        transform_name: String::new(),
        mode,
        admin: true,
        writer: stork_migrate::job::writer("source-uid", "kube-system", "remote"),
    }
}

async fn run(clusters: &Clusters, job: &Job, memory: &Memory) -> Outcome {
    memory.begin_run();
    let outcome = stork_migrate::run(clusters, job, memory, &Progress::default()).await.expect("run");
    memory.end_run();
    outcome
}

/// (kind/namespace/name, result) of every entry, sorted.
fn listing(outcome: &Outcome) -> Vec<(String, EntryResult)> {
    let mut out: Vec<(String, EntryResult)> =
        outcome.entries.iter().map(|e| (e.id.to_string(), e.result.clone())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn changed(outcome: &Outcome) -> Vec<(String, EntryResult)> {
    listing(outcome).into_iter().filter(|(_, r)| *r != EntryResult::Unchanged).collect()
}

/// Writes on the destination by anyone but the test's own kubectl and the API server itself (its
/// leases, its bootstrap objects).
fn engine_writes(destination: &TestCluster) -> Vec<String> {
    destination
        .audit_writes()
        .expect("audit log")
        .into_iter()
        .filter(|w| !w.user_agent.starts_with("kubectl") && w.user != "system:apiserver")
        .map(|w| format!("{} {}/{} {}", w.verb, w.resource, w.namespace, w.name))
        .collect()
}

fn kubectl(cluster: &TestCluster, args: &[&str]) {
    let out = cluster.kubectl().args(args).output().expect("kubectl");
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn apply(cluster: &TestCluster, yaml: &str) {
    let out = cluster.kubectl_with_stdin(&["apply", "-f", "-"], yaml).expect("kubectl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: big, namespace: shop}
spec: {size: 10}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data: {THREADS: "4", MODE: fast}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config, namespace: shop}
data: {feature: "on"}
---
apiVersion: v1
kind: Secret
metadata: {name: db-password, namespace: shop}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Secret
metadata: {name: old-token, namespace: shop, annotations: {kubernetes.io/service-account.name: default}}
type: kubernetes.io/service-account-token
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: j, image: busybox}]}}}}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_only_writes_nothing_and_lists_what_the_run_then_does() {
    let (source, destination) = tokio::join!(
        TestCluster::start("source"),
        TestCluster::start_with(ClusterOptions::new("destination").with_audit())
    );
    let (source, destination) = (source.expect("source"), destination.expect("destination"));
    apply(&source, CRD);
    kubectl(&source, &["wait", "--for=condition=Established", "crd/widgets.example.com"]);
    // Discovery lags a moment behind Established.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !source.kubectl_with_stdin(&["apply", "-f", "-"], APP).expect("kubectl").status.success() {
        assert!(std::time::Instant::now() < deadline, "the Widget kind is not served");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let timeout = Duration::from_secs(20);
    let clusters = Clusters {
        source: Cluster::new(source.client(), "source", timeout),
        destination: Cluster::new(destination.client(), "destination", timeout),
        cluster_destination: Cluster::new(destination.client(), "destination", timeout),
        destination_id: 1,
        fence: Default::default(),
    };
    let memory = Memory::default();
    let before = engine_writes(&destination);

    let planned = run(&clusters, &job(&["shop"], Mode::PlanOnly, false), &memory).await;
    assert!(planned.planned_only);
    assert_eq!(engine_writes(&destination), before, "planning wrote on the destination");
    assert_eq!(planned.namespaces_created, vec!["shop".to_string()]);
    let names: BTreeSet<String> = planned.entries.iter().map(|e| e.id.to_string()).collect();
    for expected in
        ["ConfigMap shop/web-config", "Secret shop/db-password", "Deployment shop/web", "CronJob shop/nightly"]
    {
        assert!(names.contains(expected), "{expected} missing from {names:?}");
    }
    assert!(!names.contains("Secret shop/old-token"), "token Secrets are left out, also when planning");

    let applied = run(&clusters, &job(&["shop"], Mode::Apply, false), &memory).await;
    assert!(!applied.planned_only);
    assert_eq!(listing(&applied), listing(&planned), "the run did what the plan said");
    assert!(applied.entries.iter().all(|e| !matches!(e.result, EntryResult::Failed(_))), "{:?}", listing(&applied));
    assert_eq!(applied.namespaces_created, planned.namespaces_created);
    let writes = engine_writes(&destination);
    assert_eq!(
        writes.len() - before.len(),
        applied.entries.len() + 1,
        "one write per object and the namespace: {writes:#?}"
    );

    // Nothing changed: nothing to write, and nothing written.
    let quiet = engine_writes(&destination).len();
    let again = run(&clusters, &job(&["shop"], Mode::Apply, false), &memory).await;
    assert!(changed(&again).is_empty(), "{:?}", changed(&again));
    assert_eq!(engine_writes(&destination).len(), quiet, "an unchanged source costs no write");

    // One object changed on the source: planned as one update, written as exactly one request.
    kubectl(
        &source,
        &["patch", "configmap", "web-config", "-n", "shop", "-p", r#"{"data":{"THREADS":"16","MODE":null}}"#],
    );
    let planned = run(&clusters, &job(&["shop"], Mode::PlanOnly, false), &memory).await;
    assert_eq!(changed(&planned), vec![("ConfigMap shop/web-config".to_string(), EntryResult::Updated)]);
    let before = engine_writes(&destination);
    let applied = run(&clusters, &job(&["shop"], Mode::Apply, false), &memory).await;
    assert_eq!(changed(&applied), changed(&planned));
    let writes = engine_writes(&destination);
    assert_eq!(&writes[before.len()..], ["patch configmaps/shop web-config"], "exactly one write");
    let copy = destination.client();
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(copy, "shop");
    let web_config = cms.get("web-config").await.expect("copy");
    assert_eq!(web_config.data, Some([("THREADS".to_string(), "16".to_string())].into()), "MODE removed too");

    // A copy edited on the destination is listed as drifted and corrected.
    kubectl(&destination, &["patch", "configmap", "api-config", "-n", "shop", "-p", r#"{"data":{"feature":"off"}}"#]);
    let planned = run(&clusters, &job(&["shop"], Mode::PlanOnly, false), &memory).await;
    assert_eq!(changed(&planned), vec![("ConfigMap shop/api-config".to_string(), EntryResult::Updated)]);
    let applied = run(&clusters, &job(&["shop"], Mode::Apply, false), &memory).await;
    assert_eq!(changed(&applied), changed(&planned));
    let api_config = cms.get("api-config").await.expect("copy");
    assert_eq!(api_config.data.and_then(|d| d.get("feature").cloned()).as_deref(), Some("on"));

    // Deleted on the source, with purge: planned and done; the destination's own objects stay.
    kubectl(&source, &["delete", "configmap", "api-config", "-n", "shop"]);
    kubectl(&destination, &["create", "configmap", "local-only", "-n", "shop", "--from-literal=k=v"]);
    let planned = run(&clusters, &job(&["shop"], Mode::PlanOnly, true), &memory).await;
    assert_eq!(changed(&planned), vec![("ConfigMap shop/api-config".to_string(), EntryResult::Purged)]);
    assert!(cms.get_opt("api-config").await.expect("read").is_some(), "planning deleted nothing");
    let applied = run(&clusters, &job(&["shop"], Mode::Apply, true), &memory).await;
    assert_eq!(changed(&applied), changed(&planned));
    assert!(cms.get_opt("api-config").await.expect("read").is_none());
    assert!(cms.get_opt("local-only").await.expect("read").is_some());

    // A restarted engine (nothing remembered) reads everything once, and still writes nothing.
    let fresh = Memory::default();
    let before = engine_writes(&destination);
    let cold = run(&clusters, &job(&["shop"], Mode::Apply, false), &fresh).await;
    assert!(changed(&cold).is_empty(), "{:?}", changed(&cold));
    assert_eq!(engine_writes(&destination), before);
}
