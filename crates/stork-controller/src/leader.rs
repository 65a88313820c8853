//! Leader election through a coordination.k8s.io Lease: only the holder runs controllers, so two
//! replicas never both write. A leader that loses its Lease — taken over, or no renewal confirmed in
//! time — stops at once and exits (and restarts as a follower).

use std::time::Duration;

use anyhow::Context as _;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

/// The Lease manager's grace: it renews once `duration - grace` has passed, i.e. after a third of the
/// Lease.
pub fn renewal_grace(lease_seconds: u64) -> u64 {
    (lease_seconds * 2 / 3).min(lease_seconds.saturating_sub(1))
}

/// How often the guard looks at the Lease, and how long before the Lease's expiry it gives up: a sixth
/// and a fifth of the Lease's duration, at least 200 ms each.
pub fn guard_timing(duration: Duration) -> (Duration, Duration) {
    let floor = Duration::from_millis(200);
    ((duration / 6).max(floor), (duration / 5).max(floor))
}

pub struct LeaseSettings {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_seconds: u64,
}

/// A held (or awaited) Lease.
pub struct Leadership {
    leading: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<Result<kube_lease_manager::LeaseManager, kube_lease_manager::LeaseManagerError>>,
}

impl Leadership {
    /// Starts competing for the Lease.
    pub async fn compete(client: kube::Client, settings: &LeaseSettings) -> anyhow::Result<Self> {
        // Renewed when a third of the Lease has run, so that a renewal slowed by a busy API server
        // still lands well before the guard's deadline (four fifths of the Lease; see `guard`).
        let grace = renewal_grace(settings.lease_seconds);
        let manager = LeaseManagerBuilder::new(client, &settings.name)
            .with_namespace(&settings.namespace)
            .with_identity(&settings.identity)
            .with_duration(settings.lease_seconds)
            .with_grace(grace)
            .with_field_manager("stork-rs-leader")
            .build()
            .await
            .with_context(|| {
                format!(
                    "cannot use Lease {}/{} for leader election (does namespace {} exist, and may the controller manage leases there?)",
                    settings.namespace, settings.name, settings.namespace
                )
            })?;
        let (leading, task) = manager.watch().await;
        Ok(Self { leading, task })
    }

    /// Resolves once this replica holds the Lease.
    pub async fn acquired(&mut self) -> anyhow::Result<()> {
        while !*self.leading.borrow_and_update() {
            self.leading.changed().await.context("leader election stopped")?;
        }
        Ok(())
    }

