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
use testenv::TestCluster;

fn deploy(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(file).display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_in_cluster_with_the_shipped_rbac() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let (ok, out) = kubectl(
        &source,
        &["apply", "-f", &deploy("crds"), "-f", &deploy("namespace.yaml"), "-f", &deploy("rbac.yaml")],
    );
    assert!(ok, "{out}");
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

    let log = stork.log();
    assert!(!log.contains("cannot publish event") && !log.contains("forbidden"), "RBAC gap:\n{log}");
}
