//! Turns a ClusterPair's `spec.config` into a client configuration for the destination, refusing what
//! must not run inside a controller and naming the offending field in every error.

use std::time::Duration;

use base64::Engine as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Map, Value, json};
use stork_api::PairKubeconfig;
use thiserror::Error;

use crate::error_chain;

/// Why a ClusterPair's kubeconfig cannot be used. Messages name the field and say what to do.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PairConfigError {
    #[error("spec.config.current-context is empty: set it to the context of the destination ({})", known_list(.0))]
    NoCurrentContext(Vec<String>),
    #[error("spec.config.current-context {name:?} is not in spec.config.contexts ({})", known_list(.known))]
    UnknownContext { name: String, known: Vec<String> },
    #[error("spec.config.contexts.{context}.cluster {cluster:?} is not in spec.config.clusters ({})", known_list(.known))]
    UnknownCluster { context: String, cluster: String, known: Vec<String> },
    #[error("spec.config.contexts.{context}.user {user:?} is not in spec.config.users ({})", known_list(.known))]
    UnknownUser { context: String, user: String, known: Vec<String> },
    #[error("spec.config.clusters.{cluster}.server {server:?} is not a usable API server URL: {reason}")]
    BadServer { cluster: String, server: String, reason: String },
    #[error(
        "spec.config.users.{user}.exec is refused: exec credential plugins would run a program inside the stork controller; \
         use a token or a client certificate of the destination instead"
    )]
    ExecRefused { user: String },
    #[error(
        "spec.config.users.{user}.auth-provider is refused: auth-provider plugins would run inside the stork controller; \
         use a token or a client certificate of the destination instead"
    )]
    AuthProviderRefused { user: String },
    #[error(
        "spec.config.{field} refers to the file {path:?}, which the controller does not read; \
         inline its content as {inline} (storkctl generate clusterpair does this)"
    )]
    FileReference { field: String, path: String, inline: String },
    #[error("spec.config.{field} is not valid base64: {reason}")]
    BadBase64 { field: String, reason: String },
    #[error("spec.config.{field} does not hold PEM data (base64 of a file starting with -----BEGIN ...)")]
    NotPem { field: String },
    #[error("spec.config.users.{user} has {present} but not {missing}: a client certificate needs both")]
    HalfClientCert { user: String, present: &'static str, missing: &'static str },
    #[error(
        "spec.config.clusters.{cluster}.server {server:?} is plain http://: the pair's credentials would cross the \
         network unencrypted; use https://, or annotate the ClusterPair with stork-rs.io/allow-plain-http=true to accept that"
    )]
    PlainHttp { cluster: String, server: String },
    #[error("spec.config cannot be used as a kubeconfig: {0}")]
    Unusable(String),
}

/// What a pair's owner allowed beyond the defaults, from the ClusterPair's annotations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairPolicy {
    /// See `stork_api::annotations::ALLOW_PLAIN_HTTP`.
    pub allow_plain_http: bool,
}

impl PairPolicy {
    pub fn of(annotations: &std::collections::BTreeMap<String, String>) -> Self {
        let allowed = annotations.get(stork_api::annotations::ALLOW_PLAIN_HTTP).is_some_and(|v| v == "true");
        Self { allow_plain_http: allowed }
    }
}

fn known_list(names: &[String]) -> String {
    if names.is_empty() { "none defined".to_string() } else { format!("known: {}", names.join(", ")) }
}

/// Limits for talking to a destination, so an unreachable one fails fast instead of hanging a reconcile.
#[derive(Debug, Clone, Copy)]
pub struct RemoteTimeouts {
    pub connect: Duration,
    pub read: Duration,
}

impl Default for RemoteTimeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(5), read: Duration::from_secs(15) }
    }
}

/// Validates the pair's kubeconfig and builds a client configuration for its `current-context`.
pub async fn client_config_for_pair(
    pair: &PairKubeconfig,
    policy: PairPolicy,
    timeouts: RemoteTimeouts,
) -> Result<kube::Config, PairConfigError> {
    validate(pair, policy)?;
    let kubeconfig = to_file_form(pair)?;
    let options = KubeConfigOptions { context: Some(pair.current_context.clone()), ..Default::default() };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| PairConfigError::Unusable(error_chain(&e)))?;
    config.connect_timeout = Some(timeouts.connect);
    config.read_timeout = Some(timeouts.read);
    config.write_timeout = Some(timeouts.read);
    Ok(config)
}

