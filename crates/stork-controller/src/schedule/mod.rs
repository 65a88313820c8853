//! MigrationSchedules: Migrations created when a SchedulePolicy fires, kept as a series (every seventh
//! full, the policy's retain honoured), with a static copy on the destination.

pub mod continuous;
pub mod controller;
mod policies;
mod progress;
mod reconcile;
mod static_copy;

pub use policies::ensure_defaults;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API error: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Request(#[from] stork_kube::RequestError),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("MigrationSchedule has no namespace")]
    NoNamespace,
}

impl crate::error_kind::Classify for Error {
    fn kind(&self) -> crate::error_kind::ErrorKind {
        match self {
            Self::Kube(e) => e.kind(),
            Self::Request(e) => e.kind(),
            Self::Finalizer(e) => e.kind(),
            Self::NoNamespace => crate::error_kind::ErrorKind::Invalid,
        }
    }
}
