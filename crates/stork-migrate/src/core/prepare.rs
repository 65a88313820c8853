//! Preparation: a source object turned into the standby copy to apply on the destination, with
//! cluster-specific fields stripped, workloads idle (unless `startApplications`), and Stork's bookkeeping
//! annotations. Pure JSON edits, so fields unknown to any Rust type survive. [`super::activate`] is its
//! inverse.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use stork_api::annotations as ann;
use stork_api::{MigrationSpec, TransformSpec};

use super::hash::{ContentHash, content_hash};
use super::model::TypeKey;
use super::plan::Summary;
use super::rules;
use super::select::skip_reason;

/// Options of the Migration that change how objects are prepared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PrepareOptions {
    pub start_applications: bool,
    pub skip_service_update: bool,
}

/// Annotations that describe one cluster's state of an object, not the object.
const CLUSTER_ANNOTATIONS: &[&str] = &[
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/restartedAt",
];

/// Labels the destination's controllers assign themselves.
const JOB_CONTROLLER_LABELS: &[&str] = &["controller-uid", "batch.kubernetes.io/controller-uid"];

/// The object to apply on the destination, before bookkeeping annotations (its hash is what tells
/// whether the source changed).
pub fn prepare(key: &TypeKey, source: &Value, opts: &PrepareOptions) -> Value {
    let mut obj = source.clone();
    let Some(root) = obj.as_object_mut() else { return obj };
    root.remove("status");
    root.insert("apiVersion".into(), json!(key.api_version()));
    root.insert("kind".into(), json!(key.kind));
    strip_metadata(root);
    match (key.group.as_str(), key.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet") | ("apps.openshift.io", "DeploymentConfig") => {
            idle_workload(root, opts)
        }
        ("batch", "CronJob") => suspend(root, opts, "suspend"),
        ("batch", "Job") => {
            strip_job_controller_labels(root);
            suspend(root, opts, "suspend");
        }
        ("", "Service") => {
            let keep_ips = opts.skip_service_update
                || root["metadata"]["annotations"][ann::SKIP_MODIFY_RESOURCE].as_str() == Some("true");
            if !keep_ips {
                strip_service_ips(root);
            }
        }
        ("", "PersistentVolume") => retain_volume(root),
        ("", "ServiceAccount") => strip_token_references(root),
        _ => {}
    }
    obj
}

fn strip_metadata(root: &mut Map<String, Value>) {
    let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) else { return };
    meta.retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "labels" | "annotations"));
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        annotations.retain(|k, _| !CLUSTER_ANNOTATIONS.contains(&k.as_str()));
        // Bookkeeping from an earlier migration of this object (it may itself be a migrated copy).
        for k in [
            ann::MIGRATED,
            ann::MIGRATION_NAME,
            ann::MIGRATION_NAMESPACE,
            ann::MIGRATION_TIME,
            ann::RESOURCE_HASH,
            ann::WRITER,
            ann::ADOPTED,
        ] {
            annotations.remove(k);
        }
    }
    for field in ["labels", "annotations"] {
        if meta.get(field).and_then(Value::as_object).is_some_and(Map::is_empty) {
            meta.remove(field);
        }
    }
}

/// Replicas to 0 with the source's count remembered, so `activate` and failover can restore it.
fn idle_workload(root: &mut Map<String, Value>, opts: &PrepareOptions) {
    let spec_replicas = root["spec"]["replicas"].as_i64().unwrap_or(1);
    let remembered = root["metadata"]["annotations"][ann::MIGRATION_REPLICAS]
        .as_str()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0);
    // A copy that is itself idle carries its original count forward.
    let replicas = if spec_replicas == 0 { remembered.unwrap_or(0) } else { spec_replicas };
    if opts.start_applications {
        return;
    }
    set(root, &["spec", "replicas"], json!(0));
    set(root, &["metadata", "annotations", ann::MIGRATION_REPLICAS], json!(replicas.to_string()));
    set(root, &["metadata", "labels", ann::MIGRATED], json!("true"));
}

