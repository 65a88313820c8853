//! Migrations: the controller that runs the engine for each Migration and reports on it.

pub(crate) mod attempt;
pub mod controller;
mod retry;
mod status;

pub use status::details_name;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API error: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Request(#[from] stork_kube::RequestError),
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("Migration has no namespace")]
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
