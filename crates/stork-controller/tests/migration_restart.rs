//! The controller is killed in the middle of a large migration and started again: the migration
//! finishes complete and correct, with nothing duplicated or missing on the destination.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kube::api::Api;
use stork_api::{Migration, MigrationStage, MigrationStatusType as M};
use testenv::TestCluster;

const OBJECTS: usize = 1500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_interrupted_by_a_controller_kill_completes_after_restart() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    // Two applies at a time, so the migration is still running when the controller is killed.
    let slow = ["--migration-concurrency=2"];
    let mut stork = Stork::start(&source, &slow);
    ready_pair(&source, &destination, "bulk", &stork).await;
    create_configmaps(&source, "bulk", OBJECTS).await;

    let yaml = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {name: big, namespace: bulk}\nspec: {clusterPair: remotecluster, namespaces: [bulk]}\n";
    assert!(kubectl_create(&source, yaml).0);

    // Kill it once some, but not all, objects have landed.
    let migrations: Api<Migration> = Api::namespaced(source.client(), "bulk");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let landed = versions(&destination, "bulk", "cm").len();
        if landed > 100 {
            break;
        }
        assert!(Instant::now() < deadline, "migration did not start:\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stork.proc.stop(Duration::ZERO);
    let landed_at_kill = versions(&destination, "bulk", "cm").len();
    let status = migrations.get("big").await.expect("get").status.unwrap_or_default();
    assert_ne!(status.stage, MigrationStage::Final, "the kill came too late to test anything");
    assert!(landed_at_kill < OBJECTS, "everything had landed already");

    let stork = Stork::start(&source, &[]);
    let status = wait_migration(&source, "bulk", "big", Duration::from_secs(180), &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let counts = status.resource_counts.expect("counts");
    assert_eq!(counts.failed, 0);
    assert!(counts.unchanged >= 1, "objects written before the kill are recognised, not rewritten: {counts:?}");
    let on_destination = versions(&destination, "bulk", "cm");
    // Every source ConfigMap plus the destination's own kube-root-ca.crt, each exactly once.
    assert_eq!(on_destination.len(), OBJECTS + 1, "landed at kill: {landed_at_kill}");
    for i in [0, OBJECTS / 2, OBJECTS - 1] {
        let cm = kget(&destination, Some("bulk"), "configmap", &format!("cm-{i:04}")).expect("cm");
        assert_eq!(cm["data"]["i"], i.to_string());
    }
}
