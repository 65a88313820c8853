//! The controller in-cluster: a service-account token mounted where Kubernetes mounts it, the
//! `KUBERNETES_SERVICE_*` environment, and only the RBAC of `deploy/`. Proves both the in-cluster
//! configuration path and that the shipped RBAC is sufficient.

mod common;

use std::path::Path;
use std::process::Command;
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
    let (ok, token) = kubectl(&source, &["create", "token", "stork", "-n", "stork-system", "--duration=1h"]);
    assert!(ok, "{token}");

    let sa_dir = source.dir().join("serviceaccount");
    std::fs::create_dir_all(&sa_dir).expect("dir");
    write_file(&sa_dir, "token", token.trim());
    write_file(&sa_dir, "ca.crt", &source.pki().serving_ca_pem);
    write_file(&sa_dir, "namespace", "stork-system");
    let port = source.server_url().rsplit(':').next().expect("port").to_string();

    // A private mount namespace puts the token at /var/run/secrets/kubernetes.io/serviceaccount for
    // this process only.
    let mut wrapper = Command::new("unshare");
    wrapper
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs none /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$SA_DIR"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$STORK" "$@""#)
        .arg("stork")
        .env("SA_DIR", &sa_dir)
        .env("STORK", env!("CARGO_BIN_EXE_stork"))
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", &port)
        .env("POD_NAME", "stork-in-cluster")
        .env("POD_NAMESPACE", "stork-system")
        .env_remove("KUBECONFIG")
        .env("HOME", source.dir());
    let stork = Stork::spawn(&source, wrapper, &[]);

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
    let log = stork.log();
    assert!(!log.contains("cannot publish event") && !log.contains("forbidden"), "RBAC gap:\n{log}");
}
