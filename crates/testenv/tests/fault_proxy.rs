//! The fault proxy in front of a real API server: kube clients trust it through the cluster's own
//! kubeconfig, it forwards reads, writes and watches as they are, and answers exactly the injected
//! faults itself, in the API server's format.

use std::time::Duration;

use futures::TryStreamExt;
use http::Method;
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use testenv::proxy::{Fault, FaultProxy};
use testenv::{ClusterOptions, TestCluster};

async fn config_for(yaml: &str) -> kube::Config {
    let kubeconfig = Kubeconfig::from_yaml(yaml).expect("parse kubeconfig");
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("config")
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "data": {"k": "v"}})).expect("cm")
}

#[tokio::test]
async fn fault_proxy_forwards_and_injects_faults() {
    let mut opts = ClusterOptions::new("faulty");
    opts.install_crds = false;
    let cluster = TestCluster::start_with(opts).await.expect("start cluster");
    let proxy = FaultProxy::start(&cluster).expect("start proxy");
    let client = kube::Client::try_from(config_for(&proxy.kubeconfig()).await).expect("client");

    // Reads are forwarded: the real object comes back.
    let direct = Api::<Namespace>::all(cluster.client()).get("default").await.expect("get directly");
    let proxied = Api::<Namespace>::all(client.clone()).get("default").await.expect("get through the proxy");
    assert_eq!(proxied.metadata.uid, direct.metadata.uid);
    assert!(proxy.forwarded() >= 1);

    // Two 429s on creating ConfigMaps: kube's default retry policy (429/503/504) gets past them.
    proxy.inject(Fault {
        methods: vec![Method::POST],
        path_contains: Some("/configmaps".into()),
        ..Fault::new(429, 2)
    });
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &config_map("retried")).await.expect("create despite two 429s");
    assert_eq!(proxy.injected(), 2);
    let landed = Api::<ConfigMap>::namespaced(cluster.client(), "default").get("retried").await.expect("landed");
    assert_eq!(landed.data.and_then(|d| d.get("k").cloned()).as_deref(), Some("v"));

    // An injected fault looks like the API server's own: Status body, reason, Retry-After. (Without
    // kube's retries, which would wait the 7 s and succeed.)
    proxy.inject(Fault { retry_after_secs: Some(7), ..Fault::new(503, 1) });
    let mut config = config_for(&proxy.kubeconfig()).await;
    config.default_retry = false;
    let no_retry = kube::Client::try_from(config).expect("client");
    let request = http::Request::get("/api/v1/namespaces/default").body(Vec::new().into()).expect("request");
    let response = no_retry.send(request).await.expect("send");
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("7"));
    let body = response.into_body().collect().await.expect("body").to_bytes();
    let status: serde_json::Value = serde_json::from_slice(&body).expect("Status JSON");
    assert_eq!(
        (&status["kind"], &status["status"], &status["reason"], &status["code"], &status["message"]),
        (&"Status".into(), &"Failure".into(), &"ServiceUnavailable".into(), &503.into(), &"injected by testenv".into())
    );
    assert_eq!(status["details"]["retryAfterSeconds"], 7);
    assert_eq!(proxy.injected(), 3);

    // clear() drops faults not yet used up.
    proxy.inject(Fault::new(500, 10));
    proxy.clear();
    Api::<Namespace>::all(client.clone()).get("default").await.expect("get after clear");
    assert_eq!(proxy.injected(), 3);

    // A watch through the proxy streams events as they happen.
    let params = WatchParams::default().fields("metadata.name=watched").timeout(30);
    let mut events = Box::pin(cms.watch(&params, "0").await.expect("watch through the proxy"));
    Api::<ConfigMap>::namespaced(cluster.client(), "default")
        .create(&PostParams::default(), &config_map("watched"))
        .await
        .expect("create directly");
    let added = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.try_next().await.expect("watch stream") {
                Some(WatchEvent::Bookmark(_)) => continue,
                other => break other,
            }
        }
    })
    .await
    .expect("an event within 10 s");
    match added {
        Some(WatchEvent::Added(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("watched")),
        other => panic!("expected ADDED watched, got {other:?}"),
    }
}