fn suspend(root: &mut Map<String, Value>, opts: &PrepareOptions, field: &str) {
    if opts.start_applications {
        return;
    }
    let original = root["spec"][field].as_bool().unwrap_or(false);
    let remembered = root["metadata"]["annotations"][ann::MIGRATION_SUSPEND].as_str().map(str::to_string);
    set(root, &["spec", field], json!(true));
    let value = remembered.unwrap_or_else(|| original.to_string());
    set(root, &["metadata", "annotations", ann::MIGRATION_SUSPEND], json!(value));
}

fn strip_job_controller_labels(root: &mut Map<String, Value>) {
    for path in [&["metadata", "labels"][..], &["spec", "template", "metadata", "labels"]] {
        if let Some(labels) = get_mut(root, path).and_then(Value::as_object_mut) {
            labels.retain(|k, _| !JOB_CONTROLLER_LABELS.contains(&k.as_str()));
        }
    }
    // The API server generates the selector (with the new controller-uid) unless the user chose one.
    if root["spec"]["manualSelector"].as_bool() != Some(true)
        && let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.remove("selector");
    }
}

/// Cluster IPs belong to the source's service CIDR; the destination allocates its own. Node ports are
/// kept (the apply drops them only when the destination has them taken).
fn strip_service_ips(root: &mut Map<String, Value>) {
    let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
    spec.remove("loadBalancerIP");
}

/// Node ports removed from a Service whose ports are taken on the destination.
pub fn without_node_ports(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(ports) = obj["spec"]["ports"].as_array_mut() {
        for port in ports {
            if let Some(port) = port.as_object_mut() {
                port.remove("nodePort");
            }
        }
    }
    if let Some(spec) = obj["spec"].as_object_mut() {
        spec.remove("healthCheckNodePort");
    }
    obj
}

/// Storage shared by both clusters must survive the copy being deleted: `Retain`, original remembered.
/// The copy is pre-bound to the migrated claim (its namespace and name; the uid is the source's), so that
/// no other claim on the destination can take it.
fn retain_volume(root: &mut Map<String, Value>) {
    let policy = root["spec"]["persistentVolumeReclaimPolicy"].as_str().unwrap_or("Delete").to_string();
    let remembered = root["metadata"]["annotations"][ann::RECLAIM_POLICY].as_str().map(str::to_string);
    set(root, &["metadata", "annotations", ann::RECLAIM_POLICY], json!(remembered.unwrap_or(policy)));
    set(root, &["spec", "persistentVolumeReclaimPolicy"], json!("Retain"));
    if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(claim) = spec.remove("claimRef")
    {
        let kept: Map<String, Value> = ["kind", "apiVersion", "namespace", "name"]
            .iter()
            .filter_map(|field| claim.get(*field).map(|v| (field.to_string(), v.clone())))
            .collect();
        spec.insert("claimRef".to_string(), Value::Object(kept));
    }
}

/// Token Secrets referenced by a ServiceAccount are the source's; the destination makes its own.
fn strip_token_references(root: &mut Map<String, Value>) {
    let name = root["metadata"]["name"].as_str().unwrap_or_default().to_string();
    if let Some(secrets) = root.get_mut("secrets").and_then(Value::as_array_mut) {
        secrets.retain(|s| {
            let secret = s["name"].as_str().unwrap_or_default();
            !secret.starts_with(&format!("{name}-token-")) && !secret.starts_with(&format!("{name}-dockercfg-"))
        });
        if secrets.is_empty() {
            root.remove("secrets");
        }
    }
}

/// The copy of a migrated Namespace: created when missing with the source's labels and annotations
/// (the name label is the destination's own); an existing one is left alone.
pub fn namespace_copy(source: &Value) -> Value {
    let meta = &source["metadata"];
    let mut labels = meta["labels"].as_object().cloned().unwrap_or_default();
    labels.remove("kubernetes.io/metadata.name");
    let annotations = meta["annotations"].as_object().cloned().unwrap_or_default();
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": meta["name"], "labels": labels, "annotations": annotations}})
}

