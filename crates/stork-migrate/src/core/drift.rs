//! Drift: did someone else change, on the destination, what stork-rs wrote there? Read from the copy's
//! `managedFields` (who owns which field since when) and, when those cannot rule drift out, from its
//! values.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

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

/// The `fieldsV1` sets of a copy that drift detection looks at: our own entries, and the entries other
/// managers wrote after our last write, or in the same second (status writes excepted; entries written
/// through /scale carry no time, so they count as later).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedSets {
    pub ours: Vec<Value>,
    pub later: Vec<Value>,
}

impl ManagedSets {
    /// From an object's `metadata.managedFields`; `None` when we never wrote the object.
    pub fn of(managed_fields: &Value, our_manager: &str) -> Option<Self> {
        let managed = managed_fields.as_array()?;
        let ours: Vec<&Value> = managed
            .iter()
            .filter(|m| m["manager"] == our_manager && m["subresource"].as_str().unwrap_or("").is_empty())
            .collect();
        let our_time = ours.iter().filter_map(|m| m["time"].as_str()).max()?;
        let later = managed
            .iter()
            .filter(|m| m["manager"] != our_manager && m["subresource"].as_str() != Some("status"))
            // Times have second precision: a write in the same second as ours may have come after it.
            .filter(|m| m["time"].as_str().is_none_or(|t| t >= our_time))
            .map(|m| m["fieldsV1"].clone())
            .collect();
        Some(Self { ours: ours.into_iter().map(|m| m["fieldsV1"].clone()).collect(), later })
    }

    /// A digest of the fields we own. The API server takes a field out of our set when anyone else
    /// changes its value or removes it, so an unchanged digest since a write (or a check) that left the
    /// copy as we want it means our fields still hold what we wrote. In memory only: the process-local
    /// hasher is enough.
    pub fn ours_digest(&self) -> u64 {
        digest(&self.ours)
    }

    /// A digest of the sets other managers wrote after stork-rs.
    pub fn later_digest(&self) -> u64 {
        digest(&self.later)
    }

    /// Whether a later foreign writer's set touches one of our fields (it may have set the same value;
    /// only the object can tell).
    pub fn overlapped(&self) -> bool {
        self.later.iter().any(|theirs| self.ours.iter().any(|ours| children_overlap(ours, theirs)))
    }
}

/// A digest of field sets in their canonical JSON (sorted keys), streamed into the hasher.
fn digest(sets: &[Value]) -> u64 {
    struct Feed<'a>(&'a mut DefaultHasher);
    impl std::io::Write for Feed<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = DefaultHasher::new();
    for set in sets {
        // Writing into a hasher cannot fail, and a Value always serializes.
        let _ = serde_json::to_writer(Feed(&mut hasher), set);
        0xffu8.hash(&mut hasher);
    }
    hasher.finish()
}

/// Whether two `fieldsV1` nodes own a common field: the same child where either side owns it whole
/// (no children but the `.` marker) or their children overlap.
fn children_overlap(ours: &Value, theirs: &Value) -> bool {
    let (Some(ours), Some(theirs)) = (ours.as_object(), theirs.as_object()) else { return false };
    let whole = |node: &Value| node.as_object().is_none_or(|m| m.keys().all(|k| k == "."));
    ours.iter().filter(|(k, _)| k.as_str() != ".").any(|(k, mine)| {
        theirs.get(k).is_some_and(|other| whole(mine) || whole(other) || children_overlap(mine, other))
    })
}

fn overlaps(path: &[String], theirs: &[Vec<String>]) -> bool {
    theirs.iter().any(|t| {
        let n = path.len().min(t.len());
        path[..n] == t[..n]
    })
}

/// True when `actual` (the destination object) no longer holds what we applied: a field we set is
/// gone, or another manager changed one of our fields after our last write. Fields others add (status,
/// defaults, controllers' annotations) are not drift.
pub fn drifted(actual: &Value, desired: &Value, our_manager: &str) -> bool {
    let ours = desired_paths(desired);
    if ours.iter().any(|p| !present(actual, p)) {
        return true;
    }
    // Never written by us: apply once so that we own what we set.
    let Some(sets) = ManagedSets::of(&actual["metadata"]["managedFields"], our_manager) else { return true };
    let theirs: Vec<Vec<String>> = sets.later.iter().flat_map(managed_paths).collect();
    // Another manager wrote one of our fields after us and the value there is no longer what we applied.
    ours.iter().any(|p| overlaps(p, &theirs) && value_at(actual, p) != value_at(desired, p))
}

/// What an object's metadata alone (its managedFields) tells about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataVerdict {
    /// Every field we set is still ours and nobody wrote any of them after us.
    Clean,
    /// We never wrote the object: apply.
    NeverWritten,
    /// A field we set is no longer recorded as ours, or another manager wrote one of our fields
    /// later: only the object's values can tell (see [`drifted`]).
    NeedsObject,
}

