//! Migrations: copying namespaces' resources to a paired cluster.

pub mod collect;
pub mod controller;
pub mod engine;
pub mod fetch;
pub mod fingerprint;
pub mod prepared;
pub mod ready;
pub mod resource_transform;
pub mod select;
pub mod status;
pub mod transform;
