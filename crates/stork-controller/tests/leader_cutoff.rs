//! One writer, even when the leader is cut off: a leader whose connection to its own cluster (where its
//! Lease lives) is cut mid-migration stops at once — it exits within the Lease's duration instead of
//! writing on while the other replica takes over — and the other replica finishes the migration.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use stork_api::{MigrationStage, MigrationStatusType as M};
use testenv::TestCluster;
use testenv::proxy::{Mode, TcpProxy};

/// The Lease duration the test replicas run with (see `Stork::spawn`).
const LEASE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_cut_off_mid_migration_stops_and_the_other_replica_finishes() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let proxy = TcpProxy::start(source.apiserver_addr().expect("address")).expect("proxy");
    let via_proxy = write_file(source.dir(), "via-proxy.kubeconfig", &source.kubeconfig_via(&proxy.url()));
    // One write at a time, so that the migration is still writing when the cut comes.
    let args = [format!("--kubeconfig={}", via_proxy.display()), "--migration-concurrency=1".to_string()];
    let mut leader = Stork::spawn(&source, Command::new(env!("CARGO_BIN_EXE_stork")), &args);
    wait_readyz(&leader, "leading").await;
    let follower = Stork::start(&source, &["--migration-concurrency=1"]);
    wait_readyz(&follower, "standby").await;

    ready_pair(&source, &destination, "shop", &leader).await;
    create_configmaps(&source, "shop", 1500).await;
    let (ok, out) = kubectl_create(
        &source,
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {name: big, namespace: shop}\nspec: {clusterPair: remotecluster, namespaces: [shop]}\n",
    );
    assert!(ok, "{out}");
    // Cut once the leader is writing ConfigMaps to the destination.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&destination, "shop", &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()))
        .await
        < 50
    {
        assert!(Instant::now() < deadline, "the leader never started writing\n{}", leader.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.set_mode(Mode::Blackhole);
    let cut = Instant::now();
    let cut_at = jiff::Timestamp::now();
    let api: kube::Api<stork_api::Migration> = kube::Api::namespaced(source.client(), "shop");
    let at_cut = api.get("big").await.expect("migration").status.unwrap_or_default();
    assert_ne!(at_cut.stage, MigrationStage::Final, "the cut must come mid-migration");

    // The leader stops writing and exits before its Lease could have passed to the other replica.
    let exited = loop {
        if let Some(how) = leader.proc.exited() {
            break how;
        }
        assert!(cut.elapsed() < LEASE + Duration::from_secs(2), "the cut-off leader kept running\n{}", leader.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // When it stopped is when it logged so (its controllers dropped, writes fenced); exiting follows.
    let log = leader.log();
    let line = log
        .lines()
        .find(|l| l.contains("lost the leader Lease: controllers stopped"))
        .unwrap_or_else(|| panic!("{exited}\n{log}"));
    let stopped_at: jiff::Timestamp = line.split_whitespace().next().and_then(|t| t.parse().ok()).expect("timestamp");
    let stopped_after = stopped_at.duration_since(cut_at);
    assert!(
        stopped_after < jiff::SignedDuration::try_from(LEASE).expect("lease"),
        "stopped {stopped_after:?} after the cut\n{log}"
    );
    let written_at_stop =
        count(&destination, "shop", &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&())).await;

    // The other replica takes over and finishes the same Migration.
    wait_readyz(&follower, "leading").await;
    let status = wait_migration(&source, "shop", "big", Duration::from_secs(120), &follower).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let copied =
        count(&destination, "shop", &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&())).await;
    assert!(copied >= 1500 && copied > written_at_stop, "{copied} copied, {written_at_stop} when the leader stopped");
}
