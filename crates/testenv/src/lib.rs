//! Real Kubernetes control planes on loopback for tests and the demo.
//!
//! Each [`TestCluster`] is its own etcd + kube-apiserver (optionally kube-controller-manager) built from
//! upstream sources by `scripts/control-plane build`, with its own CA, serving certificate, admin client
//! certificate and service CIDR, so clusters distrust each other as real ones do. Processes are children
//! of the test and are ended by pid when the cluster is dropped; logs are kept when a test panics.
//!
//! Optionally a cluster keeps an audit log of every write ([`TestCluster::audit_writes`]), and
//! [`proxy`] puts misbehaving peers (connection- or HTTP-level faults) in front of its API server.

mod audit;
mod binaries;
mod cluster;
mod kubeconfig;
mod pki;
pub mod process;
pub mod proxy;
pub mod tools;

pub use audit::AuditWrite;
pub use binaries::Binaries;
pub use cluster::{ClusterOptions, Component, TestCluster, ensure_namespace};
pub use pki::Pki;

/// Installs the rustls crypto provider once; kube's TLS needs one and two would conflict.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
