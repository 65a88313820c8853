//! Proves a destination is usable: it answers `/version`, and the pair's credentials may create what a
//! migration creates there (SelfSubjectAccessReviews), so `Ready` means migrations can actually work.

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

use crate::remote::RemoteClient;

/// Why the destination is not usable, with a message for the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeFailure {
    /// PascalCase reason for the condition and events.
    pub reason: &'static str,
    pub message: String,
}

/// Permissions a migration needs on the destination: (verb, group, resource, what it is for).
const REQUIRED: &[(&str, &str, &str)] =
    &[("create", "", "namespaces"), ("create", "apps", "deployments"), ("patch", "apps", "deployments")];

const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Returns the destination's version (`v1.35.4`) when it is reachable and the credentials suffice.
pub async fn probe(remote: &RemoteClient) -> Result<String, ProbeFailure> {
    match tokio::time::timeout(PROBE_TIMEOUT, probe_inner(remote)).await {
        Ok(result) => result,
        Err(_) => Err(ProbeFailure {
            reason: "Unreachable",
            message: format!(
                "destination {} did not answer within {}s; check that its API server is running and reachable from the controller",
                remote.server,
                PROBE_TIMEOUT.as_secs()
            ),
        }),
    }
}

async fn probe_inner(remote: &RemoteClient) -> Result<String, ProbeFailure> {
    let version = remote.client.apiserver_version().await.map_err(|e| classify(remote, &e))?;
    let reviews: Api<SelfSubjectAccessReview> = Api::all(remote.client.clone());
    for (verb, group, resource) in REQUIRED {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some((*verb).to_string()),
                    group: Some((*group).to_string()),
                    resource: Some((*resource).to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = reviews.create(&PostParams::default(), &review).await.map_err(|e| classify(remote, &e))?;
        let status = answer.status.unwrap_or_default();
        if !status.allowed {
            let resource_name = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
            let why = status.reason.filter(|r| !r.is_empty()).map(|r| format!(" ({r})")).unwrap_or_default();
            return Err(ProbeFailure {
                reason: "Forbidden",
                message: format!(
                    "destination {} answers, but user {} may not {verb} {resource_name} there{why}; \
                     migrations need to create namespaces and workloads: bind the user to a role that allows it \
                     (e.g. cluster-admin) or put other credentials in spec.config",
                    remote.server, remote.user
                ),
            });
        }
    }
    Ok(version.git_version)
}

fn classify(remote: &RemoteClient, err: &kube::Error) -> ProbeFailure {
    let detail = stork_kube::error::message(err);
    if let kube::Error::Api(status) = err {
        if status.code == 401 {
            return ProbeFailure {
                reason: "Unauthorized",
                message: format!(
                    "destination {} rejected the credentials of user {} (401 Unauthorized): the client certificate or token in spec.config is not valid there",
                    remote.server, remote.user
                ),
            };
        }
        return ProbeFailure {
            reason: "DestinationError",
            message: format!("destination {} answered {} {}: {detail}", remote.server, status.code, status.reason),
        };
    }
    let lower = detail.to_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return ProbeFailure {
            reason: "TLSError",
            message: format!(
                "TLS with destination {} failed: {detail}; check certificate-authority-data (and the server name) in spec.config",
                remote.server
            ),
        };
    }
    ProbeFailure {
        reason: "Unreachable",
        message: format!(
            "destination {} is unreachable: {detail}; check that its API server is running and reachable from the controller",
            remote.server
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn remote() -> RemoteClient {
        let config = kube::Config::new("https://127.0.0.1:6443".parse().expect("url"));
        let client = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async { kube::Client::try_from(config) })
            .expect("client");
        RemoteClient {
            watcher: client.clone(),
            client,
            server: "https://127.0.0.1:6443".into(),
            user: "\"dr-admin\"".into(),
        }
    }

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Status::failure(message, reason).with_code(code).boxed())
    }

    #[test]
    fn failures_are_named_for_what_the_user_must_fix() {
        let remote = remote();
        let unauthorized = classify(&remote, &api(401, "Unauthorized", "Unauthorized"));
        assert_eq!(unauthorized.reason, "Unauthorized");
        assert!(unauthorized.message.contains("user \"dr-admin\""), "{}", unauthorized.message);
        let denied = classify(&remote, &api(503, "ServiceUnavailable", "etcdserver: leader changed"));
        assert_eq!(denied.reason, "DestinationError");
        assert!(denied.message.contains("503 ServiceUnavailable: etcdserver: leader changed"), "{}", denied.message);
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "tcp connect error: Connection refused");
        let unreachable = classify(&remote, &kube::Error::Service(Box::new(refused)));
        assert_eq!(unreachable.reason, "Unreachable");
        assert!(unreachable.message.contains("Connection refused"), "{}", unreachable.message);
        let tls = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        assert_eq!(classify(&remote, &kube::Error::Service(Box::new(tls))).reason, "TLSError");
    }

    #[test]
    fn an_error_page_from_a_proxy_is_not_echoed_whole() {
        let page = format!("<html><body><h1>502 Bad Gateway</h1>{}</body></html>", "x".repeat(20_000));
        let failure = classify(&remote(), &api(502, "", &page));
        assert!(failure.message.len() < 1_000, "{} bytes", failure.message.len());
        assert!(!failure.message.contains("<h1>"), "{}", failure.message);
    }
}
