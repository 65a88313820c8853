//! The Helm chart (deploy/helm/stork-rs), with helm itself: it lints, renders a flag for every controller
//! option, carries the RBAC of deploy/, is accepted by a real API server (monitoring objects included),
//! and installed with `helm install` runs the controller — out-of-cluster, with the chart's own
//! service-account token and the Deployment's own arguments — through a pairing, a Migration and a
//! schedule, after which /metrics exports every metric the Grafana dashboard and the alert rules query.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clap::CommandFactory as _;
use common::*;
use serde_json::Value;
use testenv::TestCluster;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn chart() -> String {
    repo("deploy/helm/stork-rs").display().to_string()
}

/// Runs helm with its cache, config and data in `home`: (success, stdout + stderr).
fn helm(home: &Path, args: &[&str]) -> (bool, String) {
    let helm = testenv::tools::locate("helm").expect("helm");
    let out = Command::new(helm)
        .args(args)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG")
        .output()
        .expect("run helm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{}{stderr}", String::from_utf8_lossy(&out.stdout)))
}

/// The documents of a multi-document YAML stream (helm's output), empty ones dropped.
fn documents(yaml: &str) -> Vec<Value> {
    yaml.split("\n---")
        .filter_map(|doc| serde_saphyr::from_str::<Value>(doc).ok())
        .filter(|doc| doc.is_object())
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind).unwrap_or_else(|| panic!("no {kind} rendered"))
}

