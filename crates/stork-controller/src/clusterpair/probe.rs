//! Proves a destination is usable: it answers `/version`, and the pair's credentials may create what a
//! migration creates there (SelfSubjectAccessReviews), so `Ready` means migrations can actually work.

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

use stork_kube::error_chain;

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
                    "destination {} answers, but user {:?} may not {verb} {resource_name} there{why}; \
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
    let detail = error_chain(err);
    if let kube::Error::Api(status) = err {
        if status.code == 401 {
            return ProbeFailure {
                reason: "Unauthorized",
                message: format!(
                    "destination {} rejected the credentials of user {:?} (401 Unauthorized): the client certificate or token in spec.config is not valid there",
                    remote.server, remote.user
                ),
            };
        }
        return ProbeFailure {
            reason: "DestinationError",
            message: format!(
                "destination {} answered {} {}: {}",
                remote.server, status.code, status.reason, status.message
            ),
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
