//! Which requests the fault proxy answers itself, and how often.

use std::sync::Mutex;

use http::Method;

/// An HTTP error the [`FaultProxy`](super::FaultProxy) returns instead of forwarding, for the next
/// `times` requests that match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Empty: any method.
    pub methods: Vec<Method>,
    /// Matched against the path and query, e.g. `/configmaps` or `watch=true`; `None`: any path.
    pub path_contains: Option<String>,
    pub status: u16,
    /// Sent as `Retry-After` (and `details.retryAfterSeconds`), which clients may honour.
    pub retry_after_secs: Option<u64>,
    /// How many matching requests get this fault before it is used up.
    pub times: usize,
}

impl Fault {
    /// `status` for the next `times` requests of any method and path; narrow it with struct update
    /// syntax, e.g. `Fault { methods: vec![Method::POST], ..Fault::new(429, 2) }`.
    pub fn new(status: u16, times: usize) -> Self {
        Self { methods: Vec::new(), path_contains: None, status, retry_after_secs: None, times }
    }

    fn matches(&self, method: &Method, path_and_query: &str) -> bool {
        (self.methods.is_empty() || self.methods.contains(method))
            && self.path_contains.as_deref().is_none_or(|part| path_and_query.contains(part))
    }
}

/// The faults still to serve, first injected first consulted.
#[derive(Debug, Default)]
pub(crate) struct Rules(Mutex<Vec<Fault>>);

impl Rules {
    pub(crate) fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.lock().push(fault);
        }
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The fault this request gets, counting it against its `times`.
    pub(crate) fn take(&self, method: &Method, path_and_query: &str) -> Option<Fault> {
        let mut rules = self.lock();
        let index = rules.iter().position(|f| f.matches(method, path_and_query))?;
        let fault = rules[index].clone();
        rules[index].times -= 1;
        if rules[index].times == 0 {
            rules.remove(index);
        }
        Some(fault)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        // A panicking test thread must not turn every later request into a second panic.
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_is_served_exactly_times_and_only_to_matching_requests() {
        let rules = Rules::default();
        rules.inject(Fault {
            methods: vec![Method::POST],
            path_contains: Some("/configmaps".into()),
            ..Fault::new(429, 2)
        });
        assert!(rules.take(&Method::GET, "/api/v1/namespaces/a/configmaps").is_none());
        assert!(rules.take(&Method::POST, "/api/v1/namespaces/a/secrets").is_none());
        assert_eq!(rules.take(&Method::POST, "/api/v1/namespaces/a/configmaps").map(|f| f.status), Some(429));
        assert!(rules.take(&Method::POST, "/api/v1/namespaces/a/configmaps").is_some());
        assert!(rules.take(&Method::POST, "/api/v1/namespaces/a/configmaps").is_none());
    }

    #[test]
    fn earlier_faults_win_and_clear_removes_all() {
        let rules = Rules::default();
        rules.inject(Fault::new(503, 1));
        rules.inject(Fault::new(500, 5));
        assert_eq!(rules.take(&Method::GET, "/").map(|f| f.status), Some(503));
        assert_eq!(rules.take(&Method::GET, "/").map(|f| f.status), Some(500));
        rules.clear();
        assert!(rules.take(&Method::GET, "/").is_none());
    }
}
