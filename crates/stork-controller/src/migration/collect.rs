//! Reads what a migration copies from the source: every namespaced type the source serves (custom
//! resources included), one paginated list per type across the migrated namespaces, plus the
//! cluster-scoped objects the application needs (its PVs, ClusterRoles/Bindings of its ServiceAccounts,
//! the CRDs of its custom resources).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::{StreamExt, TryStreamExt, stream};
use kube::api::{ApiResource, ListParams};
use kube::discovery::{Discovery, Scope, verbs};
use serde_json::{Value, json};
use stork_api::MigrationSpec;

use super::select::{TypeKey, skip_reason, wants_type};

/// One object to copy, as read from the source.
#[derive(Debug, Clone)]
pub struct SourceObject {
    pub key: TypeKey,
    pub obj: Value,
}

impl SourceObject {
    pub fn name(&self) -> &str {
        self.obj["metadata"]["name"].as_str().unwrap_or_default()
    }
    pub fn namespace(&self) -> &str {
        self.obj["metadata"]["namespace"].as_str().unwrap_or_default()
    }
}

/// Everything read from the source for one migration.
#[derive(Debug, Default)]
pub struct Collection {
    /// Source Namespace objects of the migrated namespaces.
    pub namespaces: Vec<Value>,
    /// CRDs of the custom resources being copied.
    pub crds: Vec<Value>,
    /// Cluster-scoped objects (PVs, ClusterRoles, ClusterRoleBindings).
    pub cluster_objects: Vec<SourceObject>,
    pub objects: Vec<SourceObject>,
    /// Namespaced types that were considered (listed), for purging.
    pub types: Vec<TypeKey>,
    pub skipped: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("discovery on the source failed: {0}")]
    Discovery(String),
    #[error("listing {what} on the source failed: {message}")]
    List { what: String, message: String },
}

/// How many types are listed at once.
const LIST_CONCURRENCY: usize = 16;
const PAGE_SIZE: u32 = 500;

/// The source's namespaced types a migration may copy, with their API resources.
pub async fn discover_types(client: &kube::Client) -> Result<Vec<(TypeKey, ApiResource)>, CollectError> {
    let discovery = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .map_err(|e| CollectError::Discovery(stork_kube::error_chain(&e)))?;
    let mut types = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if !caps.supports_operation(verbs::LIST) || ar.plural.contains('/') {
                continue;
            }
            let key = TypeKey {
                group: ar.group.clone(),
                version: ar.version.clone(),
                kind: ar.kind.clone(),
                plural: ar.plural.clone(),
                namespaced: caps.scope == Scope::Namespaced,
            };
            types.push((key, ar));
        }
    }
    types.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(types)
}

/// The collection URL of `ar`, in `namespace` or across all namespaces.
pub fn resource_url(ar: &ApiResource, namespace: Option<&str>) -> String {
    let base =
        if ar.group.is_empty() { format!("/api/{}", ar.version) } else { format!("/apis/{}/{}", ar.group, ar.version) };
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{}", ar.plural),
        None => format!("{base}/{}", ar.plural),
    }
}

/// Lists every object of `ar` (all namespaces, paginated), parsed straight into JSON values: going
/// through `DynamicObject` (a flattened struct) costs noticeably more CPU on large lists.
pub async fn list_all(client: &kube::Client, ar: &ApiResource) -> Result<Vec<Value>, CollectError> {
    let url = resource_url(ar, None);
    let what = || if ar.group.is_empty() { ar.plural.clone() } else { format!("{}.{}", ar.plural, ar.group) };
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let request = kube::core::Request::new(&url)
            .list(&params)
            .map_err(|e| CollectError::List { what: what(), message: e.to_string() })?;
        let mut page: Value = client
            .request(request)
            .await
            .map_err(|e| CollectError::List { what: what(), message: stork_kube::error_chain(&e) })?;
        if let Some(items) = page.get_mut("items").and_then(Value::as_array_mut) {
            out.append(items);
        }
        match page["metadata"]["continue"].as_str().filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(token),
            None => return Ok(out),
        }
    }
}

