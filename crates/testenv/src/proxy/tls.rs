//! rustls configurations built from testenv's PEM certificates.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Serves `cert_pem` over HTTP/1.1 only: the proxy speaks nothing else, and advertising h2 would make
/// clients pick it.
pub(crate) fn server(cert_pem: &str, key_pem: &str) -> anyhow::Result<Arc<ServerConfig>> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs(cert_pem)?, key(key_pem)?)
        .context("proxy serving certificate")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Trusts only `ca_pem` and authenticates with `cert_pem`, as the cluster's admin kubeconfig does.
pub(crate) fn client(ca_pem: &str, cert_pem: &str, key_pem: &str) -> anyhow::Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for ca in certs(ca_pem)? {
        roots.add(ca).context("cluster CA")?;
    }
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs(cert_pem)?, key(key_pem)?)
        .context("admin client certificate")
}

/// Explicitly ring, so the proxy works whether or not a process-wide provider was installed.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &str) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<_, _>>().context("parse certificate PEM")
}

fn key(pem: &str) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).context("parse private key PEM")
}