/// Checks references, refused credential kinds, file paths and base64, in the order a user would fix them.
pub fn validate(pair: &PairKubeconfig, policy: PairPolicy) -> Result<(), PairConfigError> {
    let names = |keys: Vec<&String>| keys.into_iter().cloned().collect::<Vec<_>>();
    if pair.current_context.is_empty() {
        return Err(PairConfigError::NoCurrentContext(names(pair.contexts.keys().collect())));
    }
    let context = pair.contexts.get(&pair.current_context).ok_or_else(|| PairConfigError::UnknownContext {
        name: pair.current_context.clone(),
        known: names(pair.contexts.keys().collect()),
    })?;
    let cluster = pair.clusters.get(&context.cluster).ok_or_else(|| PairConfigError::UnknownCluster {
        context: pair.current_context.clone(),
        cluster: context.cluster.clone(),
        known: names(pair.clusters.keys().collect()),
    })?;
    validate_server(&context.cluster, &cluster.server, policy)?;
    if let Some(path) = &cluster.certificate_authority {
        return Err(file_ref(
            format!("clusters.{}.certificate-authority", context.cluster),
            path,
            "certificate-authority-data",
        ));
    }
    if let Some(data) = &cluster.certificate_authority_data {
        check_base64(format!("clusters.{}.certificate-authority-data", context.cluster), data)?;
    }
    if context.user.is_empty() {
        return Ok(());
    }
    let user = pair.users.get(&context.user).ok_or_else(|| PairConfigError::UnknownUser {
        context: pair.current_context.clone(),
        user: context.user.clone(),
        known: names(pair.users.keys().collect()),
    })?;
    let user_name = &context.user;
    if user.exec.is_some() {
        return Err(PairConfigError::ExecRefused { user: user_name.clone() });
    }
    if user.auth_provider.is_some() {
        return Err(PairConfigError::AuthProviderRefused { user: user_name.clone() });
    }
    let file_fields = [
        ("client-certificate", &user.client_certificate, "client-certificate-data"),
        ("client-key", &user.client_key, "client-key-data"),
        ("tokenFile", &user.token_file, "token"),
    ];
    for (field, value, inline) in file_fields {
        if let Some(path) = value {
            return Err(file_ref(format!("users.{user_name}.{field}"), path, inline));
        }
    }
    for (field, value) in
        [("client-certificate-data", &user.client_certificate_data), ("client-key-data", &user.client_key_data)]
    {
        if let Some(data) = value {
            check_base64(format!("users.{user_name}.{field}"), data)?;
        }
    }
    match (&user.client_certificate_data, &user.client_key_data) {
        (Some(_), None) => Err(PairConfigError::HalfClientCert {
            user: user_name.clone(),
            present: "client-certificate-data",
            missing: "client-key-data",
        }),
        (None, Some(_)) => Err(PairConfigError::HalfClientCert {
            user: user_name.clone(),
            present: "client-key-data",
            missing: "client-certificate-data",
        }),
        _ => Ok(()),
    }
}

fn validate_server(cluster: &str, server: &str, policy: PairPolicy) -> Result<(), PairConfigError> {
    let bad = |reason: &str| PairConfigError::BadServer {
        cluster: cluster.to_string(),
        server: server.to_string(),
        reason: reason.to_string(),
    };
    if server.trim().is_empty() {
        return Err(bad("it is empty"));
    }
    let uri: http::Uri = server.parse().map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if policy.allow_plain_http => {}
        Some("http") => {
            return Err(PairConfigError::PlainHttp { cluster: cluster.to_string(), server: server.to_string() });
        }
        _ => return Err(bad("it must start with https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    Ok(())
}

fn file_ref(field: String, path: &str, inline: &str) -> PairConfigError {
    PairConfigError::FileReference { field, path: path.to_string(), inline: inline.to_string() }
}

/// Certificate and key data must be base64 of PEM text.
fn check_base64(field: String, data: &str) -> Result<(), PairConfigError> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| PairConfigError::BadBase64 { field: field.clone(), reason: e.to_string() })?;
    if !String::from_utf8_lossy(&decoded).contains("-----BEGIN ") {
        return Err(PairConfigError::NotPem { field });
    }
    Ok(())
}

