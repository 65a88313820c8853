//! The version every stork-rs binary reports, and where a running controller publishes its own so that
//! `storkctl version` can show it.

/// The workspace version, stamped into each binary at build time.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Annotation on the leader-election Lease: the version of the replica holding it.
pub const LEASE_VERSION_ANNOTATION: &str = "stork-rs.io/controller-version";

/// Label on the leader-election Lease, so that clients find it in whatever namespace it was put.
pub const LEASE_LABEL: (&str, &str) = ("app.kubernetes.io/name", "stork-rs");
