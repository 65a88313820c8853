//! What a Migration resolves to on the source before it runs: its namespaces and its
//! ResourceTransformation rules. Missing or malformed ones are invalid (terminal); a source that cannot
//! be read just now is not.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use stork_api::{MigrationSpec, ResourceTransformation, TransformSpec};
use stork_kube::Cluster;

use crate::core::rules;
use crate::error::EngineError;

/// The namespaces a Migration covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub namespaces: BTreeSet<String>,
    /// How many namespaces the source has.
    pub cluster_namespaces: usize,
}

/// `namespaces` (existing ones; missing ones fail unless skipDeletedNamespaces) ∪ each selector's matches.
pub async fn resolve_namespaces(source: &Cluster, spec: &MigrationSpec) -> Result<Resolved, EngineError> {
    let api: Api<Namespace> = Api::all(source.client().clone());
    let listed = source.within("listing namespaces".to_string(), api.list_metadata(&ListParams::default())).await?;
    let existing: BTreeSet<String> = listed.items.into_iter().filter_map(|n| n.metadata.name).collect();
    let mut out = BTreeSet::new();
    for ns in &spec.namespaces {
        if existing.contains(ns) {
            out.insert(ns.clone());
        } else if spec.skip_deleted_namespaces != Some(false) {
            tracing::info!(namespace = %ns, "skipping missing namespace (skipDeletedNamespaces)");
        } else {
            return Err(EngineError::Invalid(format!("error getting namespace {ns}: namespaces \"{ns}\" not found")));
        }
    }
    for (k, v) in &spec.namespace_selectors {
        let params = ListParams::default().labels(&format!("{k}={v}"));
        let what = || format!("listing namespaces with {k}={v}");
        let matching = source.within(what(), api.list_metadata(&params)).await?;
        out.extend(matching.items.into_iter().filter_map(|n| n.metadata.name));
    }
    if out.is_empty() {
        return Err(EngineError::Invalid(
            "no valid namespace found based on the provided 'Namespaces' and 'NamespaceSelectors'".to_string(),
        ));
    }
    Ok(Resolved { namespaces: out, cluster_namespaces: existing.len() })
}

/// What identifies the source cluster in writer marks: the UID of its `kube-system` namespace, which
/// every cluster has and which never changes while the cluster lives.
pub async fn cluster_id(source: &Cluster) -> Result<String, EngineError> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(source.client().clone());
    let namespace = source.within("reading namespace kube-system".to_string(), api.get_opt("kube-system")).await?;
    namespace
        .and_then(|ns| ns.metadata.uid)
        .ok_or_else(|| EngineError::Invalid("the source cluster has no kube-system namespace to identify it by".into()))
}

/// The rules of ResourceTransformation `name` in `home` (the Migration's namespace), applied to every
/// migrated namespace; it must have been checked Ready by the controller for its current spec. (Stork
/// reads one from each migrated namespace; for a tenant's Migration, which migrates only its own
/// namespace, that is the same.)
pub async fn load_rules(
    source: &Cluster,
    home: &str,
    name: &str,
    namespaces: &BTreeSet<String>,
) -> Result<HashMap<String, Vec<TransformSpec>>, EngineError> {
    // From the Migration's own namespace only: a tenant must not be able to shape, with a transformation
    // of the same name in its namespace, what an admin's Migration writes with admin credentials.
    let api: Api<ResourceTransformation> = Api::namespaced(source.client().clone(), home);
    let what = format!("reading ResourceTransformation {home}/{name}");
    let Some(rt) = source.within(what, api.get_opt(name)).await? else {
        return Err(EngineError::Invalid(format!(
            "ResourceTransformation {name} not found in namespace {home} (spec.transformSpecs names a \
             ResourceTransformation in the Migration's own namespace)"
        )));
    };
    usable(&rt)?;
    let specs = rt.spec.specs.transform_specs;
    rules::validate(&specs).map_err(|e| EngineError::Invalid(format!("ResourceTransformation {home}/{name}: {e}")))?;
    Ok(namespaces.iter().map(|ns| (ns.clone(), specs.clone())).collect())
}

/// A transformation is used only once checked Ready for its current spec: Failed is final (Stork's
/// message, with the check's reason); not checked yet (or changed since) is waited for.
pub fn usable(rt: &ResourceTransformation) -> Result<(), EngineError> {
    if rt.is_ready() {
        return Ok(());
    }
    let ns = rt.metadata.namespace.as_deref().unwrap_or_default();
    let name = rt.metadata.name.as_deref().unwrap_or_default();
    let status = rt.status.clone().unwrap_or_default();
    if status.status == stork_api::ResourceTransformationStatusType::Failed
        && status.observed_generation.is_none_or(|g| Some(g) == rt.metadata.generation)
    {
        let reason = if status.reason.is_empty() { String::new() } else { format!(": {}", status.reason) };
        return Err(EngineError::Invalid(format!(
            "transformation {ns}/{name} is not in ready state, state: Failed{reason}"
        )));
    }
    Err(EngineError::NotReady(format!(
        "transformation {ns}/{name} is not checked yet (state: {}); the stork controller checks it",
        if status.status.as_str().is_empty() { "none" } else { status.status.as_str() }
    )))
}
