//! The audit log records exactly the write requests, with who made them, and keeps them across an API
//! server restart.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use testenv::{AuditWrite, ClusterOptions, Component, TestCluster};

const MUTATING: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

fn find<'a>(writes: &'a [AuditWrite], verb: &str, namespace: &str, name: &str) -> Option<&'a AuditWrite> {
    writes.iter().find(|w| w.verb == verb && w.resource == "configmaps" && w.namespace == namespace && w.name == name)
}

#[tokio::test]
async fn audit_log_records_writes_by_user_agent_across_restarts() {
    let mut cluster = TestCluster::start_with(ClusterOptions::new("audited").with_audit().with_controller_manager())
        .await
        .expect("start cluster");
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client(), "default");
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": "audited"}})).expect("cm");
    cms.create(&PostParams::default(), &cm).await.expect("create");
    cms.get("audited").await.expect("get");
    cms.list(&Default::default()).await.expect("list");

    // Blocking mode: the event is in the file as soon as the response is back, no polling needed.
    let writes = cluster.audit_writes().expect("audit writes");
    let created = find(&writes, "create", "default", "audited").unwrap_or_else(|| panic!("no create in {writes:#?}"));
    assert_eq!((created.user.as_str(), created.code, created.api_group.as_str()), ("admin", 201, ""));
    assert_eq!(created.user_agent, "", "kube-rs sends no User-Agent of its own");
    assert!(writes.iter().all(|w| MUTATING.contains(&w.verb.as_str())), "only writes are recorded: {writes:#?}");

    // The log is appended to, not truncated, when the API server starts again.
    cluster.stop_apiserver();
    cluster.start_apiserver().await.expect("restart");
    Api::<ConfigMap>::namespaced(cluster.client(), "default")
        .delete("audited", &DeleteParams::default())
        .await
        .expect("delete");
    let writes = cluster.audit_writes().expect("audit writes after restart");
    assert!(find(&writes, "create", "default", "audited").is_some(), "the create survived the restart");
    assert_eq!(find(&writes, "delete", "default", "audited").map(|w| w.code), Some(200));

    // The controller manager authenticates as the same admin; only its user agent tells it apart.
    testenv::ensure_namespace(&cluster.client(), "audit-probe").await.expect("namespace");
    let deadline = Instant::now() + Duration::from_secs(60);
    let published = loop {
        let writes = cluster.audit_writes().expect("audit writes");
        if let Some(write) = find(&writes, "create", "audit-probe", "kube-root-ca.crt") {
            break write.clone();
        }
        assert!(
            Instant::now() < deadline,
            "kube-controller-manager did not create kube-root-ca.crt:\n{}",
            cluster.log_tail(Component::ControllerManager, 30)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(published.user, "admin");
    assert!(published.user_agent.starts_with("kube-controller-manager/"), "user agent {}", published.user_agent);
}
