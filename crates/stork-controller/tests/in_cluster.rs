//! The controller in-cluster: a service-account token mounted where Kubernetes mounts it, the
//! `KUBERNETES_SERVICE_*` environment, and only the RBAC of `deploy/`. Proves both the in-cluster
//! configuration path and that the shipped RBAC is sufficient for pairing and migrating.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use stork_api::{ClusterPair, ClusterPairStatusType as S};

fn deploy(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(file).display().to_string()
}

const WIDGET_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n\
    spec:\n  group: example.com\n  scope: Namespaced\n  names: {plural: widgets, singular: widget, kind: Widget}\n  versions:\n\
    \x20 - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_in_cluster_with_the_shipped_rbac() {
    // The source runs kube-controller-manager too: it fills the aggregated ClusterRole the controller
    // reads through, as on any real cluster.
    let (source, destination) = clusters_with_controller_managers().await;
    let (ok, out) = kubectl(
        &source,
        &["apply", "-f", &deploy("crds"), "-f", &deploy("namespace.yaml"), "-f", &deploy("rbac.yaml")],
    );
    assert!(ok, "{out}");
    wait_until_allowed(&source, "system:serviceaccount:stork-system:stork", "list", "namespaces").await;
    // The Deployment manifest is valid for a real API server.
    let (ok, out) = kubectl(&source, &["apply", "--dry-run=server", "-f", &deploy("deployment.yaml")]);
    assert!(ok, "{out}");
    let test_intervals =
        ["--pair-revalidate-interval=2s", "--pair-retry-interval=1s", "--leader-elect-lease-seconds=3"];
    let args: Vec<String> = test_intervals.iter().map(|a| a.to_string()).collect();
    let stork = Stork::in_cluster(&source, "stork-system", "stork", "stork-in-cluster", &args);

    assert!(kubectl(&source, &["create", "namespace", "migrationnamespace"]).0);
    assert!(kubectl_create(&source, &seed_with_admin(&destination)).0);
    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), "migrationnamespace");
    wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| {
        s.scheduler_status == S::Ready && s.storage_status == S::NotProvided
    })
    .await;

    let lease =
        Api::<Lease>::namespaced(source.client(), "stork-system").get("stork-rs-controller").await.expect("lease");
    assert_eq!(lease.spec.and_then(|s| s.holder_identity).as_deref(), Some("stork-in-cluster"));
    // A migration with exactly the shipped RBAC: reads on the source, details kept beside the Migration.
    assert!(kubectl(&source, &["create", "configmap", "settings", "-n", "migrationnamespace", "--from-literal=a=1"]).0);
    let status = migrate(
        &source,
        "migrationnamespace",
        "first",
        "  clusterPair: remotecluster\n  namespaces: [migrationnamespace]\n  includeResources: true\n  startApplications: false",
        &stork,
    )
    .await;
    assert_eq!(status.status, stork_api::MigrationStatusType::Successful, "{status:?}\n{}", stork.log());
    let copied = kget(&destination, Some("migrationnamespace"), "configmap", "settings").expect("copied");
    assert_eq!(copied["data"]["a"], "1");

    // What the service account may not do: no logs, no exec, no proxies; Secrets it must read.
    let sa = "--as=system:serviceaccount:stork-system:stork";
    for (verb, resource, subresource, allowed) in [
        ("get", "pods", "log", false),
        ("create", "pods", "exec", false),
        ("get", "nodes", "proxy", false),
        ("get", "services", "proxy", false),
        ("list", "nodes", "", false),
        ("list", "secrets", "", true),
    ] {
        let sub = format!("--subresource={subresource}");
        let mut args = vec!["auth", "can-i", verb, resource, sa, "-n", "migrationnamespace"];
        if !subresource.is_empty() {
            args.push(&sub);
        }
        let (can, out) = kubectl(&source, &args);
        assert_eq!(can, allowed, "{verb} {resource}/{subresource}: {out}");
    }

    // ConfigMaps it writes only in its own namespace (the details of large Migrations).
    for (namespace, allowed) in [("migrationnamespace", false), ("kube-system", false), ("stork-system", true)] {
        for verb in ["create", "update", "delete"] {
            let (can, out) = kubectl(&source, &["auth", "can-i", verb, "configmaps", sa, "-n", namespace]);
            assert_eq!(can, allowed, "{verb} configmaps in {namespace}: {out}");
        }
    }

    // A custom resource the shipped RBAC does not cover: left out and named, the rest copied.
    // The CRD exists on both sides (a tenant's Migration may not create it on the destination).
    for cluster in [&source, &destination] {
        let (ok, out) = kubectl_create(cluster, WIDGET_CRD);
        assert!(ok, "{out}");
        let (ok, out) = kubectl(cluster, &["wait", "--for=condition=Established", "crd/widgets.example.com"]);
        assert!(ok, "{out}");
    }
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: gear, namespace: migrationnamespace}\nspec: {size: 3}\n";
    let (ok, out) = kubectl_create(&source, widget);
    assert!(ok, "{out}");
    let spec = "  clusterPair: remotecluster\n  namespaces: [migrationnamespace]\n  startApplications: false";
    let status = migrate(&source, "migrationnamespace", "second", spec, &stork).await;
    assert_eq!(status.status, stork_api::MigrationStatusType::PartialSuccess, "{status:?}");
    assert!(
        status.reason.contains("may not list widgets.example.com")
            && status.reason.contains("stork-rs.io/aggregate-to-read"),
        "{}",
        status.reason
    );
    assert!(kget(&destination, Some("migrationnamespace"), "configmap", "settings").is_some());
    // An admin grants it through the aggregated ClusterRole; the next migration copies it.
    let grant = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: stork-rs-read-widgets\n  labels: {stork-rs.io/aggregate-to-read: \"true\"}\n\
                 rules:\n- apiGroups: [example.com]\n  resources: [widgets]\n  verbs: [get, list]\n";
    let (ok, out) = kubectl_create(&source, grant);
    assert!(ok, "{out}");
    wait_until_allowed(&source, "system:serviceaccount:stork-system:stork", "list", "widgets.example.com").await;
    let status = migrate(&source, "migrationnamespace", "third", spec, &stork).await;
    assert_eq!(status.status, stork_api::MigrationStatusType::Successful, "{status:?}");
    assert!(kget(&destination, Some("migrationnamespace"), "widgets", "gear").is_some(), "the custom resource copied");

    let log = stork.log();
    assert!(!log.contains("cannot publish event"), "RBAC gap:\n{log}");
}
