//! Leader election through a coordination.k8s.io Lease: only the holder runs controllers, so two
//! replicas never both write. A leader that loses its Lease exits (and restarts as a follower).

use std::time::Duration;

use anyhow::Context as _;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

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
        let grace = (settings.lease_seconds / 3).max(1);
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
