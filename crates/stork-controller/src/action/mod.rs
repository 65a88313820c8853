//! Actions: a failover or failback, created on the destination (as Stork), run stage by stage with a
//! preflight first, each stage in status with its times, and a rollback when a stage fails.

pub mod controller;
mod flow;
mod reconcile;
mod record;
mod sides;
mod steps;

pub use steps::last_mile_name;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Request(#[from] stork_kube::RequestError),
    #[error("Action has no namespace")]
    NoNamespace,
}

impl crate::error_kind::Classify for Error {
    fn kind(&self) -> crate::error_kind::ErrorKind {
        match self {
            Self::Request(e) => e.kind(),
            Self::NoNamespace => crate::error_kind::ErrorKind::Invalid,
        }
    }
}
