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
    /// The whole object, or only its metadata (see [`is_read_whole`]).
    pub obj: Value,
    pub whole: bool,
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
/// Objects per list page. Every object is held in memory anyway; pages only bound one response, and
/// each further page is one more round trip in sequence.
const PAGE_SIZE: u32 = 5000;

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
    list_pages(client, ar, None, false).await
}

/// Up to this many migrated namespaces, namespaced types are listed namespace by namespace instead of
/// across the cluster. One costs no more requests and reads only what the migration is about (the
/// common case: outside the admin namespace a Migration migrates only its own); with more, the extra
/// requests cost more than the other namespaces' objects on the clusters measured (4 namespaces of
/// 100 objects: read-source about 44 ms across the cluster, 55-63 ms one by one).
pub const PER_NAMESPACE_LISTS: usize = 1;

/// Where to list `key` for a migration of `namespaces`: in each of them, or across the cluster (`None`).
pub fn list_scopes(key: &TypeKey, namespaces: &BTreeSet<String>) -> Vec<Option<String>> {
    if key.namespaced && namespaces.len() <= PER_NAMESPACE_LISTS {
        namespaces.iter().cloned().map(Some).collect()
    } else {
        vec![None]
    }
}

/// Every object of `ar` in `namespace` (or across the cluster), paginated; whole, or only each object's
/// metadata (`PartialObjectMetadata`: labels, annotations and managedFields at a fraction of the bytes).
pub async fn list_pages(
    client: &kube::Client,
    ar: &ApiResource,
    namespace: Option<&str>,
    metadata_only: bool,
) -> Result<Vec<Value>, CollectError> {
    let url = resource_url(ar, namespace);
    let what = || if ar.group.is_empty() { ar.plural.clone() } else { format!("{}.{}", ar.plural, ar.group) };
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    loop {
        let request = kube::core::Request::new(&url);
        let request = if metadata_only { request.list_metadata(&params) } else { request.list(&params) }
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
/// source's discovery (see [`discover_types`]). With `metadata_first`, types that allow it are listed
/// as metadata only (see [`is_read_whole`]); without, everything is read whole (nothing was prepared
/// before, so every object would be read again anyway). Every list, cluster-scoped ones included, goes
/// out in one concurrent round; filtering happens afterwards.
pub async fn collect(
    client: &kube::Client,
    spec: &MigrationSpec,
    namespaces: &BTreeSet<String>,
    types: &[(TypeKey, ApiResource)],
    metadata_first: bool,
) -> Result<Collection, CollectError> {
    let whole = |key: &TypeKey| !metadata_first || is_read_whole(key);
    let wanted: Vec<(TypeKey, ApiResource)> = types.iter().filter(|(k, _)| wants_type(k, spec)).cloned().collect();
    let cluster: Vec<(TypeKey, ApiResource)> = types
        .iter()
        .filter(|(k, _)| {
            CLUSTER_TYPES.contains(&(k.group.as_str(), k.plural.as_str()))
                || (k.group == "apiextensions.k8s.io" && k.plural == "customresourcedefinitions")
        })
        .cloned()
        .collect();
    // Owned items: a stream over borrowed iterators trips the compiler's Send inference in the controller.
    let to_list: Vec<(TypeKey, ApiResource, Option<String>)> = wanted
        .iter()
        .chain(cluster.iter())
        .flat_map(|(key, ar)| list_scopes(key, namespaces).into_iter().map(|ns| (key.clone(), ar.clone(), ns)))
        .collect();
    let (lists, migrated_namespaces) = tokio::join!(
        stream::iter(to_list)
            .map(|(key, ar, namespace)| async move {
                let items = list_pages(client, &ar, namespace.as_deref(), !whole(&key)).await?;
                Ok::<_, CollectError>((key, items))
            })
            .buffer_unordered(LIST_CONCURRENCY)
            .try_collect::<Vec<(TypeKey, Vec<Value>)>>(),
        get_namespaces(client, namespaces)
    );
    let lists = lists?;

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
            // On metadata only, rules about content cannot skip yet; the whole object is checked again.
            if skip_reason(&key, &obj, spec).is_some() {
                collection.skipped += 1;
                continue;
            }
            collection.objects.push(SourceObject { whole: whole(&key), key: key.clone(), obj });
        }
    }
    collection.objects.sort_by(|a, b| (&a.key, a.namespace(), a.name()).cmp(&(&b.key, b.namespace(), b.name())));
    let mut take = |group: &str, plural: &str| cluster_lists.remove(&(group.to_string(), plural.to_string()));
    collection.namespaces = migrated_namespaces?;
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

/// The migrated Namespace objects (ones that are gone are left out). Single reads, not a list: a
/// consistent list of a type that rarely changes can wait on the API server's watch cache catching up,
/// tens of milliseconds on a migration that otherwise takes a hundred.
async fn get_namespaces(client: &kube::Client, namespaces: &BTreeSet<String>) -> Result<Vec<Value>, CollectError> {
    let reads: Vec<Result<Option<Value>, CollectError>> = stream::iter(namespaces.iter().cloned())
        .map(|name| {
            let client = client.clone();
            async move {
                super::fetch::get_opt(&client, "/api/v1/namespaces", &name)
                    .await
                    .map_err(|e| CollectError::List { what: "namespaces".into(), message: stork_kube::error_chain(&e) })
            }
        })
        .buffer_unordered(LIST_CONCURRENCY)
        .collect()
        .await;
    let mut found: Vec<Value> = reads.into_iter().filter_map(Result::transpose).collect::<Result<_, _>>()?;
    found.sort_by(|a, b| a["metadata"]["name"].as_str().cmp(&b["metadata"]["name"].as_str()));
    Ok(found)
}

/// Types read whole: cluster-scoped ones, and those whose content decides what else is copied (claims
/// bring their volumes, RoleBindings their ClusterRoles) or whether they are skipped without it (a
/// default ServiceAccount is copied only with image pull secrets). Everything else is listed as
/// metadata only: an object whose resourceVersion was prepared before needs no more, and the rest are
/// read whole afterwards (see `ready`).
pub fn is_read_whole(key: &TypeKey) -> bool {
    !key.namespaced
        || matches!(
            (key.group.as_str(), key.plural.as_str()),
            ("", "persistentvolumeclaims" | "serviceaccounts") | ("rbac.authorization.k8s.io", "rolebindings")
        )
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
                out.push(SourceObject { key: key.clone(), obj: pv, whole: true });
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
            out.push(SourceObject { key: key.clone(), obj: crb, whole: true });
        }
    }
    if let Some((key, all)) = roles {
        for role in all {
            let named = role["metadata"]["name"].as_str().is_some_and(|n| cluster_roles.contains(n));
            if named && !is_system(&role) {
                out.push(SourceObject { key: key.clone(), obj: role, whole: true });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(plural: &str, namespaced: bool) -> TypeKey {
        TypeKey { group: String::new(), version: "v1".into(), kind: plural.into(), plural: plural.into(), namespaced }
    }

    #[test]
    fn few_namespaces_are_listed_one_by_one_many_across_the_cluster() {
        let few: BTreeSet<String> = (0..PER_NAMESPACE_LISTS).map(|i| format!("ns-{i}")).collect();
        let scopes: Vec<Option<String>> = few.iter().cloned().map(Some).collect();
        assert_eq!(list_scopes(&key("configmaps", true), &few), scopes);
        assert_eq!(list_scopes(&key("persistentvolumes", false), &few), vec![None]);
        let many: BTreeSet<String> = (0..=PER_NAMESPACE_LISTS).map(|i| format!("ns-{i}")).collect();
        assert_eq!(list_scopes(&key("configmaps", true), &many), vec![None]);
    }

    #[test]
    fn content_that_decides_other_objects_is_read_whole() {
        assert!(is_read_whole(&key("persistentvolumeclaims", true)));
        assert!(is_read_whole(&key("serviceaccounts", true)));
        assert!(is_read_whole(&key("persistentvolumes", false)));
        assert!(!is_read_whole(&key("configmaps", true)));
        assert!(!is_read_whole(&key("secrets", true)), "token Secrets are checked once read whole");
    }
}
