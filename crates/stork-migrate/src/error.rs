//! How a run fails: because of what was asked (terminal: the Migration ends `Failed` with the reason), or
//! because a cluster could not be reached or was busy just now (the run may be tried again).

use stork_kube::RequestError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// The migration as asked cannot run; trying again changes nothing.
    #[error("{0}")]
    Invalid(String),
    /// A request failed for a reason that may pass (connection refused, timeout, 429, 5xx).
    #[error("{0}")]
    Unavailable(RequestError),
    /// A request was refused for a reason that will not change by itself (forbidden, not found, ...).
    #[error("{0}")]
    Refused(RequestError),
    /// Something the migration needs is not ready yet and is expected to become so by itself (a
    /// ResourceTransformation not checked yet).
    #[error("{0}")]
    NotReady(String),
    #[error("internal error: {0}; this is a bug in stork-rs, please report it with the controller log")]
    Internal(String),
}

impl EngineError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::NotReady(_))
    }
}

impl From<RequestError> for EngineError {
    fn from(e: RequestError) -> Self {
        if e.is_transient() { Self::Unavailable(e) } else { Self::Refused(e) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn request_errors_keep_their_nature() {
        let timeout: EngineError =
            RequestError::timeout("destination", "listing configmaps", Duration::from_secs(5)).into();
        assert!(timeout.is_transient());
        let refused = RequestError {
            cluster: "destination",
            what: "applying configmaps shop/a".into(),
            code: Some(403),
            retry: stork_kube::Retry::Permanent,
            message: "forbidden".into(),
        };
        assert!(!EngineError::from(refused).is_transient());
        assert!(!EngineError::Invalid("x".into()).is_transient());
    }
}
