//! Kubeconfig files for a cluster's users.

use base64::Engine as _;
use serde_json::json;

/// A kubeconfig (YAML) with one cluster, one user and one context named after the cluster.
pub fn render(cluster: &str, server: &str, ca_pem: &str, user: &str, cert_pem: &str, key_pem: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let context = format!("{user}@{cluster}");
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": b64(ca_pem)}}],
        "users": [{"name": user, "user": {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)}}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
    });
    serde_saphyr::to_string(&doc).unwrap_or_else(|_| doc.to_string())
}
