//! Checking a ResourceTransformation before a migration may use it: its rules (pure,
//! [`crate::core::rules`]), the kinds they name against what the source serves, and every object they
//! match, prepared as a migration would prepare it, by a server-side dry run on the clusters it would be
//! written to — so that the destination's own admission decides.

use std::collections::{BTreeMap, HashMap};

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use stork_api::annotations::FIELD_MANAGER;
use stork_api::{
    MigrationSpec, ResourceTransformation, ResourceTransformationStatus, ResourceTransformationStatusType as State,
    TransformedResourceInfo,
};
use stork_kube::Cluster;
use stork_kube::dynamic::ServedType;

use crate::core::model::TypeKey;
use crate::core::prepare::Preparer;
use crate::core::rules;
use crate::error::EngineError;

/// Where a destination without the namespace yet checks the objects (the write a migration makes there
/// first, the namespace, cannot be dry-run with them).
const STAND_IN: &str = "default";

/// Objects checked per transformation at most; the status says when more matched.
pub const CHECKED_AT_MOST: usize = 500;

/// A cluster the transformed objects would be written to, named for the status.
pub struct Target {
    /// `ClusterPair <name>`, or `the source cluster`.
    pub name: String,
    pub cluster: Cluster,
}

/// The status the transformation earns: `Ready` when every rule is well formed, every kind is served and
/// every matching object passes the dry run; `Failed` with the reason otherwise. `targets` are the
/// destinations of the pairs in its namespace that could be reached (without any, the rules are applied
/// but nothing is dry-run; the source is never written to, not even in a dry run, which would need write
/// rights there); a destination without the namespace yet checks the objects in its `default`
/// namespace. An error is a cluster that could not be asked (try again).
pub async fn check(
    source: &Cluster,
    targets: &[Target],
    rt: &ResourceTransformation,
) -> Result<ResourceTransformationStatus, EngineError> {
    let namespace = rt.metadata.namespace.clone().unwrap_or_default();
    let specs = &rt.spec.specs.transform_specs;
    let mut problems = rules::problems(specs);
    let served = source.discover().await?;
    let mut kinds = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let mut parts = spec.resource.splitn(3, '/');
        let (group, version, kind) =
            (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        match served.iter().find(|t| t.ar.group == group && t.ar.version == version && t.ar.kind == kind) {
            Some(t) if !t.namespaced => problems.push(format!(
                "transformSpecs[{i}].resource {}: cluster-scoped; a transformation changes objects of its own namespace",
                spec.resource
            )),
            Some(t) => kinds.push((t.clone(), spec.selectors.clone())),
            None if !kind.is_empty() => problems.push(format!(
                "transformSpecs[{i}].resource {}: the source cluster does not serve it{}",
                spec.resource,
                other_versions(&served, group, kind)
            )),
            None => {}
        }
    }
    if !problems.is_empty() {
        return Ok(failed(rt, problems.join("; "), Vec::new()));
    }

    let matching = matching_objects(source, &namespace, &kinds).await?;
    let truncated = matching.len() > CHECKED_AT_MOST;
    let untransformed: HashMap<String, Vec<stork_api::TransformSpec>> = HashMap::new();
    let spec = MigrationSpec::default();
    let preparer = Preparer::new(&spec, &untransformed, "");
    let mut resources = Vec::new();
    // Which destinations have the namespace yet (asked once, not per object).
    let mut present = Vec::with_capacity(targets.len());
    for target in targets {
        present.push(namespace_exists(&target.cluster, &namespace).await?);
    }
    let elsewhere: Vec<String> =
        targets.iter().zip(&present).filter(|(_, there)| !**there).map(|(t, _)| t.name.clone()).collect();
    for (ty, object) in matching.into_iter().take(CHECKED_AT_MOST) {
        let key = TypeKey::of(&ty.ar, ty.namespaced);
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let mut info = TransformedResourceInfo {
            name: name.clone(),
            namespace: namespace.clone(),
            group: ty.ar.group.clone(),
            version: ty.ar.version.clone(),
            kind: ty.ar.kind.clone(),
            status: State::Ready,
            ..Default::default()
        };
        let Some(prepared) = preparer.prepare(&key, &object) else { continue };
        let mut desired = prepared.desired;
        let applied = rules::apply(specs, &key, &mut desired);
        let body = serde_json::to_vec(&desired).map_err(|e| EngineError::Internal(e.to_string()))?;
        let mut refusals = Vec::new();
        for (target, there) in targets.iter().zip(&present) {
            let (into, body) =
                if *there { (namespace.as_str(), body.clone()) } else { (STAND_IN, in_namespace(&desired, STAND_IN)?) };
            if let Some(refused) = dry_run(&target.cluster, &ty, into, &name, &body).await? {
                refusals.push(format!("the dry run on {} refused it: {refused}", target.name));
            }
        }
        let mut reasons = refusals.clone();
        reasons.extend(applied.report());
        if !refusals.is_empty() {
            info.status = State::Failed;
        }
        info.reason = reasons.join("; ");
        resources.push(info);
    }

    let failures: Vec<String> = resources
        .iter()
        .filter(|r| r.status == State::Failed)
        .map(|r| format!("{} {}/{}: {}", r.kind, r.namespace, r.name, r.reason))
        .collect();
    let unmatched = resources.iter().filter(|r| r.status == State::Ready && !r.reason.is_empty()).count();
    let checked_on: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let mut summary = if checked_on.is_empty() {
        format!(
            "{} object(s) transformed; no dry run, as no ClusterPair in {namespace} names a destination that \
             answers (checked again when one does)",
            resources.len()
        )
    } else {
        format!("{} object(s) checked by a dry run on {}", resources.len(), checked_on.join(", "))
    };
    if truncated {
        summary.push_str(&format!(" (the first {CHECKED_AT_MOST} of more)"));
    }
    if !elsewhere.is_empty() && !resources.is_empty() {
        summary.push_str(&format!(
            "; namespace {namespace} is not on {} yet, so its namespace {STAND_IN} stood in",
            elsewhere.join(", ")
        ));
    }
    if unmatched > 0 {
        summary.push_str(&format!("; in {unmatched} object(s) a path matched nothing (see resources)"));
    }
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(5).collect();
        let more = failures.len().saturating_sub(shown.len());
        let text = shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ");
        let reason = format!(
            "{} of {} object(s) would be refused: {text}{}",
            failures.len(),
            resources.len(),
            if more > 0 { format!("; and {more} more") } else { String::new() }
        );
        return Ok(failed(rt, reason, resources));
    }
    Ok(ResourceTransformationStatus {
        status: State::Ready,
        reason: summary,
        observed_generation: rt.metadata.generation,
        resources,
    })
}