/// The copy of a CRD (its spec, nothing of its state) and the hash that tells whether the destination's
/// copy is current.
pub fn crd_copy(source: &Value) -> (Value, ContentHash) {
    let mut copy = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": source["metadata"]["name"]},
        "spec": source["spec"],
    });
    let hash = content_hash(&copy);
    copy["metadata"]["annotations"] = json!({ann::RESOURCE_HASH: hash.to_hex()});
    (copy, hash)
}

/// Bumped whenever preparing changes, so remembered preparations of an older build are not reused.
pub const PREPARATION_VERSION: u32 = 2;

/// Everything of a migration that shapes how its objects are prepared.
pub struct Preparer<'a> {
    spec: &'a MigrationSpec,
    options: PrepareOptions,
    /// ResourceTransformation rules per namespace, and the transformation's name.
    rules: &'a HashMap<String, Vec<TransformSpec>>,
    rules_name: &'a str,
}

/// A source object prepared for the destination: the copy (before the per-migration annotations) and
/// what is remembered of it.
pub struct Prepared {
    pub desired: Value,
    pub summary: Summary,
}

impl<'a> Preparer<'a> {
    pub fn new(spec: &'a MigrationSpec, rules: &'a HashMap<String, Vec<TransformSpec>>, rules_name: &'a str) -> Self {
        let options = PrepareOptions {
            start_applications: spec.start_applications == Some(true),
            skip_service_update: spec.skip_service_update == Some(true),
        };
        Self { spec, options, rules, rules_name }
    }

    /// A fingerprint of everything besides the object that shapes its preparation in `namespace`: a
    /// remembered preparation is reused only under the same one.
    pub fn fingerprint(&self, namespace: &str) -> u64 {
        let rules = self.rules.get(namespace).map(|specs| serde_json::to_string(specs).unwrap_or_default());
        crate::cache::fingerprint(&(
            PREPARATION_VERSION,
            self.options,
            self.spec.include_network_policy_with_cidr,
            self.spec.ignore_owner_references_check,
            rules,
            self.rules_name,
        ))
    }

    /// Skip rules on the whole object, then the standby transforms, the ResourceTransformation rules and
    /// the hash; `None` when the object is not copied.
    pub fn prepare(&self, key: &TypeKey, obj: &Value) -> Option<Prepared> {
        if skip_reason(key, obj, self.spec).is_some() {
            return None;
        }
        let namespace = obj["metadata"]["namespace"].as_str().unwrap_or_default();
        let mut desired = prepare(key, obj, &self.options);
        let applied = self.rules.get(namespace).map(|specs| rules::apply(specs, key, &mut desired)).unwrap_or_default();
        let transformed = super::plan::Transformed {
            applied: applied.matched,
            unmatched: u8::try_from(applied.unmatched.len()).unwrap_or(u8::MAX),
        };
        let hash = content_hash(&desired);
        Some(Prepared { desired, summary: Summary { hash, transformed } })
    }
}

/// The bookkeeping annotations of one write.
#[derive(Debug, Clone, Copy)]
pub struct Stamps<'a> {
    pub migration_name: &'a str,
    pub migration_namespace: &'a str,
    pub hash: &'a str,
    pub time: &'a str,
    /// See [`ann::WRITER`].
    pub writer: &'a str,
    /// The object existed on the destination before stork-rs first wrote it (see [`ann::ADOPTED`]).
    pub adopted: bool,
}

/// Adds Stork's bookkeeping annotations, and stork-rs's writer (and adoption) marks, to a prepared
/// object.
pub fn annotate(obj: &mut Value, stamps: &Stamps<'_>) {
    let Some(root) = obj.as_object_mut() else { return };
    for (k, v) in [
        (ann::MIGRATED, "true"),
        (ann::MIGRATION_NAME, stamps.migration_name),
        (ann::MIGRATION_NAMESPACE, stamps.migration_namespace),
        (ann::MIGRATION_TIME, stamps.time),
        (ann::RESOURCE_HASH, stamps.hash),
        (ann::WRITER, stamps.writer),
    ] {
        set(root, &["metadata", "annotations", k], json!(v));
    }
    if stamps.adopted {
        set(root, &["metadata", "annotations", ann::ADOPTED], json!("true"));
    }
}

