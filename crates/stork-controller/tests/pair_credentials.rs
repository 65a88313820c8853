//! Pair credentials: impersonation in a pair's kubeconfig is honoured (a narrowed identity is what the
//! destination sees), a plain `http://` destination is refused unless the pair consents, an unverified
//! destination certificate is reported, and a pair's token appears nowhere the controller writes or
//! prints — its log, events, statuses, metrics, the Migration's details ConfigMap.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use kube::api::Api;
use stork_api::{ClusterPair, ClusterPairStatusType as S, MigrationStatusType as M};
use testenv::TestCluster;

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A ClusterPair in `shop` for `server`, with a token user (`extra_user` lines added to it), the
/// cluster's CA unless `cluster_extra` says otherwise, and `annotations`.
fn pair_yaml(
    name: &str,
    server: &str,
    cluster_lines: &str,
    token: &str,
    extra_user: &str,
    annotations: &str,
) -> String {
    format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: ClusterPair\nmetadata:\n  name: {name}\n  namespace: shop\n  annotations: {{{annotations}}}\n\
         spec:\n  config:\n    clusters:\n      dr:\n        server: {server}\n{cluster_lines}    contexts:\n      dr:\n        cluster: dr\n        user: writer\n\
         \x20   current-context: dr\n    users:\n      writer:\n        token: {token}\n{extra_user}  options: {{}}\n"
    )
}

async fn pair_status(
    source: &TestCluster,
    name: &str,
    stork: &Stork,
    done: impl Fn(&stork_api::ClusterPairStatus) -> bool,
) -> stork_api::ClusterPairStatus {
    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), "shop");
    wait_status(&pairs, name, Duration::from_secs(30), stork, done).await;
    pairs.get(name).await.expect("pair").status.expect("status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_credentials_are_honoured_refused_or_reported_and_never_leak() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    for args in [
        &["create", "serviceaccount", "dr-writer", "-n", "kube-system"][..],
        &[
            "create",
            "clusterrolebinding",
            "dr-writer",
            "--clusterrole=cluster-admin",
            "--serviceaccount=kube-system:dr-writer",
        ],
    ] {
        let (ok, out) = kubectl(&destination, args);
        assert!(ok, "{out}");
    }
    let (ok, token) = kubectl(&destination, &["create", "token", "dr-writer", "-n", "kube-system", "--duration=1h"]);
    assert!(ok, "{token}");
    let token = token.trim().to_string();
    let ca = format!("        certificate-authority-data: {}\n", b64(&destination.pki().serving_ca_pem));
    let server = destination.server_url().to_string();
    let (ok, out) = kubectl(&source, &["create", "namespace", "shop"]);
    assert!(ok, "{out}");

    // A token user: Ready, and a migration through it.
    assert!(kubectl_create(&source, &pair_yaml("remotecluster", &server, &ca, &token, "", "")).0);
    let status = pair_status(&source, "remotecluster", &stork, |s| s.scheduler_status == S::Ready).await;
    let tls = status.conditions.iter().find(|c| c.type_ == "TLSVerified").expect("TLS condition");
    assert_eq!((tls.status.as_str(), tls.reason.as_str()), ("True", "Verified"));
    let (ok, out) = kubectl(&source, &["create", "configmap", "settings", "-n", "shop", "--from-literal=colour=blue"]);
    assert!(ok, "{out}");
    let migrated =
        migrate(&source, "shop", "first", "  clusterPair: remotecluster\n  namespaces: [shop]", &stork).await;
    assert_eq!(migrated.status, M::Successful, "{migrated:#?}");

    // The same token narrowed with act-as to an identity without rights: the destination sees that
    // identity, so the pair cannot be Ready.
    let narrowed = pair_yaml("narrowed", &server, &ca, &token, "        act-as: nobody-in-particular\n", "");
    assert!(kubectl_create(&source, &narrowed).0);
    let status = pair_status(&source, "narrowed", &stork, |s| s.scheduler_status == S::Error).await;
    assert!(scheduler_message(&status).contains("nobody-in-particular"), "{}", scheduler_message(&status));

    // Plain http:// is refused, naming the field and the way to consent.
    let plain = server.replacen("https://", "http://", 1);
    assert!(kubectl_create(&source, &pair_yaml("plain", &plain, &ca, &token, "", "")).0);
    let status = pair_status(&source, "plain", &stork, |s| s.scheduler_status == S::Error).await;
    let message = scheduler_message(&status);
    assert!(
        message.contains("spec.config.clusters.dr.server") && message.contains("stork-rs.io/allow-plain-http=true"),
        "{message}"
    );
    let consented = pair_yaml("plain-ok", &plain, &ca, &token, "", "stork-rs.io/allow-plain-http: \"true\"");
    assert!(kubectl_create(&source, &consented).0);
    let status = pair_status(&source, "plain-ok", &stork, |s| s.scheduler_status == S::Error).await;
    assert!(
        !scheduler_message(&status).contains("is plain http://"),
        "consent lifts the refusal: {}",
        scheduler_message(&status)
    );

    // insecure-skip-tls-verify is honoured and reported (condition and warning event).
    let skip = "        insecure-skip-tls-verify: true\n";
    assert!(kubectl_create(&source, &pair_yaml("unverified", &server, skip, &token, "", "")).0);
    let status = pair_status(&source, "unverified", &stork, |s| s.scheduler_status == S::Ready).await;
    let tls = status.conditions.iter().find(|c| c.type_ == "TLSVerified").expect("TLS condition");
    assert_eq!((tls.status.as_str(), tls.reason.as_str()), ("False", "InsecureSkipTLSVerify"), "{tls:?}");
    let (ok, events) = kubectl(&source, &["get", "events", "-A", "-o", "json"]);
    assert!(ok && events.contains("InsecureSkipTLSVerify"), "{events}");

    // The token is nowhere but in the pairs' own spec.
    let (_, metrics) = stork.get("/metrics").expect("metrics");
    let log = stork.proc.log_tail(1_000_000);
    let (ok, statuses) =
        kubectl(&source, &["get", "clusterpairs,migrations", "-A", "-o", "jsonpath={.items[*].status}"]);
    assert!(ok, "{statuses}");
    let (ok, details) =
        kubectl(&source, &["get", "configmaps", "-A", "-l", "stork.libopenstorage.org/migration", "-o", "json"]);
    assert!(ok, "{details}");
    let (ok, destination_events) = kubectl(&destination, &["get", "events", "-A", "-o", "json"]);
    assert!(ok, "{destination_events}");
    for (place, text) in [
        ("log", &log),
        ("events", &events),
        ("statuses", &statuses),
        ("metrics", &metrics),
        ("details", &details),
        ("destination events", &destination_events),
    ] {
        assert!(!text.contains(&token), "the pair's token appears in the {place}");
        assert!(!text.contains(&token[token.len() - 24..]), "a piece of the pair's token appears in the {place}");
    }
    assert!(log.contains("checked ClusterPair"), "the log was read: {log}");
}
