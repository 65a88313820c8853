//! The manifests of `deploy/` are what a real API server accepts, and the metrics NetworkPolicy covers
//! the port the Deployment and the controller's default serve on.

mod common;

use std::path::Path;

use common::*;
use testenv::TestCluster;

fn manifest(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy").join(name).display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_manifests_apply_and_the_metrics_port_is_fenced() {
    let cluster = TestCluster::start("deploy").await.expect("cluster");
    let (ok, out) = kubectl(&cluster, &["apply", "-f", &manifest("namespace.yaml")]);
    assert!(ok, "{out}");
    let (ok, out) = kubectl(
        &cluster,
        &[
            "apply",
            "--dry-run=server",
            "-f",
            &manifest("rbac.yaml"),
            "-f",
            &manifest("deployment.yaml"),
            "-f",
            &manifest("networkpolicy.yaml"),
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("networkpolicy.networking.k8s.io/stork-metrics created (server dry run)"), "{out}");

    // kubectl reads the YAML (one object per file here) and prints it as JSON.
    let read = |name: &str| -> serde_json::Value {
        let (ok, json) = kubectl(&cluster, &["create", "--dry-run=client", "-o", "json", "-f", &manifest(name)]);
        assert!(ok, "{json}");
        serde_json::from_str(&json).expect("json")
    };
    let policy = read("networkpolicy.yaml");
    let deployment = read("deployment.yaml");
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], deployment["spec"]["template"]["metadata"]["labels"]);
    let port = &deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"];
    assert_eq!(&policy["spec"]["ingress"][0]["ports"][0]["port"], port);
    let args = <stork_controller::args::Args as clap::Parser>::try_parse_from(["stork"]).expect("defaults");
    assert_eq!(Some(u64::from(args.http_address.port())), port.as_u64(), "the controller's default port");
}
