//! `storkctl version`: this binary's version and, when the cluster answers, the version of the stork-rs
//! controller that holds the leader Lease there (published on the Lease by the controller itself).

use std::io::Write;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, ListParams};
use stork_kube::version::{LEASE_LABEL, LEASE_VERSION_ANNOTATION, VERSION};

use crate::cli::{GlobalArgs, VersionArgs};
use crate::client;

/// An unreachable cluster must not make `version` hang.
const DEADLINE: Duration = Duration::from_secs(10);

pub async fn run(global: &GlobalArgs, args: &VersionArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "Client Version: {VERSION}")?;
    if args.client {
        return Ok(());
    }
    for line in controller_lines(global).await {
        writeln!(out, "Controller Version: {line}")?;
    }
    Ok(())
}

async fn controller_lines(global: &GlobalArgs) -> Vec<String> {
    let client = match client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await {
        Ok(client) => client,
        Err(e) => return vec![format!("unknown ({e})")],
    };
    let api: Api<Lease> = Api::all(client);
    let params = ListParams::default().labels(&format!("{}={}", LEASE_LABEL.0, LEASE_LABEL.1));
    match tokio::time::timeout(DEADLINE, api.list(&params)).await {
        Err(_) => vec![format!("unknown (the cluster did not answer within {}s)", DEADLINE.as_secs())],
        Ok(Err(e)) => vec![format!("unknown (cannot list leader Leases: {})", client::api_text(&e))],
        Ok(Ok(list)) => describe(&list.items, Timestamp::now()),
    }
}

/// One line per stork-rs leader Lease found; a Lease not renewed within its duration means no controller
/// is leading there now.
fn describe(leases: &[Lease], now: Timestamp) -> Vec<String> {
    if leases.is_empty() {
        return vec![
            "unknown (no stork-rs leader Lease found: is the controller running, with --leader-elect=true?)"
                .to_string(),
        ];
    }
    leases
        .iter()
        .map(|lease| {
            let version = lease.metadata.annotations.as_ref().and_then(|a| a.get(LEASE_VERSION_ANNOTATION));
            let version = version.map_or("unknown", String::as_str);
            let place = format!(
                "{}/{}",
                lease.metadata.namespace.as_deref().unwrap_or_default(),
                lease.metadata.name.as_deref().unwrap_or_default()
            );
            let spec = lease.spec.as_ref();
            let holder = spec.and_then(|s| s.holder_identity.as_deref()).filter(|h| !h.is_empty());
            let renewed = spec.and_then(|s| s.renew_time.as_ref()).map(|t| t.0);
            let seconds = spec.and_then(|s| s.lease_duration_seconds).unwrap_or(0);
            let fresh = renewed.is_some_and(|t| now.duration_since(t).as_secs() <= i64::from(seconds));
            match holder {
                Some(holder) if fresh => format!("{version} (leader {holder}, Lease {place})"),
                _ => format!("{version} (no replica leads now: Lease {place} has expired)"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

    fn lease(holder: &str, renewed: Timestamp) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some("stork-rs-controller".into()),
                namespace: Some("stork-system".into()),
                annotations: Some([(LEASE_VERSION_ANNOTATION.to_string(), "1.2.3".to_string())].into()),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(renewed)),
                lease_duration_seconds: Some(15),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_lease_renewed_within_its_duration_names_the_leader() {
        let now = Timestamp::now();
        let held = describe(&[lease("stork-0", now - jiff::SignedDuration::from_secs(5))], now);
        assert_eq!(held, ["1.2.3 (leader stork-0, Lease stork-system/stork-rs-controller)"]);
        let expired = describe(&[lease("stork-0", now - jiff::SignedDuration::from_secs(60))], now);
        assert_eq!(expired, ["1.2.3 (no replica leads now: Lease stork-system/stork-rs-controller has expired)"]);
        assert!(describe(&[], now)[0].starts_with("unknown (no stork-rs leader Lease found"));
    }
}