pub(crate) fn get_mut<'a>(root: &'a mut Map<String, Value>, path: &[&str]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let mut current = root.get_mut(*first)?;
    for segment in rest {
        current = current.as_object_mut()?.get_mut(*segment)?;
    }
    Some(current)
}

/// Sets `path` to `value`, creating objects on the way.
pub(crate) fn set(root: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = root;
    for segment in parents {
        let entry = current.entry(segment.to_string()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        let Some(next) = entry.as_object_mut() else { return };
        current = next;
    }
    current.insert(last.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(group: &str, kind: &str) -> TypeKey {
        TypeKey {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: String::new(),
            namespaced: true,
        }
    }

    #[test]
    fn preparation_skips_by_content_and_fingerprints_what_shapes_it() {
        let spec = MigrationSpec::default();
        let rules = HashMap::new();
        let preparer = Preparer::new(&spec, &rules, "");
        let token = json!({"metadata": {"name": "t", "namespace": "a"}, "type": "kubernetes.io/service-account-token"});
        assert!(preparer.prepare(&key("", "Secret"), &token).is_none());
        let cm = json!({"metadata": {"name": "c", "namespace": "a", "resourceVersion": "1"}, "data": {"k": "v"}});
        let first = preparer.prepare(&key("", "ConfigMap"), &cm).expect("copied");
        let mut touched = cm.clone();
        touched["metadata"]["resourceVersion"] = json!("2");
        let again = preparer.prepare(&key("", "ConfigMap"), &touched).expect("copied");
        assert_eq!(first.summary, again.summary, "the hash is of the copy, not of the source's bookkeeping");

        let started = MigrationSpec { start_applications: Some(true), ..Default::default() };
        assert_ne!(preparer.fingerprint("a"), Preparer::new(&started, &rules, "").fingerprint("a"));
        let with_rules: HashMap<String, Vec<TransformSpec>> =
            [("a".to_string(), vec![TransformSpec { resource: "/v1/ConfigMap".into(), ..Default::default() }])].into();
        let transforming = Preparer::new(&spec, &with_rules, "rt");
        assert_ne!(preparer.fingerprint("a"), transforming.fingerprint("a"));
        let transformed = transforming.prepare(&key("", "ConfigMap"), &cm).expect("copied");
        assert!(transformed.summary.transformed.applied);
    }

    #[test]
    fn namespaces_and_crds_are_copied_without_their_state() {
        let ns = json!({"metadata": {"name": "shop", "uid": "u", "labels": {"team": "a", "kubernetes.io/metadata.name": "shop"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        assert_eq!(
            namespace_copy(&ns),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "a"}, "annotations": {}}})
        );
        let crd = json!({"metadata": {"name": "widgets.example.com", "resourceVersion": "5"}, "spec": {"group": "example.com"},
            "status": {"conditions": []}});
        let (copy, hash) = crd_copy(&crd);
        assert_eq!(copy["spec"], crd["spec"]);
        assert!(copy.get("status").is_none());
        assert_eq!(copy["metadata"]["annotations"][ann::RESOURCE_HASH], hash.to_hex());
        let mut touched = crd.clone();
        touched["metadata"]["resourceVersion"] = json!("6");
        assert_eq!(crd_copy(&touched).1, hash, "only the spec counts");
    }

    #[test]
    fn workloads_are_idle_with_replicas_remembered_and_carried_forward() {
        let source = json!({"metadata": {"name": "web", "namespace": "a", "uid": "x", "resourceVersion": "9",
            "managedFields": [], "creationTimestamp": "t", "generation": 3}, "spec": {"replicas": 3}, "status": {"replicas": 3}});
        let out = prepare(&key("apps", "Deployment"), &source, &PrepareOptions::default());
        assert_eq!(out["spec"]["replicas"], 0);
        assert_eq!(out["metadata"]["annotations"][ann::MIGRATION_REPLICAS], "3");
        assert_eq!(out["metadata"]["labels"][ann::MIGRATED], "true");
        assert_eq!(out["apiVersion"], "apps/v1");
        assert!(out.get("status").is_none());
        assert_eq!(
            out["metadata"].as_object().map(|m| m.len()),
            Some(4),
            "only name, namespace, labels, annotations: {out}"
        );
        // Migrating the copy again keeps 3, not 0.
        let again = prepare(&key("apps", "Deployment"), &out, &PrepareOptions::default());
        assert_eq!(again["metadata"]["annotations"][ann::MIGRATION_REPLICAS], "3");
        let started = prepare(
            &key("apps", "Deployment"),
            &source,
            &PrepareOptions { start_applications: true, ..Default::default() },
        );
        assert_eq!(started["spec"]["replicas"], 3);
    }

    #[test]
    fn services_lose_cluster_ips_but_keep_node_ports_and_headless() {
        let svc = json!({"metadata": {"name": "s"}, "spec": {"clusterIP": "10.96.0.5", "clusterIPs": ["10.96.0.5"],
            "type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
        let out = prepare(&key("", "Service"), &svc, &PrepareOptions::default());
        assert!(out["spec"].get("clusterIP").is_none() && out["spec"].get("clusterIPs").is_none());
        assert_eq!(out["spec"]["ports"][0]["nodePort"], 30080);
        assert!(without_node_ports(&out)["spec"]["ports"][0].get("nodePort").is_none());
        let headless = json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
        assert_eq!(prepare(&key("", "Service"), &headless, &PrepareOptions::default())["spec"]["clusterIP"], "None");
        let kept =
            prepare(&key("", "Service"), &svc, &PrepareOptions { skip_service_update: true, ..Default::default() });
        assert_eq!(kept["spec"]["clusterIP"], "10.96.0.5");
    }

    #[test]
    fn cronjobs_and_jobs_are_suspended_and_jobs_lose_controller_labels() {
        let cron = json!({"metadata": {"name": "c"}, "spec": {"schedule": "* * * * *"}});
        let out = prepare(&key("batch", "CronJob"), &cron, &PrepareOptions::default());
        assert_eq!(out["spec"]["suspend"], true);
        assert_eq!(out["metadata"]["annotations"][ann::MIGRATION_SUSPEND], "false");
        let job = json!({"metadata": {"name": "j", "labels": {"controller-uid": "u", "job-name": "j"}},
            "spec": {"selector": {"matchLabels": {"controller-uid": "u"}},
                     "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": "u", "job-name": "j"}}}}});
        let out = prepare(&key("batch", "Job"), &job, &PrepareOptions::default());
        assert!(out["spec"].get("selector").is_none());
        assert_eq!(out["metadata"]["labels"], json!({"job-name": "j"}));
        assert_eq!(out["spec"]["template"]["metadata"]["labels"], json!({"job-name": "j"}));
        assert_eq!(out["spec"]["suspend"], true);
    }

    #[test]
    fn volumes_are_retained_and_prebound_and_claims_lose_binding_annotations() {
        let pv = json!({"metadata": {"name": "pv", "annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}},
            "spec": {"persistentVolumeReclaimPolicy": "Delete", "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "c", "uid": "u", "resourceVersion": "7"}}});
        let out =
            prepare(&TypeKey { namespaced: false, ..key("", "PersistentVolume") }, &pv, &PrepareOptions::default());
        assert_eq!(out["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(out["metadata"]["annotations"], json!({ann::RECLAIM_POLICY: "Delete"}));
        assert_eq!(
            out["spec"]["claimRef"],
            json!({"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "c"}),
            "pre-bound to the migrated claim only"
        );
        let pvc = json!({"metadata": {"name": "c", "annotations": {"pv.kubernetes.io/bind-completed": "yes"}}, "spec": {"volumeName": "pv"}});
        let out = prepare(&key("", "PersistentVolumeClaim"), &pvc, &PrepareOptions::default());
        assert!(out["metadata"].get("annotations").is_none());
        assert_eq!(out["spec"]["volumeName"], "pv");
    }
}