fn container_args(deployment: &Value) -> Vec<String> {
    deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_lints_renders_every_flag_and_a_real_api_server_accepts_it() {
    let cluster = TestCluster::start("helm-render").await.expect("cluster");
    let home = cluster.dir().join("helm");
    let (ok, out) = helm(&home, &["lint", "--strict", &chart()]);
    assert!(ok, "{out}");

    let all_on = [
        "--set=metrics.serviceMonitor.enabled=true",
        "--set=metrics.prometheusRule.enabled=true",
        "--set=controller.storageDriver=token",
        "--set=controller.scheduleTimeZone=Europe/Berlin",
    ];
    let mut args = vec!["template", "stork-rs", chart_ref(), "-n", "stork-system"];
    args.extend(all_on);
    let (ok, rendered) = helm(&home, &args);
    assert!(ok, "{rendered}");
    let docs = documents(&rendered);

    // Every flag of the controller is set by a value (but the kubeconfig ones, meaningless in a pod),
    // and the controller accepts what the chart renders.
    let rendered_args = container_args(find(&docs, "Deployment"));
    let mut parsed = vec!["stork".to_string()];
    parsed.extend(rendered_args.iter().cloned());
    let flags = <stork_controller::args::Args as clap::Parser>::try_parse_from(&parsed)
        .expect("the controller accepts the chart's args");
    assert_eq!(flags.storage_driver.as_deref(), Some("token"));
    assert_eq!(flags.leader_elect_namespace, "stork-system");
    let command = stork_controller::args::Args::command();
    let missing: Vec<String> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|long| !["kubeconfig", "context", "help", "version"].contains(long))
        .filter(|long| !rendered_args.iter().any(|arg| arg.starts_with(&format!("--{long}="))))
        .map(String::from)
        .collect();
    assert!(missing.is_empty(), "controller flags without a chart value: {missing:?}");

    // The chart's RBAC is deploy/rbac.yaml's.
    let shipped = documents(&std::fs::read_to_string(repo("deploy/rbac.yaml")).expect("rbac.yaml"));
    for kind in ["ClusterRole", "Role"] {
        let grants = |docs: &[Value]| -> Vec<(Value, Value)> {
            docs.iter()
                .filter(|d| d["kind"] == kind)
                .map(|d| (d["rules"].clone(), d["aggregationRule"].clone()))
                .collect()
        };
        assert_eq!(grants(&docs), grants(&shipped), "{kind}s differ from deploy/rbac.yaml");
    }
    // The PrometheusRule is the rules file.
    let rules: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(repo("deploy/prometheus/stork-rs-rules.yaml")).expect("rules"))
            .expect("rules YAML");
    assert_eq!(find(&docs, "PrometheusRule")["spec"]["groups"], rules["groups"]);

    // Two replicas without leader election would both write: refused at render time.
    let (ok, out) = helm(&home, &["template", "x", chart_ref(), "--set=controller.leaderElect=false"]);
    assert!(!ok && out.contains("replicaCount > 1 needs controller.leaderElect=true"), "{out}");

    // A real API server accepts it all (CRDs applied, the rest server-side dry run).
    let (ok, out) = kubectl(&cluster, &["create", "namespace", "stork-system"]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl(
        &cluster,
        &[
            "apply",
            "-f",
            &repo("deploy/helm/stork-rs/crds").display().to_string(),
            "-f",
            &fixture("monitoring-crds.yaml").display().to_string(),
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = kubectl(&cluster, &["wait", "--for=condition=Established", "--timeout=30s", "crd", "--all"]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl_stdin(&cluster, &["apply", "--dry-run=server", "-f", "-"], &rendered);
    assert!(ok, "{out}");
    for object in [
        "deployment.apps/stork-rs",
        "servicemonitor.monitoring.coreos.com/stork-rs",
        "prometheusrule.monitoring.coreos.com/stork-rs",
        "networkpolicy.networking.k8s.io/stork-rs-metrics",
        "service/stork-rs-metrics",
    ] {
        assert!(out.contains(&format!("{object} created (server dry run)")), "{object}:\n{out}");
    }
}

fn chart_ref() -> &'static str {
    static CHART: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CHART.get_or_init(chart)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_with_helm_it_migrates_and_exports_what_the_dashboard_and_alerts_query() {
    let (source, destination) = clusters_with_controller_managers().await;
    let home = source.dir().join("helm");
    let kubeconfig = source.kubeconfig_path().display().to_string();
    let (ok, out) = helm(
        &home,
        &["install", "stork-rs", chart_ref(), "-n", "stork-system", "--create-namespace", "--kubeconfig", &kubeconfig],
    );
    assert!(ok, "{out}");
    assert!(out.contains("Next, pair this cluster"), "NOTES.txt:\n{out}");
    let (ok, out) = kubectl(
        &source,
        &["wait", "--for=condition=Established", "--timeout=30s", "crd", "migrations.stork.libopenstorage.org"],
    );
    assert!(ok, "{out}");

    // The Deployment's own arguments, with an HTTP port of this test's instead of 9090.
    let deployment = kget(&source, Some("stork-system"), "deployment", "stork-rs").expect("the chart's Deployment");
    let args: Vec<String> =
        container_args(&deployment).into_iter().filter(|a| !a.starts_with("--http-address=")).collect();
    let service_account =
        deployment["spec"]["template"]["spec"]["serviceAccountName"].as_str().expect("sa").to_string();
    let subject = format!("system:serviceaccount:stork-system:{service_account}");
    wait_until_allowed(&source, &subject, "list", "namespaces").await;
    let stork = Stork::in_cluster(&source, "stork-system", &service_account, "stork-rs-0", &args);

    ready_pair(&source, &destination, "shop", &stork).await;
    let (ok, out) = kubectl(&source, &["create", "configmap", "settings", "-n", "shop", "--from-literal=colour=blue"]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl(&source, &["create", "deployment", "web", "-n", "shop", "--image=nginx", "--replicas=2"]);
    assert!(ok, "{out}");
    let status = migrate(&source, "shop", "first", "  clusterPair: remotecluster\n  namespaces: [shop]", &stork).await;
    assert_eq!(status.status, stork_api::MigrationStatusType::Successful, "{status:?}\n{}", stork.log());
    let copied = kget(&destination, Some("shop"), "configmap", "settings").expect("ConfigMap copied");
    assert_eq!(copied["data"]["colour"], "blue");
    let web = kget(&destination, Some("shop"), "deployment", "web").expect("Deployment copied");
    assert_eq!(web["spec"]["replicas"], 0, "idle on the destination");

    let schedule = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: SchedulePolicy\nmetadata: {name: every-15}\npolicy:\n  interval: {intervalMinutes: 15}\n  continuous: {}\n---\n\
        apiVersion: stork.libopenstorage.org/v1alpha1\nkind: MigrationSchedule\nmetadata: {name: shop-dr, namespace: shop}\n\
        spec:\n  schedulePolicyName: every-15\n  template:\n    spec: {clusterPair: remotecluster, namespaces: [shop]}\n";
    let (ok, out) = kubectl_create(&source, schedule);
    assert!(ok, "{out}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while kget(&source, Some("shop"), "migrationschedule", "shop-dr")
        .and_then(|s| s["status"]["lastSuccessTimestamp"].as_str().map(String::from))
        .is_none()
    {
        assert!(Instant::now() < deadline, "the schedule's first Migration did not succeed\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Its continuous sync watches with the chart's RBAC.
    while kget(&source, Some("shop"), "migrationschedule", "shop-dr")
        .is_none_or(|s| s["status"]["continuous"]["state"] != "Watching")
    {
        assert!(Instant::now() < deadline, "the schedule's continuous sync is not watching\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // The leader published its version on its Lease (what `storkctl version` reads).
    let lease = kget(&source, Some("stork-system"), "lease", "stork-rs-controller").expect("leader Lease");
    assert_eq!(
        lease["metadata"]["annotations"][stork_kube::version::LEASE_VERSION_ANNOTATION],
        stork_kube::version::VERSION
    );
    assert_eq!(lease["metadata"]["labels"]["app.kubernetes.io/name"], "stork-rs");

    // Every metric the dashboard and the alert rules query has samples after this run.
    let (code, body) = stork.get("/metrics").expect("metrics");
    assert_eq!(code, 200);
    let exported = promql::exported(&body);
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("deploy/grafana/stork-rs.json")).expect("dashboard"))
            .expect("json");
    let rules: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(repo("deploy/prometheus/stork-rs-rules.yaml")).expect("rules"))
            .expect("rules YAML");
    let rule_exprs =
        promql::rules(&rules).iter().filter_map(|r| r["expr"].as_str().map(String::from)).collect::<Vec<_>>();
    let queried: BTreeSet<String> =
        promql::dashboard_exprs(&dashboard).iter().chain(&rule_exprs).flat_map(|e| promql::metric_names(e)).collect();
    let missing: Vec<_> = queried.difference(&exported).collect();
    assert!(missing.is_empty(), "queried but not exported: {missing:?}\n{body}");
    assert!(queried.len() >= 12, "{queried:?}");
    assert!(body.contains("stork_reconcile_duration_seconds_count{controller=\"migration\"}"), "{body}");

    let log = stork.log();
    assert!(!log.contains("forbidden"), "RBAC gap:\n{log}");
}