    /// A receiver that resolves when leadership is lost.
    pub fn lost_signal(&self) -> impl std::future::Future<Output = ()> + Send + Sync + 'static {
        let mut leading = self.leading.clone();
        async move {
            loop {
                if !*leading.borrow_and_update() {
                    return;
                }
                if leading.changed().await.is_err() {
                    return;
                }
            }
        }
    }

    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Marks the held Lease with this replica's version and stork-rs's label, so that `storkctl version`
    /// finds the running controller's version. Best effort: leading does not depend on it.
    pub async fn publish_version(client: kube::Client, settings: &LeaseSettings) {
        use k8s_openapi::api::coordination::v1::Lease;
        use stork_kube::version::{LEASE_LABEL, LEASE_VERSION_ANNOTATION, VERSION};
        let api: kube::Api<Lease> = kube::Api::namespaced(client, &settings.namespace);
        let patch = serde_json::json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "labels": { LEASE_LABEL.0: LEASE_LABEL.1 },
                "annotations": { LEASE_VERSION_ANNOTATION: VERSION },
            },
        });
        let params = kube::api::PatchParams::apply("stork-rs-version");
        let written = tokio::time::timeout(
            Duration::from_secs(10),
            api.patch(&settings.name, &params, &kube::api::Patch::Apply(&patch)),
        )
        .await;
        match written {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not mark the leader Lease with this controller's version"),
            Err(_) => tracing::warn!("timed out marking the leader Lease with this controller's version"),
        }
    }

    /// Resolves, with why, when this replica must consider its leadership lost, whatever the renewing
    /// task believes: the Lease names another holder or is gone, or no renewal could be confirmed for
    /// the Lease's duration minus a margin (the API server out of reach: another replica may already
    /// lead). Revokes `fence` first, so that a running migration stops before its next tier of writes.
    pub async fn guard(client: kube::Client, settings: &LeaseSettings, fence: stork_migrate::Fence) -> String {
        use k8s_openapi::api::coordination::v1::Lease;
        let api: kube::Api<Lease> = kube::Api::namespaced(client, &settings.namespace);
        let duration = Duration::from_secs(settings.lease_seconds.max(1));
        let (period, margin) = guard_timing(duration);
        let mut valid_until = std::time::Instant::now() + duration.saturating_sub(margin);
        let why = loop {
            let expiry = tokio::time::Instant::from_std(valid_until);
            // A look that hangs (the API server out of reach) must not delay giving up past the expiry.
            let look = tokio::select! {
                look = tokio::time::timeout(duration / 3, api.get_opt(&settings.name)) => Some(look),
                () = tokio::time::sleep_until(expiry) => None,
            };
            match look {
                Some(Ok(Ok(Some(lease)))) => {
                    let spec = lease.spec.unwrap_or_default();
                    if spec.holder_identity.as_deref() != Some(settings.identity.as_str()) {
                        break format!("Lease now held by {}", spec.holder_identity.as_deref().unwrap_or("nobody"));
                    }
                    if let Some(renewed) = spec.renew_time {
                        // Written by this replica with its own clock: the age is comparable.
                        let age = jiff::Timestamp::now().duration_since(renewed.0);
                        let age = Duration::try_from(age).unwrap_or_default();
                        valid_until = std::time::Instant::now() + duration.saturating_sub(age).saturating_sub(margin);
                    }
                }
                Some(Ok(Ok(None))) => break "Lease deleted".to_string(),
                // Out of reach or timing out: the last confirmed renewal still counts, until it expires.
                Some(Ok(Err(_)) | Err(_)) | None => {}
            }
            let now = std::time::Instant::now();
            if now >= valid_until {
                break format!("no renewal of the Lease confirmed within its {}s, less a margin", duration.as_secs());
            }
            tokio::time::sleep(period.min(valid_until - now)).await;
        };
        fence.revoke();
        why
    }

    /// Gives the Lease up so a follower takes over at once instead of waiting for it to expire.
    pub async fn release(self) {
        drop(self.leading);
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Ok(Ok(Ok(_))) => tracing::info!("released the leader Lease"),
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "could not release the leader Lease"),
            Ok(Err(e)) => tracing::warn!(error = %e, "leader election task failed"),
            Err(_) => tracing::warn!("timed out releasing the leader Lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_gives_up_well_before_the_lease_expires() {
        let (period, margin) = guard_timing(Duration::from_secs(15));
        assert_eq!((period, margin), (Duration::from_millis(2500), Duration::from_secs(3)));
        // Two looks fit before giving up, and giving up leaves the margin before another replica may lead.
        assert!(period * 2 < Duration::from_secs(15) - margin);
        assert_eq!(guard_timing(Duration::from_secs(1)), (Duration::from_millis(200), Duration::from_millis(200)));
        // Renewals come after a third of the Lease, long before the guard's deadline at four fifths.
        assert_eq!((renewal_grace(15), renewal_grace(3), renewal_grace(1)), (10, 2, 0));
        for seconds in [3u64, 15, 30] {
            let renewed_at = seconds - renewal_grace(seconds);
            let deadline = Duration::from_secs(seconds) - guard_timing(Duration::from_secs(seconds)).1;
            assert!(Duration::from_secs(renewed_at) * 2 <= deadline + Duration::from_millis(600), "{seconds}");
        }
    }
}
