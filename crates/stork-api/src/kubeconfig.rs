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

/// Credentials for one user.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
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
