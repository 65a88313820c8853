//! Timestamps as the API server stores them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Now, to the second: the API server stores times with second precision, and comparing a stored
/// status with a freshly computed one must not differ by sub-seconds.
pub fn now() -> Time {
    let now = k8s_openapi::jiff::Timestamp::now();
    Time(k8s_openapi::jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}
