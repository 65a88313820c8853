//! The controllers as a library: the ClusterPair and Migration reconcilers driven in this test's own
//! process (no `stork` binary), against real clusters, with their state open to inspection.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use stork_api::{ClusterPair, ClusterPairStatusType, Migration, MigrationStage, MigrationStatusType};
use stork_controller::context::{Context, Settings};
use stork_controller::metrics::Metrics;
use stork_controller::remote::RemoteClients;
use stork_controller::{clusterpair, migration};
use testenv::TestCluster;
use tokio::sync::watch;

async fn until(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} not reached within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconcilers_run_in_process() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let client = source.client();
    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: Recorder::new(client.clone(), Reporter { controller: "stork-rs-test".into(), instance: None }),
        metrics: Metrics::new(),
        remotes: RemoteClients::default(),
        storage: None,
        settings: Settings {
            pair_revalidate_interval: Duration::from_secs(2),
            pair_retry_interval: Duration::from_secs(1),
            admin_namespace: "kube-system".into(),
            controller_namespace: "kube-system".into(),
            migration_concurrency: 8,
            request_timeout: Duration::from_secs(10),
            migration_run_timeout: Duration::from_secs(60),
            migration_retry_timeout: Duration::from_secs(30),
            schedule_time_zone: jiff::tz::TimeZone::UTC,
            schedule_resync_interval: Duration::from_secs(5),
            action_stage_timeout: Duration::from_secs(60),
        },
        source: stork_kube::Cluster::new(client.clone(), "source", Duration::from_secs(10)),
        memory: Default::default(),
        clock: Default::default(),
        fence: Default::default(),
        continuous: Default::default(),
    });
    let (stop, stopped) = watch::channel(false);
    let controllers = tokio::spawn({
        let (ctx, stopped) = (ctx.clone(), stopped.clone());
        async move {
            tokio::join!(
                clusterpair::run(ctx.clone(), until(stopped.clone()), || {}),
                migration::controller::run(ctx, until(stopped)),
            )
        }
    });

    let _ = kubectl(&source, &["create", "namespace", "shop"]);
    let pair = seed_with_admin(&destination).replace("namespace: migrationnamespace", "namespace: shop");
    assert!(kubectl_create(&source, &pair).0);
    let pairs: Api<ClusterPair> = Api::namespaced(client.clone(), "shop");
    wait_for("pair Ready", async || {
        let status = pairs.get("remotecluster").await.ok()?.status?;
        (status.scheduler_status == ClusterPairStatusType::Ready).then_some(())
    })
    .await;
    create_configmaps(&source, "shop", 10).await;
    let yaml = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {name: inproc, namespace: shop}\nspec: {clusterPair: remotecluster, namespaces: [shop]}\n";
    assert!(kubectl_create(&source, yaml).0);
    let migrations: Api<Migration> = Api::namespaced(client.clone(), "shop");
    let status = wait_for("Migration Final", async || {
        let status = migrations.get("inproc").await.ok()?.status?;
        (status.stage == MigrationStage::Final).then_some(status)
    })
    .await;
    assert_eq!(status.status, MigrationStatusType::Successful, "{status:#?}");
    assert!(kget(&destination, Some("shop"), "configmap", "cm-0009").is_some());
    // The engine's memory of the run is the process's own, open to the test.
    assert!(ctx.memory.prepared.len() >= 10, "prepared source objects are remembered");
    assert!(ctx.memory.baselines.len() >= 10, "written copies are remembered clean");
    let metrics = ctx.metrics.encode().expect("metrics");
    assert!(metrics.contains("stork_migration_status{"), "{metrics}");

    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(30), controllers).await.expect("controllers stop").expect("join");
}