/// The map form re-shaped as a kubeconfig file (`- name:` lists), without `LocationOfOrigin`.
pub fn to_file_form(pair: &PairKubeconfig) -> Result<Kubeconfig, PairConfigError> {
    let named = |kind: &str, entries: Value| -> Value {
        let Value::Object(map) = entries else {
            return Value::Array(vec![]);
        };
        Value::Array(
            map.into_iter()
                .map(|(name, mut entry)| {
                    if let Value::Object(fields) = &mut entry {
                        fields.remove("LocationOfOrigin");
                    }
                    json!({ "name": name, kind: entry })
                })
                .collect(),
        )
    };
    let unusable = |e: serde_json::Error| PairConfigError::Unusable(e.to_string());
    let mut file = Map::new();
    file.insert("apiVersion".into(), json!("v1"));
    file.insert("kind".into(), json!("Config"));
    file.insert("clusters".into(), named("cluster", serde_json::to_value(&pair.clusters).map_err(unusable)?));
    let mut users = serde_json::to_value(&pair.users).map_err(unusable)?;
    // The map form's `act-as` ... are a kubeconfig file's `as` ...: renamed so that kube impersonates.
    if let Value::Object(users) = &mut users {
        for user in users.values_mut().filter_map(Value::as_object_mut) {
            for (file_key, map_key) in stork_api::kubeconfig::IMPERSONATION_FIELDS {
                if let Some(value) = user.remove(map_key) {
                    user.insert(file_key.to_string(), value);
                }
            }
        }
    }
    file.insert("users".into(), named("user", users));
    file.insert("contexts".into(), named("context", serde_json::to_value(&pair.contexts).map_err(unusable)?));
    file.insert("current-context".into(), json!(pair.current_context));
    serde_json::from_value(Value::Object(file)).map_err(|e| PairConfigError::Unusable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stork_api::{KubeCluster, KubeContext, KubeUser};

    fn pair() -> PairKubeconfig {
        let mut p = PairKubeconfig { current_context: "ctx".into(), ..Default::default() };
        p.clusters.insert(
            "c".into(),
            KubeCluster {
                server: "https://127.0.0.1:6443".into(),
                location_of_origin: Some("/etc/kubernetes/admin.conf".into()),
                ..Default::default()
            },
        );
        p.users.insert("u".into(), KubeUser { token: Some("abc".into()), ..Default::default() });
        p.contexts.insert("ctx".into(), KubeContext { cluster: "c".into(), user: "u".into(), ..Default::default() });
        p
    }

    #[test]
    fn a_complete_pair_validates_and_converts() {
        let p = pair();
        validate(&p, PairPolicy::default()).expect("valid");
        let file = to_file_form(&p).expect("converts");
        assert_eq!(file.clusters[0].name, "c");
        assert_eq!(file.clusters[0].cluster.as_ref().and_then(|c| c.server.as_deref()), Some("https://127.0.0.1:6443"));
        assert!(
            file.clusters[0].other.is_empty() && file.clusters[0].cluster.as_ref().is_some_and(|c| c.other.is_empty())
        );
        assert_eq!(file.current_context.as_deref(), Some("ctx"));
    }

    #[test]
    fn impersonation_fields_reach_the_client_and_plain_http_needs_the_pairs_consent() {
        let mut p = pair();
        let user = p.users.get_mut("u").expect("u");
        user.act_as = Some("weak-user".into());
        user.act_as_groups = Some(vec!["readers".into()]);
        user.act_as_uid = Some("1234".into());
        let file = to_file_form(&p).expect("converts");
        let auth = file.auth_infos[0].auth_info.as_ref().expect("user");
        assert_eq!(auth.impersonate.as_deref(), Some("weak-user"));
        assert_eq!(auth.impersonate_groups.as_deref(), Some(&["readers".to_string()][..]));
        assert_eq!(auth.impersonate_uid.as_deref(), Some("1234"));

        let mut p = pair();
        p.clusters.get_mut("c").expect("c").server = "http://10.0.0.1:8080".into();
        let refused = validate(&p, PairPolicy::default()).unwrap_err().to_string();
        assert!(
            refused.contains("is plain http://") && refused.contains("stork-rs.io/allow-plain-http=true"),
            "{refused}"
        );
        let consent = std::collections::BTreeMap::from([(
            stork_api::annotations::ALLOW_PLAIN_HTTP.to_string(),
            "true".to_string(),
        )]);
        validate(&p, PairPolicy::of(&consent)).expect("allowed by the annotation");
    }

    #[test]
    fn each_broken_reference_names_its_field() {
        let mut p = pair();
        p.current_context = "missing".into();
        assert!(
            validate(&p, PairPolicy::default())
                .unwrap_err()
                .to_string()
                .starts_with("spec.config.current-context \"missing\"")
        );

        let mut p = pair();
        p.contexts.get_mut("ctx").expect("ctx").cluster = "nope".into();
        assert!(
            validate(&p, PairPolicy::default())
                .unwrap_err()
                .to_string()
                .contains("spec.config.contexts.ctx.cluster \"nope\"")
        );

        let mut p = pair();
        p.clusters.get_mut("c").expect("c").server = "127.0.0.1:6443".into();
        let msg = validate(&p, PairPolicy::default()).unwrap_err().to_string();
        assert!(msg.contains("spec.config.clusters.c.server"), "{msg}");

        let mut p = pair();
        p.users.get_mut("u").expect("u").exec = Some(json!({"command": "aws"}));
        assert!(
            validate(&p, PairPolicy::default())
                .unwrap_err()
                .to_string()
                .contains("spec.config.users.u.exec is refused")
        );

        let mut p = pair();
        p.users.get_mut("u").expect("u").token_file = Some("/var/run/token".into());
        assert!(validate(&p, PairPolicy::default()).unwrap_err().to_string().contains("inline its content as token"));

        let mut p = pair();
        p.users.get_mut("u").expect("u").client_key_data = Some("not base64!".into());
        assert!(
            validate(&p, PairPolicy::default())
                .unwrap_err()
                .to_string()
                .contains("users.u.client-key-data is not valid base64")
        );
    }
}
