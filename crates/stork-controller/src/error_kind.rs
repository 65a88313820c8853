//! What kind of failure ended a reconcile, for the `stork_reconcile_errors_total` metric: an operator
//! pages on `invalid` or `refused` (someone must change something) but only watches `transient`.

use kube::runtime::finalizer;
use stork_kube::RequestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A cluster unreachable, busy or timing out: the next try may succeed.
    Transient,
    /// An API server refused the request (forbidden, not found, conflict, invalid): it will not pass
    /// by itself.
    Refused,
    /// The object itself cannot be reconciled as written.
    Invalid,
    /// Anything else: a bug or an unexpected answer.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 4] = [Self::Transient, Self::Refused, Self::Invalid, Self::Internal];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Refused => "refused",
            Self::Invalid => "invalid",
            Self::Internal => "internal",
        }
    }
}

/// Implemented by each controller's error type.
pub trait Classify {
    fn kind(&self) -> ErrorKind;
}

impl Classify for kube::Error {
    fn kind(&self) -> ErrorKind {
        match stork_kube::error::classify(self) {
            stork_kube::Retry::Transient => ErrorKind::Transient,
            stork_kube::Retry::Permanent if matches!(self, kube::Error::Api(_)) => ErrorKind::Refused,
            stork_kube::Retry::Permanent => ErrorKind::Internal,
        }
    }
}

impl Classify for RequestError {
    fn kind(&self) -> ErrorKind {
        if self.is_transient() { ErrorKind::Transient } else { ErrorKind::Refused }
    }
}

impl Classify for stork_migrate::EngineError {
    fn kind(&self) -> ErrorKind {
        use stork_migrate::EngineError as E;
        match self {
            E::Unavailable(_) | E::NotReady(_) => ErrorKind::Transient,
            E::Refused(_) => ErrorKind::Refused,
            E::Invalid(_) => ErrorKind::Invalid,
            E::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl<E: Classify + std::error::Error + 'static> Classify for finalizer::Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e.kind(),
            finalizer::Error::AddFinalizer(e) | finalizer::Error::RemoveFinalizer(e) => e.kind(),
            finalizer::Error::UnnamedObject | finalizer::Error::InvalidFinalizer => ErrorKind::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(kube::core::Status::failure("refused", "").with_code(code).boxed())
    }

    #[test]
    fn busy_servers_are_transient_and_refusals_are_not() {
        assert_eq!(api(429).kind(), ErrorKind::Transient);
        assert_eq!(api(503).kind(), ErrorKind::Transient);
        assert_eq!(api(403).kind(), ErrorKind::Refused);
        let invalid = stork_migrate::EngineError::Invalid("bad selector".into());
        assert_eq!(invalid.kind(), ErrorKind::Invalid);
        let wrapped: finalizer::Error<stork_migrate::EngineError> = finalizer::Error::ApplyFailed(invalid);
        assert_eq!(wrapped.kind(), ErrorKind::Invalid);
    }
}