fn failed(
    rt: &ResourceTransformation,
    reason: String,
    resources: Vec<TransformedResourceInfo>,
) -> ResourceTransformationStatus {
    ResourceTransformationStatus {
        status: State::Failed,
        reason,
        observed_generation: rt.metadata.generation,
        resources,
    }
}

/// `; it serves apps/v1/Deployment` when the kind is served in another version.
fn other_versions(served: &[ServedType], group: &str, kind: &str) -> String {
    let others: Vec<String> = served
        .iter()
        .filter(|t| t.ar.group == group && t.ar.kind.eq_ignore_ascii_case(kind))
        .map(|t| format!("{}/{}/{}", t.ar.group, t.ar.version, t.ar.kind))
        .collect();
    if others.is_empty() { String::new() } else { format!("; it serves {}", others.join(", ")) }
}

/// The objects of the namespace the rules' kinds and selectors match, whole, each once.
async fn matching_objects(
    source: &Cluster,
    namespace: &str,
    kinds: &[(ServedType, BTreeMap<String, String>)],
) -> Result<Vec<(ServedType, Value)>, EngineError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (ty, selectors) in kinds {
        let api: Api<DynamicObject> = Api::namespaced_with(source.client().clone(), namespace, &ty.ar);
        let selector: Vec<String> = selectors.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let params = ListParams::default().labels(&selector.join(",")).limit(CHECKED_AT_MOST as u32 + 1);
        let what = format!("listing {} in {namespace}", ty.ar.plural);
        let listed = source.within(what, api.list(&params)).await?;
        for object in listed.items {
            let name = object.metadata.name.clone().unwrap_or_default();
            if seen.insert((ty.ar.group.clone(), ty.ar.kind.clone(), name)) {
                let mut value = serde_json::to_value(&object).map_err(|e| EngineError::Internal(e.to_string()))?;
                // List items come without their type; a write needs it.
                value["apiVersion"] = ty.ar.api_version.clone().into();
                value["kind"] = ty.ar.kind.clone().into();
                out.push((ty.clone(), value));
            }
        }
    }
    Ok(out)
}

async fn namespace_exists(cluster: &Cluster, namespace: &str) -> Result<bool, EngineError> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client().clone());
    let found = cluster.within(format!("reading namespace {namespace}"), api.get_metadata_opt(namespace)).await?;
    Ok(found.is_some())
}

/// The cluster's reason for refusing the write, or `None` when it would keep it.
async fn dry_run(
    cluster: &Cluster,
    ty: &ServedType,
    namespace: &str,
    name: &str,
    body: &[u8],
) -> Result<Option<String>, EngineError> {
    match cluster.apply(&ty.ar, Some(namespace), name, body, FIELD_MANAGER, true).await {
        Ok(_) => Ok(None),
        Err(e) if e.is_transient() => Err(EngineError::Unavailable(e)),
        Err(e) => Ok(Some(e.message)),
    }
}

/// The prepared object as JSON, moved to `namespace`.
fn in_namespace(desired: &Value, namespace: &str) -> Result<Vec<u8>, EngineError> {
    let mut moved = desired.clone();
    moved["metadata"]["namespace"] = namespace.into();
    serde_json::to_vec(&moved).map_err(|e| EngineError::Internal(e.to_string()))
}