/// Drift as far as `metadata.managedFields` can tell, for objects listed metadata-only. The API server
/// drops a field from every manager's set when it is removed and moves it to the writer when another
/// manager overwrites it, so a field we set that is still in our set, with no later foreign writer,
/// still holds what we applied.
pub fn drift_from_metadata(actual: &Value, desired: &Value, our_manager: &str) -> MetadataVerdict {
    match ManagedSets::of(&actual["metadata"]["managedFields"], our_manager) {
        Some(sets) => verdict(&sets, desired),
        None => MetadataVerdict::NeverWritten,
    }
}

/// [`drift_from_metadata`] on sets taken from a copy's metadata earlier.
pub fn verdict(sets: &ManagedSets, desired: &Value) -> MetadataVerdict {
    // Walked side by side with the sets instead of expanded into paths, as this runs for every object
    // not checked since stork-rs last wrote it.
    let ours: Vec<&Value> = sets.ours.iter().collect();
    let theirs: Vec<&Value> = sets.later.iter().collect();
    if clean_below(desired, &ours, false, &theirs, Level::Root) {
        MetadataVerdict::Clean
    } else {
        MetadataVerdict::NeedsObject
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    Metadata,
    Other,
}

/// True when every field `desired` sets at or below this point is in one of `ours` (or under an
/// ancestor we own whole) and no later foreign writer's set touches it.
fn clean_below(desired: &Value, ours: &[&Value], owned_whole: bool, theirs: &[&Value], level: Level) -> bool {
    // The root of a set is not a field: an empty set owns nothing rather than everything.
    let foreign_leaf = level != Level::Root && theirs.iter().any(|t| is_managed_leaf(t));
    match desired {
        Value::Null => true,
        Value::Object(map) if map.is_empty() => true,
        Value::Object(map) => {
            // An empty set node is a field owned as a whole (an atomic map or struct).
            let whole = owned_whole
                || (level != Level::Root && ours.iter().any(|o| o.as_object().is_some_and(|m| m.is_empty())));
            map.iter().all(|(key, value)| {
                let identifying = match level {
                    Level::Root => key == "apiVersion" || key == "kind",
                    Level::Metadata => key == "name" || key == "namespace",
                    Level::Other => false,
                };
                if identifying {
                    return true;
                }
                let field = format!("f:{key}");
                let our_children: Vec<&Value> = ours.iter().filter_map(|o| o.get(&field)).collect();
                let their_children: Vec<&Value> = theirs.iter().filter_map(|t| t.get(&field)).collect();
                let next = if level == Level::Root && key == "metadata" { Level::Metadata } else { Level::Other };
                // Metadata holding only the object's name and namespace sets no field anyone owns.
                let sets = if next == Level::Metadata { sets_metadata(value) } else { sets_something(value) };
                if foreign_leaf && sets {
                    return false;
                }
                if !whole && our_children.is_empty() {
                    return !sets;
                }
                clean_below(value, &our_children, whole, &their_children, next)
            })
        }
        // A scalar or a list: ours as a whole; any foreign entry at or under it overlaps.
        _ => theirs.is_empty(),
    }
}

/// True when a value sets something the server records as owned (not a null, not an empty map).
fn sets_metadata(metadata: &Value) -> bool {
    metadata.as_object().is_some_and(|m| m.iter().any(|(k, v)| k != "name" && k != "namespace" && sets_something(v)))
}

fn sets_something(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => map.values().any(sets_something),
        _ => true,
    }
}

/// A `fieldsV1` node that `managed_paths` ends a path at: no field, key, value or index children.
fn is_managed_leaf(node: &Value) -> bool {
    node.as_object().is_none_or(|m| {
        !m.keys().any(|k| k.starts_with("f:") || k.starts_with("k:") || k.starts_with("v:") || k.starts_with("i:"))
    })
}

fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |current, segment| current.as_object()?.get(segment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn metadata_alone_clears_untouched_copies_and_flags_the_rest() {
        let fields = json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:app": {}},
            "f:annotations": {"f:stork.libopenstorage.org/resource-hash": {}}}});
        let ours = entry("stork-rs", "2026-01-01T00:00:00Z", fields.clone());
        let controller = entry(
            "kube-controller-manager",
            "2026-01-01T00:01:00Z",
            json!({"f:metadata": {"f:annotations": {"f:other": {}}}}),
        );
        let clean = actual(vec![ours.clone(), controller]);
        assert_eq!(drift_from_metadata(&clean, &desired(), "stork-rs"), MetadataVerdict::Clean);
        assert!(!drifted(&clean, &desired(), "stork-rs"), "the exact check agrees");

        // A field removed by someone else is no longer in our set.
        let trimmed = json!({"f:metadata": fields["f:metadata"].clone()});
        let removed = actual(vec![entry("stork-rs", "2026-01-01T00:00:00Z", trimmed)]);
        assert_eq!(drift_from_metadata(&removed, &desired(), "stork-rs"), MetadataVerdict::NeedsObject);

        let later = entry("kubectl-edit", "2026-01-01T00:05:00Z", json!({"f:data": {"f:k": {}}}));
        let overwritten = actual(vec![ours.clone(), later]);
        assert_eq!(drift_from_metadata(&overwritten, &desired(), "stork-rs"), MetadataVerdict::NeedsObject);

        assert_eq!(drift_from_metadata(&actual(vec![]), &desired(), "stork-rs"), MetadataVerdict::NeverWritten);
        let list = json!({"spec": {"containers": [{"name": "a"}]}});
        let with_list = json!({"metadata": {"managedFields": [entry("stork-rs", "2026-01-01T00:00:00Z",
            json!({"f:spec": {"f:containers": {"k:{\"name\":\"a\"}": {".": {}, "f:name": {}}}}}))]}});
        assert_eq!(drift_from_metadata(&with_list, &list, "stork-rs"), MetadataVerdict::Clean);

        // Atomic maps are owned as one leaf; empty maps set nothing.
        let atomic = json!({"spec": {"selector": {"app": "web"}, "template": {"metadata": {}}}});
        let owned_atomic = json!({"metadata": {"managedFields": [entry("stork-rs", "2026-01-01T00:00:00Z",
            json!({"f:spec": {"f:selector": {}}}))]}});
        assert_eq!(drift_from_metadata(&owned_atomic, &atomic, "stork-rs"), MetadataVerdict::Clean);
        let map_only = json!({"metadata": {"managedFields": [entry("stork-rs", "2026-01-01T00:00:00Z",
            json!({"f:spec": {"f:selector": {".": {}}}}))]}});
        assert_eq!(drift_from_metadata(&map_only, &atomic, "stork-rs"), MetadataVerdict::NeedsObject);

        // A later foreign entry that owns nothing, or only fields beside ours, changes nothing.
        let mut beside = owned_atomic.clone();
        if let Some(m) = beside["metadata"]["managedFields"].as_array_mut() {
            m.push(entry("other", "2026-01-02T00:00:00Z", json!({})));
            m.push(entry("other", "2026-01-02T00:00:00Z", json!({"f:spec": {"f:paused": {}}})));
        }
        assert_eq!(drift_from_metadata(&beside, &atomic, "stork-rs"), MetadataVerdict::Clean);
        // One that owns a map above ours as a whole overlaps it.
        if let Some(m) = beside["metadata"]["managedFields"].as_array_mut() {
            m.push(entry("other", "2026-01-02T00:00:00Z", json!({"f:spec": {".": {}}})));
        }
        assert_eq!(drift_from_metadata(&beside, &atomic, "stork-rs"), MetadataVerdict::NeedsObject);
    }

    #[test]
    fn sets_tell_a_removed_or_taken_field_and_a_later_writer_of_ours() {
        let fields = json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {"f:app": {}}}});
        let ours = entry("stork-rs", "2026-01-01T00:00:00Z", fields.clone());
        let sets = ManagedSets::of(&json!([ours.clone()]), "stork-rs").expect("ours");
        assert!(!sets.overlapped());
        let same = ManagedSets::of(&json!([ours.clone()]), "stork-rs").expect("ours");
        assert_eq!(sets.ours_digest(), same.ours_digest());
        let trimmed = entry("stork-rs", "2026-01-01T00:00:00Z", json!({"f:data": {"f:k": {}}}));
        let fewer = ManagedSets::of(&json!([trimmed]), "stork-rs").expect("ours");
        assert_ne!(sets.ours_digest(), fewer.ours_digest(), "a field left our set");

        let beside = entry(
            "kube-controller-manager",
            "2026-01-02T00:00:00Z",
            json!({"f:metadata": {"f:annotations": {"f:rev": {}}}}),
        );
        let status = json!({"manager": "x", "subresource": "status", "time": "2026-01-02T00:00:00Z", "fieldsV1": {"f:data": {}}});
        let sets = ManagedSets::of(&json!([ours.clone(), beside, status]), "stork-rs").expect("ours");
        assert!(!sets.overlapped(), "fields beside ours and status writes are not ours");
        let shared = entry("kubectl", "2026-01-02T00:00:00Z", json!({"f:data": {"f:k": {}}}));
        assert!(ManagedSets::of(&json!([ours.clone(), shared]), "stork-rs").expect("ours").overlapped());
        let whole_map = entry("kubectl", "2026-01-02T00:00:00Z", json!({"f:data": {".": {}}}));
        assert!(ManagedSets::of(&json!([ours.clone(), whole_map]), "stork-rs").expect("ours").overlapped());
        let older = entry("kubectl", "2025-01-02T00:00:00Z", json!({"f:data": {"f:k": {}}}));
        assert!(!ManagedSets::of(&json!([ours, older]), "stork-rs").expect("ours").overlapped(), "before our write");
        assert!(ManagedSets::of(&json!([]), "stork-rs").is_none(), "never written by us");
    }
}