/// Reads the migrated namespaces' objects and what they need from the cluster scope; `types` is the
/// source's discovery (see [`discover_types`]). Every list, cluster-scoped ones included, goes out in one
/// concurrent round; filtering happens afterwards.
pub async fn collect(
    client: &kube::Client,
    spec: &MigrationSpec,
    namespaces: &BTreeSet<String>,
    types: &[(TypeKey, ApiResource)],
) -> Result<Collection, CollectError> {
    let wanted: Vec<(TypeKey, ApiResource)> = types.iter().filter(|(k, _)| wants_type(k, spec)).cloned().collect();
    let cluster: Vec<(TypeKey, ApiResource)> = types
        .iter()
        .filter(|(k, _)| {
            CLUSTER_TYPES.contains(&(k.group.as_str(), k.plural.as_str()))
                || (k.group.is_empty() && k.plural == "namespaces")
                || (k.group == "apiextensions.k8s.io" && k.plural == "customresourcedefinitions")
        })
        .cloned()
        .collect();
    // Owned items: a stream over borrowed iterators trips the compiler's Send inference in the controller.
    let to_list: Vec<(TypeKey, ApiResource)> = wanted.iter().chain(cluster.iter()).cloned().collect();
    let lists: Vec<(TypeKey, Vec<Value>)> = stream::iter(to_list)
        .map(|(key, ar)| async move {
            let items = list_all(client, &ar).await?;
            Ok::<_, CollectError>((key, items))
        })
        .buffer_unordered(LIST_CONCURRENCY)
        .try_collect()
        .await?;

    let mut collection = Collection { types: wanted.iter().map(|(k, _)| k.clone()).collect(), ..Default::default() };
    let mut cluster_lists: BTreeMap<(String, String), (TypeKey, Vec<Value>)> = BTreeMap::new();
    for (key, items) in lists {
        if !key.namespaced {
            cluster_lists.insert((key.group.clone(), key.plural.clone()), (key, items));
            continue;
        }
        for obj in items {
            let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
            if !namespaces.contains(namespace) {
                continue;
            }
            if skip_reason(&key, &obj, spec).is_some() {
                collection.skipped += 1;
                continue;
            }
            collection.objects.push(SourceObject { key: key.clone(), obj });
        }
    }
    collection.objects.sort_by(|a, b| (&a.key, a.namespace(), a.name()).cmp(&(&b.key, b.namespace(), b.name())));
    let mut take = |group: &str, plural: &str| cluster_lists.remove(&(group.to_string(), plural.to_string()));
    collection.namespaces = take("", "namespaces")
        .map(|(_, all)| {
            all.into_iter()
                .filter(|ns| ns["metadata"]["name"].as_str().is_some_and(|n| namespaces.contains(n)))
                .collect()
        })
        .unwrap_or_default();
    let rbac = "rbac.authorization.k8s.io";
    collection.cluster_objects = cluster_scoped(
        &collection.objects,
        namespaces,
        take("", "persistentvolumes"),
        take(rbac, "clusterrolebindings"),
        take(rbac, "clusterroles"),
    );
    collection.crds = crds_for(&collection.objects, take("apiextensions.k8s.io", "customresourcedefinitions"));
    Ok(collection)
}

/// Cluster-scoped types a migration may copy: (group, plural).
pub const CLUSTER_TYPES: &[(&str, &str)] = &[
    ("", "persistentvolumes"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
];

type ClusterList = Option<(TypeKey, Vec<Value>)>;

/// PVs bound to migrated claims, and RBAC cluster objects tied to the migrated namespaces.
fn cluster_scoped(
    objects: &[SourceObject],
    namespaces: &BTreeSet<String>,
    pvs: ClusterList,
    bindings: ClusterList,
    roles: ClusterList,
) -> Vec<SourceObject> {
    let mut out = Vec::new();
    let claimed: HashSet<&str> = objects
        .iter()
        .filter(|o| o.key.group.is_empty() && o.key.kind == "PersistentVolumeClaim")
        .filter_map(|o| o.obj["spec"]["volumeName"].as_str())
        .collect();
    if let Some((key, all)) = pvs {
        for pv in all {
            if pv["metadata"]["name"].as_str().is_some_and(|n| claimed.contains(n)) {
                out.push(SourceObject { key: key.clone(), obj: pv });
            }
        }
    }
    let rbac = "rbac.authorization.k8s.io";
    let mut cluster_roles: BTreeSet<String> = objects
        .iter()
        .filter(|o| o.key.group == rbac && o.key.kind == "RoleBinding" && o.obj["roleRef"]["kind"] == "ClusterRole")
        .filter_map(|o| o.obj["roleRef"]["name"].as_str().map(str::to_string))
        .collect();
    if let Some((key, all)) = bindings {
        for mut crb in all {
            if is_system(&crb) {
                continue;
            }
            let Some(subjects) = crb["subjects"].as_array() else { continue };
            let ours: Vec<Value> = subjects.iter().filter(|s| subject_in(s, namespaces)).cloned().collect();
            if ours.is_empty() {
                continue;
            }
            if let Some(role) = crb["roleRef"]["name"].as_str() {
                cluster_roles.insert(role.to_string());
            }
            crb["subjects"] = json!(ours);
            out.push(SourceObject { key: key.clone(), obj: crb });
        }
    }
    if let Some((key, all)) = roles {
        for role in all {
            let named = role["metadata"]["name"].as_str().is_some_and(|n| cluster_roles.contains(n));
            if named && !is_system(&role) {
                out.push(SourceObject { key: key.clone(), obj: role });
            }
        }
    }
    out
}

/// Built-in roles and bindings exist on every cluster and must not be overwritten.
fn is_system(obj: &Value) -> bool {
    obj["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("system:"))
        || obj["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
}

fn subject_in(subject: &Value, namespaces: &BTreeSet<String>) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("ServiceAccount") => subject["namespace"].as_str().is_some_and(|ns| namespaces.contains(ns)),
        Some("User") => name
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split(':').next())
            .is_some_and(|ns| namespaces.contains(ns)),
        Some("Group") => name.strip_prefix("system:serviceaccounts:").is_some_and(|ns| namespaces.contains(ns)),
        _ => false,
    }
}

/// The CRDs defining the custom resources among `objects`.
fn crds_for(objects: &[SourceObject], crds: ClusterList) -> Vec<Value> {
    let custom: BTreeSet<String> = objects
        .iter()
        .filter(|o| o.key.group.contains('.'))
        .map(|o| format!("{}.{}", o.key.plural, o.key.group))
        .collect();
    let Some((_, all)) = crds.filter(|_| !custom.is_empty()) else { return vec![] };
    all.into_iter().filter(|crd| crd["metadata"]["name"].as_str().is_some_and(|n| custom.contains(n))).collect()
}
