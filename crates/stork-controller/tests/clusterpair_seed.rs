//! The seed ClusterPair of Stork's documentation, end to end on two real clusters: admitted by kubectl,
//! NotProvided / Ready, Error while the destination is down and Ready again when it returns, events
//! only on transitions, metrics and health endpoints, clean deletion.

mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use stork_api::{ClusterPair, ClusterPairStatusType as S};
use testenv::TestCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_pair_reaches_ready_tracks_the_destination_and_deletes_cleanly() {
    let (source, mut destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    let (ok, out) = kubectl(&source, &["create", "namespace", "migrationnamespace"]);
    assert!(ok, "{out}");

    let (ok, out) = kubectl_create(&source, &seed_with_admin(&destination));
    assert!(ok, "kubectl create -f <seed> must succeed: {out}");
    assert!(out.contains("clusterpair.stork.libopenstorage.org/remotecluster created"), "{out}");

    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), "migrationnamespace");
    let status = wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| {
        s.scheduler_status == S::Ready && s.storage_status == S::NotProvided
    })
    .await;
    assert!(scheduler_message(&status).contains(destination.server_url()), "{status:?}");
    assert!(scheduler_message(&status).contains("v1.35.4"), "{status:?}");
    assert_eq!(status.remote_storage_id, "");

    // kubectl shows Stork's columns from the CRD's printer columns.
    let (ok, out) = kubectl(&source, &["get", "clusterpairs", "-n", "migrationnamespace"]);
    assert!(
        ok && out.starts_with("NAME") && out.contains("STORAGE-STATUS") && out.contains("SCHEDULER-STATUS"),
        "{out}"
    );
    assert!(out.contains("NotProvided") && out.contains("Ready"), "{out}");

    let pair = pairs.get("remotecluster").await.expect("pair");
    assert!(pair.metadata.finalizers.unwrap_or_default().contains(&stork_api::FINALIZER.to_string()));

    // Several re-validations later, still exactly one event per check: events only on transitions.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let events: Api<Event> = Api::namespaced(source.client(), "migrationnamespace");
    let reasons = |list: Vec<Event>| {
        list.into_iter().map(|e| (e.reason.unwrap_or_default(), e.count.unwrap_or(1))).collect::<Vec<_>>()
    };
    let seen = reasons(events.list(&ListParams::default()).await.expect("events").items);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, vec![("NotProvided".to_string(), 1), ("Ready".to_string(), 1)], "events: {seen:?}");

    // Metrics in Stork's encoding (Ready = 2, NotProvided = 6) and health endpoints.
    let (code, metrics) = stork.get("/metrics").expect("metrics");
    assert_eq!(code, 200);
    assert!(
        metrics
            .contains(r#"stork_clusterpair_scheduler_status{name="remotecluster",namespace="migrationnamespace"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"stork_clusterpair_storage_status{name="remotecluster",namespace="migrationnamespace"} 6"#),
        "{metrics}"
    );
    assert_eq!(stork.get("/healthz").map(|r| r.0), Some(200));
    assert_eq!(stork.get("/readyz").map(|r| r.0), Some(200));

    // The destination goes away: Error with a readable reason within the re-validation period.
    destination.stop_apiserver();
    let status =
        wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| s.scheduler_status == S::Error).await;
    let message = scheduler_message(&status);
    assert!(message.contains("unreachable") && message.contains(destination.server_url()), "{message}");
    assert_eq!(status.storage_status, S::NotProvided);

    // It comes back: Ready again.
    destination.start_apiserver().await.expect("restart destination");
    wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| s.scheduler_status == S::Ready).await;
    let seen = reasons(events.list(&ListParams::default()).await.expect("events").items);
    assert!(seen.iter().any(|(r, _)| r == "Error"), "a transition to Error must be an event: {seen:?}");

    // Deletion: the finalizer is removed and the pair disappears.
    pairs.delete("remotecluster", &DeleteParams::default()).await.expect("delete");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while pairs.get_opt("remotecluster").await.expect("get").is_some() {
        assert!(std::time::Instant::now() < deadline, "pair not deleted:\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_without_rights_are_error_until_granted() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    kubectl(&source, &["create", "namespace", "migrationnamespace"]);

    let weak = destination.pki().client_cert("weak-user", &[]).expect("cert");
    let (ok, out) = kubectl_create(&source, &seed_pair_yaml(&destination, &weak.cert_pem, &weak.key_pem));
    assert!(ok, "{out}");
    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), "migrationnamespace");
    let status =
        wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| s.scheduler_status == S::Error).await;
    let message = scheduler_message(&status);
    assert!(message.contains("\"kubernetes-admin\"") && message.contains("may not create namespaces"), "{message}");

    // Granting the rights on the destination turns the pair Ready without touching it.
    let (ok, out) = kubectl(
        &destination,
        &["create", "clusterrolebinding", "weak-admin", "--clusterrole=cluster-admin", "--user=weak-user"],
    );
    assert!(ok, "{out}");
    wait_status(&pairs, "remotecluster", Duration::from_secs(30), &stork, |s| s.scheduler_status == S::Ready).await;

    // Credentials of another cluster's CA are rejected by the destination: Error, not Ready.
    let foreign = source.pki().client_cert("admin", &["system:masters"]).expect("cert");
    let yaml = seed_pair_yaml(&destination, &foreign.cert_pem, &foreign.key_pem)
        .replace("name: remotecluster", "name: foreign");
    assert!(kubectl_create(&source, &yaml).0);
    let status =
        wait_status(&pairs, "foreign", Duration::from_secs(30), &stork, |s| s.scheduler_status == S::Error).await;
    assert!(scheduler_message(&status).contains("401 Unauthorized"), "{status:?}");
}
