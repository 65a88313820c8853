//! Stork's Kubernetes API, group `stork.libopenstorage.org`, version `v1alpha1`, as Rust types.
//!
//! Field names, enum values and shapes follow Stork (libopenstorage/stork `pkg/apis/stork/v1alpha1`) so
//! that existing Stork YAML is accepted unchanged. The CRD manifests in `deploy/crds/` are generated from
//! these types by the `crdgen` binary; a test fails when they drift.

pub mod action;
pub mod annotations;
pub mod clusterpair;
pub mod crds;
pub mod kubeconfig;
pub mod migration;
pub mod migration_schedule;
pub mod resource_transformation;
pub mod schedule_policy;
mod schema;

pub use action::*;
pub use clusterpair::*;
pub use kubeconfig::*;
pub use migration::*;
pub use migration_schedule::*;
pub use resource_transformation::*;
pub use schedule_policy::*;

/// API group of every Stork resource.
pub const GROUP: &str = "stork.libopenstorage.org";
/// The one served and stored version.
pub const VERSION: &str = "v1alpha1";
/// `apiVersion` string of every Stork resource.
pub const API_VERSION: &str = "stork.libopenstorage.org/v1alpha1";
/// Finalizer Stork puts on ClusterPairs, Migrations, MigrationSchedules, Actions and transformations.
pub const FINALIZER: &str = "stork.libopenstorage.org/finalizer-cleanup";
