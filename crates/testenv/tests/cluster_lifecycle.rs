//! The harness itself: clusters start, are independent, report their real version, survive an API
//! server restart with their data, and measure what they cost.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use testenv::{Component, TestCluster};

#[tokio::test]
async fn two_clusters_are_real_independent_and_restartable() {
    let started = Instant::now();
    let (source, mut destination) = TestCluster::start_pair().await.expect("start source and destination");
    let start_secs = started.elapsed().as_secs_f64();

    let version = source.client().apiserver_version().await.expect("version");
    assert_eq!(version.git_version, "v1.35.4");
    assert_eq!((version.major.as_str(), version.minor.as_str()), ("1", "35"));

    // kubectl of the same build sees the Stork CRDs.
    let out = source
        .kubectl()
        .args(["api-resources", "--api-group=stork.libopenstorage.org", "-o", "name"])
        .output()
        .expect("kubectl");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("clusterpairs.stork.libopenstorage.org"),
        "kubectl api-resources: {listed} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Each cluster has its own CA: the source's admin credentials are refused by the destination.
    let mut foreign = source.config().clone();
    foreign.cluster_url = destination.server_url().parse().expect("url");
    let foreign_client = kube::Client::try_from(foreign).expect("client");
    assert!(foreign_client.apiserver_version().await.is_err(), "the destination must not trust the source's CA");

    // A ConfigMap survives an API server restart (etcd keeps the data); while stopped, requests fail.
    let cms: Api<ConfigMap> = Api::namespaced(destination.client(), "default");
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "survivor"}, "data": {"k": "v"}})).expect("cm");
    cms.create(&PostParams::default(), &cm).await.expect("create");
    destination.stop_apiserver();
    assert!(destination.client().apiserver_version().await.is_err(), "a stopped API server must not answer");
    destination.start_apiserver().await.expect("restart");
    let back =
        Api::<ConfigMap>::namespaced(destination.client(), "default").get("survivor").await.expect("get after restart");
    assert_eq!(back.data.and_then(|d| d.get("k").cloned()).as_deref(), Some("v"));

    // The destination's controller manager is running its default controllers: the namespace
    // controller's root CA publisher puts kube-root-ca.crt into a new namespace.
    testenv::ensure_namespace(&destination.client(), "probe").await.expect("namespace");
    let probe: Api<ConfigMap> = Api::namespaced(destination.client(), "probe");
    let deadline = Instant::now() + Duration::from_secs(60);
    while probe.get_opt("kube-root-ca.crt").await.expect("get").is_none() {
        assert!(
            Instant::now() < deadline,
            "kube-controller-manager did not publish kube-root-ca.crt:\n{}",
            destination.log_tail(Component::ControllerManager, 30)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    eprintln!(
        "two clusters ready in {start_secs:.1} s; RSS source apiserver {} MiB, etcd {} MiB; destination apiserver {} MiB, controller-manager {} MiB",
        source.rss_kib(Component::ApiServer).unwrap_or(0) / 1024,
        source.rss_kib(Component::Etcd).unwrap_or(0) / 1024,
        destination.rss_kib(Component::ApiServer).unwrap_or(0) / 1024,
        destination.rss_kib(Component::ControllerManager).unwrap_or(0) / 1024,
    );
}
