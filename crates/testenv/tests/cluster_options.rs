//! Options that change how a cluster's processes run: etcd's fsync, and kube-apiserver flags passed
//! through (here: in-flight limits low enough to get 429s under load).

use std::io::{Read as _, Write as _};

use futures::future::join_all;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use testenv::{ClusterOptions, TestCluster};

/// How often etcd has fsynced its WAL, from its Prometheus metrics.
fn wal_fsyncs(cluster: &TestCluster) -> u64 {
    let authority = cluster.etcd_url().trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(authority).expect("connect etcd");
    write!(conn, "GET /metrics HTTP/1.0\r\nHost: {authority}\r\n\r\n").expect("request metrics");
    let mut metrics = String::new();
    conn.read_to_string(&mut metrics).expect("read metrics");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("etcd_disk_wal_fsync_duration_seconds_count "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no WAL fsync count in etcd metrics:\n{metrics}")) as u64
}

async fn write_some(cluster: &TestCluster) {
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client(), "default");
    for i in 0..5 {
        let cm: ConfigMap =
            serde_json::from_value(serde_json::json!({"metadata": {"name": format!("w{i}")}})).expect("cm");
        cms.create(&PostParams::default(), &cm).await.expect("create");
    }
}

#[tokio::test]
async fn etcd_fsyncs_only_when_asked() {
    let (synced, fast) = tokio::join!(
        TestCluster::start_with(ClusterOptions::new("fsync").with_fsync()),
        TestCluster::start_with(ClusterOptions::new("nofsync"))
    );
    let (synced, fast) = (synced.expect("start fsync cluster"), fast.expect("start default cluster"));
    // Bootstrapping the WAL syncs even with --unsafe-no-fsync; writes after that must not.
    let before = (wal_fsyncs(&synced), wal_fsyncs(&fast));
    write_some(&synced).await;
    write_some(&fast).await;
    let after = (wal_fsyncs(&synced), wal_fsyncs(&fast));
    assert!(after.0 >= before.0 + 5, "with_fsync: each write must sync etcd's WAL ({before:?} -> {after:?})");
    assert_eq!(after.1, before.1, "default: etcd runs with --unsafe-no-fsync");

    let err = fast.audit_writes().expect_err("no audit log without with_audit");
    assert!(err.to_string().contains("with_audit"), "{err}");
}

#[tokio::test]
async fn inflight_limits_pass_through_and_answer_429_under_load() {
    let mut opts = ClusterOptions::new("throttled");
    opts.install_crds = false;
    opts.extra_apiserver_args = ["--max-mutating-requests-inflight=1", "--max-requests-inflight=1"]
        .into_iter()
        .chain(["--enable-priority-and-fairness=false"])
        .map(String::from)
        .collect();
    let cluster = TestCluster::start_with(opts).await.expect("start cluster");

    // system:masters is exempt from the limits, so load must come from a plain user; and without kube's
    // retries, which would hide the 429s. /openapi/v2 is large, so requests overlap; any authenticated
    // user may read it.
    let yaml = cluster.user_kubeconfig("loader", &[]).expect("user kubeconfig");
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("parse kubeconfig");
    let mut loader =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("config");
    loader.default_retry = false;
    let codes = openapi_burst(loader).await;
    assert!(codes.contains(&429), "no 429 among {codes:?}");
    assert!(codes.iter().all(|c| [200, 429].contains(c)), "{codes:?}");

    let mut admin = cluster.config().clone();
    admin.default_retry = false;
    let codes = openapi_burst(admin).await;
    assert!(codes.iter().all(|c| *c == 200), "the admin is exempt from in-flight limits: {codes:?}");
}

/// Status codes of 24 concurrent GET /openapi/v2.
async fn openapi_burst(config: kube::Config) -> Vec<u16> {
    let client = kube::Client::try_from(config).expect("client");
    let requests = (0..24).map(|_| {
        let client = client.clone();
        async move {
            let request = http::Request::get("/openapi/v2").body(Vec::new()).expect("request");
            match client.request_text(request).await {
                Ok(_) => 200,
                Err(kube::Error::Api(status)) => status.code,
                Err(e) => panic!("request failed without a status: {e}"),
            }
        }
    });
    join_all(requests).await
}
