//! Two replicas: only the Lease holder reconciles; when it dies the other takes over.

mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use stork_api::{ClusterPair, ClusterPairStatusType as S};
use testenv::TestCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lease_holder_writes_and_a_follower_takes_over() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    kubectl(&source, &["create", "namespace", "migrationnamespace"]);
    let mut first = Stork::start(&source, &[]);
    wait_readyz(&first, "leading").await;
    let second = Stork::start(&source, &[]);
    wait_readyz(&second, "standby").await;

    let leases: Api<Lease> = Api::namespaced(source.client(), "kube-system");
    let lease = leases.get("stork-rs-controller").await.expect("lease");
    let holder = lease.spec.and_then(|s| s.holder_identity).unwrap_or_default();
    assert!(holder.ends_with(&format!("-{}", first.proc.pid())), "holder {holder:?} must be the first replica");

    assert!(kubectl_create(&source, &seed_with_admin(&destination)).0);
    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), "migrationnamespace");
    wait_status(&pairs, "remotecluster", Duration::from_secs(30), &first, |s| s.scheduler_status == S::Ready).await;
    assert!(!second.log().contains("checked ClusterPair"), "the follower must not reconcile:\n{}", second.log());

    // The leader dies without releasing its Lease; the follower takes over once it expires.
    first.proc.stop(Duration::ZERO);
    wait_readyz(&second, "leading").await;
    let yaml = seed_with_admin(&destination).replace("name: remotecluster", "name: after-failover");
    assert!(kubectl_create(&source, &yaml).0);
    wait_status(&pairs, "after-failover", Duration::from_secs(30), &second, |s| s.scheduler_status == S::Ready).await;
    assert!(second.log().contains("became leader"), "{}", second.log());
}
