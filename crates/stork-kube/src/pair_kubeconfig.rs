//! Builds a ClusterPair's `spec.config` from a kubeconfig file the way `storkctl generate clusterpair`
//! does: only the current context with its cluster and user, file references inlined.

use std::path::Path;

use base64::Engine as _;
use kube::config::Kubeconfig;
use serde_json::Value;
use stork_api::{KubeCluster, KubeContext, KubeUser, PairKubeconfig, Preferences};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FlattenError {
    #[error("the kubeconfig has no current-context; pass --context or set one with kubectl config use-context")]
    NoContext,
    #[error("context {0:?} not found in the kubeconfig")]
    UnknownContext(String),
    #[error("cluster {0:?} (of the current context) not found in the kubeconfig")]
    UnknownCluster(String),
    #[error("user {0:?} (of the current context) not found in the kubeconfig")]
    UnknownUser(String),
    #[error("cannot read {what} file {path}: {source}")]
    ReadFile { what: &'static str, path: String, source: std::io::Error },
    #[error("kubeconfig entry cannot be converted: {0}")]
    Convert(#[from] serde_json::Error),
}

/// Prunes `kubeconfig` to `context` (or its current context) and inlines every referenced file.
/// `origin` is recorded as `LocationOfOrigin`, as Stork does.
pub fn flatten_for_pair(
    kubeconfig: &Kubeconfig,
    context: Option<&str>,
    origin: Option<&Path>,
) -> Result<PairKubeconfig, FlattenError> {
    let context_name =
        context.map(str::to_string).or_else(|| kubeconfig.current_context.clone()).ok_or(FlattenError::NoContext)?;
    let named_context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .ok_or_else(|| FlattenError::UnknownContext(context_name.clone()))?;
    let ctx = named_context.context.clone().ok_or_else(|| FlattenError::UnknownContext(context_name.clone()))?;
    let location = origin.map(|p| p.display().to_string());

    let file_cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| FlattenError::UnknownCluster(ctx.cluster.clone()))?;
    let mut cluster: KubeCluster = serde_json::from_value(strip_other(serde_json::to_value(&file_cluster)?))?;
    cluster.location_of_origin = location.clone();
    if let Some(path) = cluster.certificate_authority.take() {
        cluster.certificate_authority_data = Some(read_base64("certificate-authority", &path)?);
    }

    let mut pair = PairKubeconfig {
        current_context: context_name.clone(),
        preferences: Some(Preferences::default()),
        ..Default::default()
    };
    let user_name = ctx.user.clone().unwrap_or_default();
    if !user_name.is_empty() {
        let file_user = kubeconfig
            .auth_infos
            .iter()
            .find(|u| u.name == user_name)
            .and_then(|u| u.auth_info.clone())
            .ok_or_else(|| FlattenError::UnknownUser(user_name.clone()))?;
        let mut user_json = strip_other(serde_json::to_value(&file_user)?);
        // `as:` and friends are named `act-as:` ... in the map form; never dropped on the way.
        if let Value::Object(fields) = &mut user_json {
            for (file_key, map_key) in stork_api::kubeconfig::IMPERSONATION_FIELDS {
                if let Some(value) = fields.remove(file_key) {
                    fields.insert(map_key.to_string(), value);
                }
            }
        }
        let mut user: KubeUser = serde_json::from_value(user_json)?;
        user.location_of_origin = location.clone();
        if let Some(path) = user.client_certificate.take() {
            user.client_certificate_data = Some(read_base64("client-certificate", &path)?);
        }
        if let Some(path) = user.client_key.take() {
            user.client_key_data = Some(read_base64("client-key", &path)?);
        }
        if let Some(path) = user.token_file.take() {
            let token = std::fs::read_to_string(&path).map_err(|source| FlattenError::ReadFile {
                what: "tokenFile",
                path: path.clone(),
                source,
            })?;
            user.token = Some(token.trim().to_string());
        }
        pair.users.insert(user_name.clone(), user);
    }
    pair.clusters.insert(ctx.cluster.clone(), cluster);
    pair.contexts.insert(
        context_name,
        KubeContext {
            location_of_origin: location,
            cluster: ctx.cluster,
            user: user_name,
            namespace: ctx.namespace,
            extensions: None,
        },
    );
    Ok(pair)
}

/// Drops null fields so optional entries stay absent in the map form.
fn strip_other(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

fn read_base64(what: &'static str, path: &str) -> Result<String, FlattenError> {
    let bytes =
        std::fs::read(path).map_err(|source| FlattenError::ReadFile { what, path: path.to_string(), source })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}
