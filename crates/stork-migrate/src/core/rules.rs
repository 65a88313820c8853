//! ResourceTransformation rules (Stork's `transformSpecs`): dotted-path patches on matching objects.
//! Unlike Stork they apply to every kind (Stork silently skipped Deployments, StatefulSets, PVs and
//! CronJobs) and are validated when the migration starts, not by a dry run in a scratch namespace.

use serde_json::{Map, Value, json};
use stork_api::{ResourcePath, TransformOperation, TransformSpec, TransformValueType};

use super::model::TypeKey;
use stork_api::annotations::RESOURCE_TRANSFORMATION_NAME as TRANSFORMED;

/// Why a rule cannot be used.
pub fn validate(specs: &[TransformSpec]) -> Result<(), String> {
    for (i, spec) in specs.iter().enumerate() {
        if spec.resource.split('/').count() != 3 {
            return Err(format!(
                "specs.transformSpecs[{i}].resource {:?} must be <group>/<version>/<Kind> (core group: /v1/Service)",
                spec.resource
            ));
        }
        for (j, path) in spec.paths.iter().enumerate() {
            if path.operation == TransformOperation::Jsonpatch {
                return Err(format!(
                    "specs.transformSpecs[{i}].paths[{j}]: operation jsonpatch is not supported; use add, modify or delete"
                ));
            }
            if path.path.is_empty() {
                return Err(format!("specs.transformSpecs[{i}].paths[{j}].path is empty"));
            }
            if path.operation != TransformOperation::Delete {
                parse_value(path).map_err(|e| format!("specs.transformSpecs[{i}].paths[{j}]: {e}"))?;
            }
        }
    }
    Ok(())
}

/// Applies the rules matching `key` and the object's labels; true when any applied.
pub fn apply(specs: &[TransformSpec], key: &TypeKey, obj: &mut Value) -> bool {
    let resource = format!("{}/{}/{}", key.group, key.version, key.kind);
    let mut applied = false;
    for spec in specs.iter().filter(|s| s.resource == resource) {
        let labels = &obj["metadata"]["labels"];
        if !spec.selectors.iter().all(|(k, v)| labels[k].as_str() == Some(v.as_str())) {
            continue;
        }
        for path in &spec.paths {
            apply_path(obj, path);
        }
        applied = true;
    }
    if applied && let Some(meta) = obj["metadata"].as_object_mut() {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        annotations[TRANSFORMED] = json!("true");
    }
    applied
}

fn parse_value(path: &ResourcePath) -> Result<Value, String> {
    let v = path.value.trim();
    match path.value_type {
        TransformValueType::String => Ok(json!(path.value)),
        TransformValueType::Int => v.parse::<i64>().map(|n| json!(n)).map_err(|_| format!("value {v:?} is not an int")),
        TransformValueType::Bool => {
            v.parse::<bool>().map(|b| json!(b)).map_err(|_| format!("value {v:?} is not a bool"))
        }
        TransformValueType::Slice => {
            Ok(json!(v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()))
        }
        TransformValueType::Keypair => {
            let mut map = Map::new();
            for pair in v.split(',').filter(|p| !p.trim().is_empty()) {
                let (k, val) =
                    pair.split_once(':').ok_or_else(|| format!("keypair entry {pair:?} must be key:value"))?;
                map.insert(k.trim().to_string(), json!(val.trim()));
            }
            Ok(Value::Object(map))
        }
    }
}

fn apply_path(obj: &mut Value, path: &ResourcePath) {
    let segments: Vec<&str> = path.path.split('.').collect();
    let Some((last, parents)) = segments.split_last() else { return };
    if path.operation == TransformOperation::Delete {
        let parent = parents.iter().try_fold(&mut *obj, |current, s| current.as_object_mut()?.get_mut(*s));
        if let Some(parent) = parent.and_then(Value::as_object_mut) {
            parent.remove(*last);
        }
        return;
    }
    let Ok(value) = parse_value(path) else { return };
    let mut current = obj;
    for segment in parents {
        if !current[*segment].is_object() {
            current[*segment] = json!({});
        }
        current = &mut current[*segment];
    }
    let target = &mut current[*last];
    match (path.operation, path.value_type, target) {
        (TransformOperation::Modify, TransformValueType::Keypair, Value::Object(existing)) => {
            if let Value::Object(new) = value {
                existing.extend(new);
            }
        }
        (TransformOperation::Modify, TransformValueType::Slice, Value::Array(existing)) => {
            if let Value::Array(new) = value {
                existing.extend(new);
            }
        }
        (_, _, target) => *target = value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str, value: &str, value_type: TransformValueType, operation: TransformOperation) -> ResourcePath {
        ResourcePath { path: p.into(), value: value.into(), value_type, operation }
    }

    #[test]
    fn stork_operations_on_matching_objects() {
        let spec = TransformSpec {
            resource: "/v1/Service".into(),
            selectors: [("app".to_string(), "web".to_string())].into(),
            paths: vec![
                path("spec.type", "LoadBalancer", TransformValueType::String, TransformOperation::Modify),
                path("metadata.labels", "tier:edge,zone:b", TransformValueType::Keypair, TransformOperation::Modify),
                path("spec.externalIPs", "1.2.3.4", TransformValueType::Slice, TransformOperation::Add),
                path("spec.sessionAffinity", "", TransformValueType::String, TransformOperation::Delete),
            ],
        };
        let key = TypeKey {
            group: String::new(),
            version: "v1".into(),
            kind: "Service".into(),
            plural: "services".into(),
            namespaced: true,
        };
        let mut svc = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"type": "ClusterIP", "sessionAffinity": "None"}});
        assert!(apply(std::slice::from_ref(&spec), &key, &mut svc));
        assert_eq!(svc["spec"]["type"], "LoadBalancer");
        assert_eq!(svc["metadata"]["labels"], json!({"app": "web", "tier": "edge", "zone": "b"}));
        assert_eq!(svc["spec"]["externalIPs"], json!(["1.2.3.4"]));
        assert!(svc["spec"].get("sessionAffinity").is_none());
        assert_eq!(svc["metadata"]["annotations"][TRANSFORMED], "true");
        let mut other = json!({"metadata": {"name": "db", "labels": {"app": "db"}}, "spec": {"type": "ClusterIP"}});
        assert!(!apply(&[spec], &key, &mut other), "selectors must match");
    }

    #[test]
    fn invalid_rules_are_reported_with_their_position() {
        let bad = TransformSpec { resource: "Service".into(), ..Default::default() };
        assert!(validate(&[bad]).unwrap_err().contains("transformSpecs[0].resource"));
        let bad = TransformSpec {
            resource: "apps/v1/Deployment".into(),
            paths: vec![path("spec.replicas", "three", TransformValueType::Int, TransformOperation::Modify)],
            ..Default::default()
        };
        assert!(validate(&[bad]).unwrap_err().contains("paths[0]: value \"three\" is not an int"));
    }
}
