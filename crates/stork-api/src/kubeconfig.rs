//! The kubeconfig carried in `ClusterPair.spec.config`.
//!
//! Stork stores client-go's *internal* `clientcmd/api.Config`: clusters, users and contexts are maps
//! keyed by name (not the `- name:` lists of a kubeconfig file), certificate data is base64, and every
//! entry may carry a `LocationOfOrigin` key (a Go field without a JSON tag). All of it is accepted here.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::{base64_bytes, map_of_preserved_objects, preserve_unknown_object};

/// Kubeconfig in client-go's internal (map) form.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PairKubeconfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(rename = "apiVersion", default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Preferences>,
    #[serde(default)]
    pub clusters: BTreeMap<String, KubeCluster>,
    #[serde(default)]
    pub users: BTreeMap<String, KubeUser>,
    #[serde(default)]
    pub contexts: BTreeMap<String, KubeContext>,
    #[serde(rename = "current-context", default)]
    pub current_context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "map_of_preserved_objects")]
    pub extensions: Option<BTreeMap<String, Value>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Preferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "map_of_preserved_objects")]
    pub extensions: Option<BTreeMap<String, Value>>,
}

/// How to reach one API server.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KubeCluster {
    #[serde(rename = "LocationOfOrigin", default, skip_serializing_if = "Option::is_none")]
    pub location_of_origin: Option<String>,
    /// `https://host:port` of the API server.
    pub server: String,
    #[serde(rename = "tls-server-name", default, skip_serializing_if = "Option::is_none")]
    pub tls_server_name: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_tls_verify: Option<bool>,
    /// Path of a CA file on the machine that reads the kubeconfig.
    #[serde(rename = "certificate-authority", default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
    #[serde(rename = "certificate-authority-data", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "base64_bytes")]
    pub certificate_authority_data: Option<String>,
    #[serde(rename = "proxy-url", default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(rename = "disable-compression", default, skip_serializing_if = "Option::is_none")]
    pub disable_compression: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "map_of_preserved_objects")]
    pub extensions: Option<BTreeMap<String, Value>>,
}

/// Impersonation fields: their name in a kubeconfig file, and in the map form (client-go's internal
/// `AuthInfo` JSON tags, which Stork stores). Renamed both ways, never dropped.
pub const IMPERSONATION_FIELDS: [(&str, &str); 4] = [
    ("as", "act-as"),
    ("as-uid", "act-as-uid"),
    ("as-groups", "act-as-groups"),
    ("as-user-extra", "act-as-user-extra"),
];

/// Credentials for one user.
// `Debug` is written by hand below: it redacts the secrets (token, password, client key), so that no
// log line can carry them.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq, JsonSchema)]
pub struct KubeUser {
    #[serde(rename = "LocationOfOrigin", default, skip_serializing_if = "Option::is_none")]
    pub location_of_origin: Option<String>,
    #[serde(rename = "client-certificate", default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<String>,
    #[serde(rename = "client-certificate-data", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "base64_bytes")]
    pub client_certificate_data: Option<String>,
    #[serde(rename = "client-key", default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    #[serde(rename = "client-key-data", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "base64_bytes")]
    pub client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(rename = "tokenFile", default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
    #[serde(rename = "act-as", default, skip_serializing_if = "Option::is_none")]
    pub act_as: Option<String>,
    #[serde(rename = "act-as-uid", default, skip_serializing_if = "Option::is_none")]
    pub act_as_uid: Option<String>,
    #[serde(rename = "act-as-groups", default, skip_serializing_if = "Option::is_none")]
    pub act_as_groups: Option<Vec<String>>,
    #[serde(rename = "act-as-user-extra", default, skip_serializing_if = "Option::is_none")]
    pub act_as_user_extra: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Kept so that such pairs are admitted and then refused with a clear status.
    #[serde(rename = "auth-provider", default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub auth_provider: Option<Value>,
    /// Kept so that such pairs are admitted and then refused with a clear status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub exec: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "map_of_preserved_objects")]
    pub extensions: Option<BTreeMap<String, Value>>,
}

impl std::fmt::Debug for KubeUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("KubeUser")
            .field("client_certificate_data", &self.client_certificate_data.as_ref().map(|_| "<present>"))
            .field("client_key_data", &redacted(&self.client_key_data))
            .field("token", &redacted(&self.token))
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("act_as", &self.act_as)
            .field("act_as_uid", &self.act_as_uid)
            .field("act_as_groups", &self.act_as_groups)
            .field("exec", &self.exec.as_ref().map(|_| "<present>"))
            .field("auth_provider", &self.auth_provider.as_ref().map(|_| "<present>"))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_output_never_shows_a_secret() {
        let user = super::KubeUser {
            token: Some("tok-3f9a".into()),
            password: Some("pw-77".into()),
            client_key_data: Some("a2V5LWRhdGE=".into()),
            username: Some("admin".into()),
            ..Default::default()
        };
        let text = format!("{user:?} {:#?}", Some(&user));
        for secret in ["tok-3f9a", "pw-77", "a2V5LWRhdGE="] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("admin") && text.contains("<redacted>"), "{text}");
    }
}

/// A (cluster, user, namespace) triple.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct KubeContext {
    #[serde(rename = "LocationOfOrigin", default, skip_serializing_if = "Option::is_none")]
    pub location_of_origin: Option<String>,
    pub cluster: String,
    #[serde(default)]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "map_of_preserved_objects")]
    pub extensions: Option<BTreeMap<String, Value>>,
}
