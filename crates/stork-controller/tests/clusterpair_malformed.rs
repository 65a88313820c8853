//! Malformed ClusterPairs: each is rejected at admission with a message naming the field, or admitted
//! and then reported as Error with a message naming the problem, while the controller keeps serving a
//! good pair created after all of them.

mod common;

use std::time::Duration;

use common::*;
use kube::api::Api;
use stork_api::{ClusterPair, ClusterPairStatusType as S};
use testenv::TestCluster;

/// The seed renamed, with `edit` applied to its text.
fn variant(seed: &str, name: &str, edit: impl Fn(&str) -> String) -> String {
    edit(&seed.replace("name: remotecluster", &format!("name: {name}")))
}

/// Replaces the line containing `needle` with `line` (same indentation as the original).
fn replace_line(yaml: &str, needle: &str, line: &str) -> String {
    yaml.lines()
        .filter_map(|l| {
            if l.contains(needle) {
                let indent = &l[..l.len() - l.trim_start().len()];
                if line.is_empty() { None } else { Some(format!("{indent}{line}")) }
            } else {
                Some(l.to_string())
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_pairs_are_rejected_or_reported_and_the_controller_keeps_serving() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &[]);
    kubectl(&source, &["create", "namespace", "migrationnamespace"]);
    let seed = seed_with_admin(&destination);

    // Rejected at admission by the CRD schema, each message naming the field.
    let rejected: Vec<(&str, String, &str)> = vec![
        ("bad-ca-base64", replace_line(&seed, "certificate-authority-data", "certificate-authority-data: '***not base64***'"), "spec.config.clusters.kubernetes.certificate-authority-data"),
        ("bad-key-base64", replace_line(&seed, "client-key-data", "client-key-data: 'ab$%'"), "spec.config.users.kubernetes-admin.client-key-data"),
        ("missing-server", replace_line(&seed, "server:", ""), "spec.config.clusters.kubernetes.server: Required value"),
        ("mode-not-string", replace_line(&seed, "mode: DisasterRecovery", "mode: 5"), "spec.options.mode"),
        ("clusters-as-list", seed.replace("      clusters:\n         kubernetes:\n", "      clusters:\n       - name: kubernetes\n         cluster:\n"), "spec.config.clusters"),
        ("skip-verify-not-bool", replace_line(&seed, "server:", &format!("server: {}\n            insecure-skip-tls-verify: \"yes\"", destination.server_url())), "spec.config.clusters.kubernetes.insecure-skip-tls-verify"),
        ("context-without-cluster", replace_line(&seed, "cluster: kubernetes", ""), "spec.config.contexts.kubernetes-admin@kubernetes.cluster: Required value"),
        ("no-config", "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: ClusterPair\nmetadata:\n  name: x\n  namespace: migrationnamespace\nspec:\n  options: {}\n".to_string(), "spec.config: Required value"),
    ];
    for (name, yaml, field) in &rejected {
        let yaml = variant(yaml, name, |y| y.to_string());
        let (ok, out) = kubectl_create(&source, &yaml);
        assert!(!ok, "{name}: must be rejected at admission, got: {out}");
        assert!(out.contains(field), "{name}: the error must name {field}: {out}");
    }

    // Admitted, then Error with a message naming the problem.
    let source_ca = base64_of(&source.pki().serving_ca_pem);
    let reported: Vec<(&str, String, &str)> = vec![
        (
            "unknown-context",
            replace_line(&seed, "current-context:", "current-context: nowhere"),
            "spec.config.current-context \"nowhere\" is not in spec.config.contexts",
        ),
        (
            "empty-context",
            replace_line(&seed, "current-context:", "current-context: \"\""),
            "spec.config.current-context is empty",
        ),
        (
            "unknown-cluster",
            replace_line(&seed, "cluster: kubernetes", "cluster: elsewhere"),
            "spec.config.contexts.kubernetes-admin@kubernetes.cluster \"elsewhere\" is not in spec.config.clusters",
        ),
        (
            "unknown-user",
            replace_line(&seed, "user: kubernetes-admin", "user: ghost"),
            "spec.config.contexts.kubernetes-admin@kubernetes.user \"ghost\" is not in spec.config.users",
        ),
        (
            "exec-user",
            replace_line(&seed, "client-key-data", "exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}"),
            "spec.config.users.kubernetes-admin.exec is refused",
        ),
        (
            "auth-provider-user",
            replace_line(&seed, "client-key-data", "auth-provider: {name: gcp, config: {cmd-path: /usr/bin/gcloud}}"),
            "spec.config.users.kubernetes-admin.auth-provider is refused",
        ),
        (
            "server-not-url",
            replace_line(&seed, "server:", "server: \"not a url\""),
            "spec.config.clusters.kubernetes.server \"not a url\" is not a usable API server URL",
        ),
        (
            "token-file",
            replace_line(&seed, "client-key-data", "tokenFile: /var/run/secrets/token"),
            "spec.config.users.kubernetes-admin.tokenFile refers to the file",
        ),
        (
            "ca-file",
            replace_line(&seed, "certificate-authority-data", "certificate-authority: /etc/kubernetes/pki/ca.crt"),
            "certificate-authority refers to the file",
        ),
        (
            "cert-without-key",
            replace_line(&seed, "client-key-data", ""),
            "has client-certificate-data but not client-key-data",
        ),
        (
            "pem-garbage",
            replace_line(&seed, "client-key-data", &format!("client-key-data: {}", base64_of("not a pem key"))),
            "spec.config.users.kubernetes-admin.client-key-data does not hold PEM data",
        ),
        (
            "unreachable",
            replace_line(&seed, "server:", "server: https://127.0.0.1:1"),
            "destination https://127.0.0.1:1 is unreachable",
        ),
        (
            "wrong-ca",
            replace_line(&seed, "certificate-authority-data", &format!("certificate-authority-data: {source_ca}")),
            "TLS with destination",
        ),
    ];
    for (name, yaml, _) in &reported {
        let (ok, out) = kubectl_create(&source, &variant(yaml, name, |y| y.to_string()));
        assert!(ok, "{name}: must be admitted: {out}");
    }
    // Storage options without a storage driver: scheduler Ready, storage Error saying why.
    let storage = variant(&seed, "storage-without-driver", |y| {
        y.replace("mode: DisasterRecovery", "mode: DisasterRecovery\n       token: abc\n       ip: 10.0.0.1")
    });
    assert!(kubectl_create(&source, &storage).0);
    // A good pair created last is still served.
    assert!(kubectl_create(&source, &variant(&seed, "good", |y| y.to_string())).0);

    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), "migrationnamespace");
    for (name, _, expected) in &reported {
        let status =
            wait_status(&pairs, name, Duration::from_secs(60), &stork, |s| s.scheduler_status == S::Error).await;
        let message = scheduler_message(&status);
        assert!(message.contains(expected), "{name}: message must contain {expected:?}, got {message:?}");
    }
    let status = wait_status(&pairs, "storage-without-driver", Duration::from_secs(30), &stork, |s| {
        s.storage_status == S::Error && s.scheduler_status == S::Ready
    })
    .await;
    assert!(
        storage_message(&status).contains("without a storage driver") && storage_message(&status).contains("token, ip"),
        "{status:?}"
    );
    wait_status(&pairs, "good", Duration::from_secs(30), &stork, |s| {
        s.scheduler_status == S::Ready && s.storage_status == S::NotProvided
    })
    .await;

    // The controller is still alive and healthy after all of it.
    assert!(stork.get("/healthz").is_some_and(|(code, _)| code == 200), "{}", stork.log());
    assert_eq!(rejected.len() + reported.len() + 1, 22);
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}
