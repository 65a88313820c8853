//! Timestamps as the API server stores them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Now, to the second: the API server stores times with second precision, and comparing a stored
/// status with a freshly computed one must not differ by sub-seconds.
pub fn now() -> Time {
    let now = k8s_openapi::jiff::Timestamp::now();
    Time(k8s_openapi::jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}

/// The time schedules fire by: the real clock, or, for tests, the RFC 3339 time written in a file
/// (`--fake-clock-file`), read again at every call so a test moves time by rewriting the file.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    fake: Option<std::path::PathBuf>,
}

impl Clock {
    pub fn new(fake: Option<std::path::PathBuf>) -> Self {
        Self { fake }
    }

    pub fn now(&self) -> k8s_openapi::jiff::Timestamp {
        let real = || k8s_openapi::jiff::Timestamp::from_second(k8s_openapi::jiff::Timestamp::now().as_second());
        let fake = self
            .fake
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| text.trim().parse().ok());
        match fake {
            Some(t) => t,
            None => real().unwrap_or_else(|_| k8s_openapi::jiff::Timestamp::now()),
        }
    }
}
