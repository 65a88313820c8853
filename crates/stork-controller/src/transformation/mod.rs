//! ResourceTransformations: each one checked (rules, served kinds, a dry run of every object it
//! matches on the pairs' destinations) before a migration may use it, and again when its spec or a
//! pair of its namespace changes, and every few minutes for objects created since. Stork's status:
//! `Ready`, or `Failed` with the rule or object that failed and why.

pub mod controller;
mod reconcile;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Request(#[from] stork_kube::RequestError),
    #[error("{0}")]
    Engine(#[from] stork_migrate::EngineError),
    #[error("ResourceTransformation has no namespace")]
    NoNamespace,
}

impl crate::error_kind::Classify for Error {
    fn kind(&self) -> crate::error_kind::ErrorKind {
        match self {
            Self::Request(e) => e.kind(),
            Self::Engine(e) => e.kind(),
            Self::NoNamespace => crate::error_kind::ErrorKind::Invalid,
        }
    }
}
