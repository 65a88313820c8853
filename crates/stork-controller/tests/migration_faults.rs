//! Migrations when a cluster misbehaves: a destination that goes away mid-migration, one that stops
//! answering, one that answers 429 and 503. Runs that fail for such reasons are retried (and say so in
//! status) and end Successful once the destination is back, with every object present once.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kube::api::ApiResource;
use stork_api::MigrationStatusType as M;
use testenv::TestCluster;

const OBJECTS: usize = 2000;

fn configmaps() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_stopped_mid_migration_is_retried_until_it_returns() {
    let (source, mut destination) = TestCluster::start_pair().await.expect("clusters");
    // One apply at a time, so that the destination goes away while the migration runs.
    let stork = Stork::start(&source, &["--migration-concurrency=1", "--request-timeout=5s"]);
    ready_pair(&source, &destination, "bulk", &stork).await;
    create_configmaps(&source, "bulk", OBJECTS).await;
    let yaml = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {name: bulk, namespace: bulk}\nspec: {clusterPair: remotecluster, namespaces: [bulk]}\n";
    assert!(kubectl_create(&source, yaml).0);

    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&destination, "bulk", &configmaps()).await < 200 {
        assert!(Instant::now() < deadline, "migration did not start:\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    destination.stop_apiserver();
    let stopped = Instant::now();
    let retrying = wait_migration_status(&source, "bulk", "bulk", Duration::from_secs(30), &stork, |s| {
        s.reason.starts_with("retrying: ")
    })
    .await;
    assert_ne!(retrying.stage, stork_api::MigrationStage::Final, "{retrying:#?}");
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(stopped.elapsed())).await;
    destination.start_apiserver().await.expect("destination back");

    let status = wait_migration(&source, "bulk", "bulk", Duration::from_secs(180), &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(status.attempts >= 2, "{status:#?}");
    assert!(status.reason.is_empty() && status.retrying_since.is_none(), "{status:#?}");
    let names = written_by(&destination, "bulk", "cm");
    let copied: Vec<&String> = names.keys().filter(|k| k.starts_with("ConfigMap/cm-")).collect();
    assert_eq!(copied.len(), OBJECTS, "every object present, once");
    assert!(names.iter().filter(|(k, _)| k.starts_with("ConfigMap/cm-")).all(|(_, by)| by == "bulk"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_stops_answering_times_out_and_a_later_attempt_succeeds() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &["--request-timeout=3s"]);
    ready_pair(&source, &destination, "shop", &stork).await;
    create_configmaps(&source, "shop", 20).await;
    destination.pause_apiserver();
    let yaml = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {name: stalled, namespace: shop}\nspec: {clusterPair: remotecluster, namespaces: [shop]}\n";
    assert!(kubectl_create(&source, yaml).0);
    let started = Instant::now();
    let retrying = wait_migration_status(&source, "shop", "stalled", Duration::from_secs(30), &stork, |s| {
        s.reason.starts_with("retrying: ")
    })
    .await;
    assert!(
        retrying.reason.contains("no complete answer within 3s (request timeout)"),
        "the reason names the timeout: {}",
        retrying.reason
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ended within its deadline, not held: {:?}",
        started.elapsed()
    );
    destination.resume_apiserver();
    let status = wait_migration(&source, "shop", "stalled", Duration::from_secs(120), &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(status.attempts >= 2);
    assert_eq!(count(&destination, "shop", &configmaps()).await, 21, "20 copies and the destination's root CA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_and_unavailable_answers_are_retried() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let proxy = testenv::proxy::FaultProxy::start(&destination).expect("proxy");
    let stork = Stork::start(&source, &[]);
    let _ = kubectl(&source, &["create", "namespace", "shop"]);
    let yaml = seed_with_admin(&destination)
        .replace("namespace: migrationnamespace", "namespace: shop")
        .replace(destination.server_url(), &proxy.url());
    assert!(kubectl_create(&source, &yaml).0);
    let pairs: kube::Api<stork_api::ClusterPair> = kube::Api::namespaced(source.client(), "shop");
    wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| {
        s.scheduler_status == stork_api::ClusterPairStatusType::Ready
    })
    .await;
    create_configmaps(&source, "shop", 20).await;
    use testenv::proxy::Fault;
    proxy.inject(Fault {
        methods: vec![http::Method::PATCH],
        path_contains: Some("/configmaps/".into()),
        status: 429,
        retry_after_secs: Some(1),
        times: 3,
    });
    // Every run lists the destination's namespaces first.
    proxy.inject(Fault {
        methods: vec![http::Method::GET],
        path_contains: Some("/api/v1/namespaces?".into()),
        status: 503,
        retry_after_secs: None,
        times: 2,
    });
    let status =
        migrate(&source, "shop", "throttled", "  clusterPair: remotecluster\n  namespaces: [shop]", &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert_eq!(status.resource_counts.expect("counts").created, 20);
    assert_eq!(proxy.injected(), 5, "every injected fault was served and retried");
    assert_eq!(count(&destination, "shop", &configmaps()).await, 21);
}
