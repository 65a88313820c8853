//! What needs writing on the destination: a stable hash of the prepared source object (did the source
//! change?) and drift detection on the destination object (did someone else change what we wrote?).

use serde_json::Value;

/// Hex SHA-256 (first 128 bits) of the canonical JSON of `obj`; stable across runs and processes.
pub fn content_hash(obj: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(obj, &mut canonical);
    let digest = ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes());
    digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON with object keys sorted, so equal content hashes equally whatever the map order.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Field paths set by `desired`, each ending at a scalar, a list (lists count as a whole) or an empty
/// object. `apiVersion`, `kind` and the name/namespace identify the object and are left out.
fn desired_paths(desired: &Value) -> Vec<Vec<String>> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    path.push(k.clone());
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => out.push(path.clone()),
        }
    }
    let mut out = Vec::new();
    walk(desired, &mut Vec::new(), &mut out);
    out.retain(|p| {
        !matches!(p.first().map(String::as_str), Some("apiVersion" | "kind"))
            && p != &["metadata", "name"]
            && p != &["metadata", "namespace"]
    });
    out
}

/// Paths in a managedFields `fieldsV1` set, cut at list elements (`k:`, `v:`, `i:`) like ours.
fn managed_paths(fields: &Value) -> Vec<Vec<String>> {
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let Some(map) = value.as_object() else { return };
        let mut leaf = true;
        for (k, v) in map {
            if let Some(field) = k.strip_prefix("f:") {
                leaf = false;
                path.push(field.to_string());
                walk(v, path, out);
                path.pop();
            } else if k.starts_with("k:") || k.starts_with("v:") || k.starts_with("i:") {
                leaf = false;
                out.push(path.clone());
            }
        }
        if leaf && !path.is_empty() {
            out.push(path.clone());
        }
    }
    let mut out = Vec::new();
    walk(fields, &mut Vec::new(), &mut out);
    out
}

fn present(obj: &Value, path: &[String]) -> bool {
    let mut current = obj;
    for segment in path {
        match current.as_object().and_then(|m| m.get(segment)) {
            Some(next) => current = next,
            None => return false,
        }
    }
    true
}

/// True when `actual` (the destination object) no longer holds what we applied: a field we set is
/// gone, or another manager changed one of our fields after our last write. Fields others add (status,
/// defaults, controllers' annotations) are not drift.
pub fn drifted(actual: &Value, desired: &Value, our_manager: &str) -> bool {
    let ours = desired_paths(desired);
    if ours.iter().any(|p| !present(actual, p)) {
        return true;
    }
    let managed = actual["metadata"]["managedFields"].as_array().cloned().unwrap_or_default();
    let Some(our_time) = managed
        .iter()
        .filter(|m| m["manager"] == our_manager && m["subresource"].as_str().unwrap_or("").is_empty())
        .filter_map(|m| m["time"].as_str())
        .max()
        .map(str::to_string)
    else {
        // Never written by us: apply once so that we own what we set.
        return true;
    };
    // Another manager wrote one of our fields after us (entries written through /scale carry no time,
    // so they count as later) and the value there is no longer what we applied.
    let later = |m: &&Value| m["time"].as_str().is_none_or(|t| t > our_time.as_str());
    let theirs: Vec<Vec<String>> = managed
        .iter()
        .filter(|m| m["manager"] != our_manager && m["subresource"].as_str() != Some("status"))
        .filter(later)
        .flat_map(|m| managed_paths(&m["fieldsV1"]))
        .collect();
    ours.iter().any(|p| {
        theirs.iter().any(|t| {
            let n = p.len().min(t.len());
            p[..n] == t[..n]
        }) && value_at(actual, p) != value_at(desired, p)
    })
}

fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |current, segment| current.as_object()?.get(segment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order_and_sees_values() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&json!({"b": 2, "a": {"y": [1, 2], "x": "s"}})));
        assert_eq!(content_hash(&a).len(), 32);
    }

    fn entry(manager: &str, time: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": "Update", "time": time, "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    fn desired() -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n",
            "labels": {"app": "web"}, "annotations": {"stork.libopenstorage.org/resource-hash": "h"}},
            "data": {"k": "v"}})
    }

    fn actual(managed: Vec<Value>) -> Value {
        let mut obj = desired();
        obj["metadata"]["managedFields"] = json!(managed);
        obj["metadata"]["resourceVersion"] = json!("5");
        obj
    }

    #[test]
    fn untouched_copy_is_not_drifted_even_with_other_managers_elsewhere() {
        let ours = entry(
            "stork-rs",
            "2026-01-01T00:00:00Z",
            json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}),
        );
        let controller = entry(
            "kube-controller-manager",
            "2026-01-01T00:01:00Z",
            json!({"f:metadata": {"f:annotations": {"f:other": {}}}}),
        );
        let status = json!({"manager": "x", "subresource": "status", "time": "2026-01-02T00:00:00Z", "fieldsV1": {"f:data": {}}});
        let scale = json!({"manager": "kubectl", "subresource": "scale", "time": "2026-01-02T00:00:00Z", "fieldsV1": {"f:data": {"f:k": {}}}});
        let mut scaled = actual(vec![ours.clone(), scale.clone()]);
        assert!(!drifted(&scaled, &desired(), "stork-rs"), "a co-owner that set the same value changed nothing");
        scaled["data"]["k"] = json!("other");
        let untimed = json!({"manager": "kubectl", "subresource": "scale", "fieldsV1": {"f:data": {"f:k": {}}}});
        scaled["metadata"]["managedFields"] = json!([ours.clone(), untimed]);
        assert!(
            drifted(&scaled, &desired(), "stork-rs"),
            "a write through /scale (no time) that changed our value is drift"
        );
        assert!(!drifted(&actual(vec![ours, controller, status]), &desired(), "stork-rs"));
    }

    #[test]
    fn a_later_edit_of_our_field_or_a_removed_field_is_drift() {
        let ours = entry("stork-rs", "2026-01-01T00:00:00Z", json!({"f:metadata": {"f:labels": {"f:app": {}}}}));
        let edit = entry("kubectl-edit", "2026-01-01T00:05:00Z", json!({"f:data": {"f:k": {}}}));
        let mut edited = actual(vec![ours.clone(), edit]);
        edited["data"]["k"] = json!("edited");
        assert!(drifted(&edited, &desired(), "stork-rs"));
        // An older co-owner (the object existed before we applied) is not drift.
        let older = entry("kubectl-create", "2025-12-31T00:00:00Z", json!({"f:data": {"f:k": {}}}));
        assert!(!drifted(&actual(vec![ours.clone(), older]), &desired(), "stork-rs"));
        let mut gone = actual(vec![ours]);
        gone["data"] = json!({});
        assert!(drifted(&gone, &desired(), "stork-rs"));
    }

    #[test]
    fn never_applied_by_us_means_apply() {
        assert!(drifted(&actual(vec![]), &desired(), "stork-rs"));
    }

    #[test]
    fn list_fields_compare_as_a_whole() {
        let desired = json!({"spec": {"containers": [{"name": "a", "image": "i"}]}});
        let mut actual = desired.clone();
        actual["spec"]["containers"][0]["image"] = json!("i2");
        actual["metadata"] = json!({"managedFields": [
            entry("stork-rs", "2026-01-01T00:00:00Z", json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:image": {}}}}})),
            entry("kubectl-set", "2026-01-01T00:09:00Z", json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {"f:image": {}}}}})),
        ]});
        assert!(drifted(&actual, &desired, "stork-rs"));
    }
}
