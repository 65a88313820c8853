//! ResourceTransformation rules (Stork's `transformSpecs`): path patches on matching objects. Unlike
//! Stork they apply to every kind (Stork silently skipped Deployments, StatefulSets, PVs and CronJobs),
//! paths may index lists (`spec.containers[0].image`), `jsonpatch` takes an RFC 6902 patch, and a rule
//! that matches nothing in an object is reported rather than passed over in silence.

use serde_json::{Map, Value, json};
use stork_api::{ResourcePath, TransformOperation, TransformSpec, TransformValueType};

use super::model::TypeKey;
use stork_api::annotations::RESOURCE_TRANSFORMATION_NAME as TRANSFORMED;

/// One step of a path: a field of an object, or an element of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Field(String),
    Index(usize),
}

/// `spec.template.spec.containers[0].image` into its steps; the error says what is wrong and where.
pub fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    if path.is_empty() {
        return Err("path is empty".to_string());
    }
    let mut steps = Vec::new();
    for (i, segment) in path.split('.').enumerate() {
        let (name, mut rest) = match segment.find('[') {
            Some(at) => segment.split_at(at),
            None => (segment, ""),
        };
        if name.is_empty() || name.contains(']') {
            return Err(format!("path {path:?}: segment {} ({segment:?}) must start with a field name", i + 1));
        }
        steps.push(Step::Field(name.to_string()));
        while !rest.is_empty() {
            let index = rest
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let Some((n, after)) = index else {
                return Err(format!("path {path:?}: {rest:?} in segment {} is not a list index such as [0]", i + 1));
            };
            let n = n.parse::<usize>().map_err(|_| format!("path {path:?}: index [{n}] is too large"))?;
            steps.push(Step::Index(n));
            rest = after;
        }
    }
    Ok(steps)
}

/// What is wrong with each rule, with its position (`transformSpecs[0].paths[1]: ...`); empty when all
/// can be used. Served kinds are checked against a cluster elsewhere.
pub fn problems(specs: &[TransformSpec]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let parts: Vec<&str> = spec.resource.split('/').collect();
        if parts.len() != 3 || parts[1].is_empty() || parts[2].is_empty() {
            out.push(format!(
                "transformSpecs[{i}].resource {:?} must be <group>/<version>/<Kind> (core group: /v1/Service)",
                spec.resource
            ));
        }
        for (j, path) in spec.paths.iter().enumerate() {
            if let Err(e) = check_path(path) {
                out.push(format!("transformSpecs[{i}].paths[{j}]: {e}"));
            }
        }
    }
    out
}

/// The first problem of [`problems`], as a migration reports it.
pub fn validate(specs: &[TransformSpec]) -> Result<(), String> {
    match problems(specs).into_iter().next() {
        Some(problem) => Err(format!("specs.{problem}")),
        None => Ok(()),
    }
}

fn check_path(path: &ResourcePath) -> Result<(), String> {
    match path.operation {
        TransformOperation::Jsonpatch => json_patch_of(path).map(drop),
        TransformOperation::Delete => parse_path(&path.path).map(drop),
        TransformOperation::Add | TransformOperation::Modify => {
            parse_path(&path.path)?;
            parse_value(path).map(drop)
        }
    }
}

fn json_patch_of(path: &ResourcePath) -> Result<json_patch::Patch, String> {
    serde_json::from_str(&path.value).map_err(|e| {
        format!("value of a jsonpatch operation must be an RFC 6902 patch, a JSON list of operations: {e}")
    })
}

/// What rules did to one object.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// A rule's resource and selectors matched the object, so its paths were applied.
    pub matched: bool,
    /// Paths of matching rules that found nothing to change in the object, each with why.
    pub unmatched: Vec<String>,
}

impl Applied {
    /// `path spec.foo (modify) matched nothing: ...; ...` for status and details, or `None`.
    pub fn report(&self) -> Option<String> {
        (!self.unmatched.is_empty()).then(|| self.unmatched.join("; "))
    }
}

/// Applies the rules matching `key` and the object's labels.
pub fn apply(specs: &[TransformSpec], key: &TypeKey, obj: &mut Value) -> Applied {
    let resource = format!("{}/{}/{}", key.group, key.version, key.kind);
    let mut out = Applied::default();
    for spec in specs.iter().filter(|s| s.resource == resource) {
        let labels = &obj["metadata"]["labels"];
        if !spec.selectors.iter().all(|(k, v)| labels[k].as_str() == Some(v.as_str())) {
            continue;
        }
        for path in &spec.paths {
            if let Err(why) = apply_path(obj, path) {
                out.unmatched.push(format!("path {:?} ({}) matched nothing: {why}", path.path, operation_name(path)));
            }
        }
        out.matched = true;
    }
    if out.matched
        && let Some(meta) = obj["metadata"].as_object_mut()
    {
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(TRANSFORMED.to_string(), json!("true"));
        }
    }
    out
}

fn operation_name(path: &ResourcePath) -> &'static str {
    match path.operation {
        TransformOperation::Add => "add",
        TransformOperation::Modify => "modify",
        TransformOperation::Delete => "delete",
        TransformOperation::Jsonpatch => "jsonpatch",
    }
}

fn parse_value(path: &ResourcePath) -> Result<Value, String> {
    let v = path.value.trim();
    match path.value_type {
        TransformValueType::String => Ok(json!(path.value)),
        TransformValueType::Int => v.parse::<i64>().map(|n| json!(n)).map_err(|_| format!("value {v:?} is not an int")),
        TransformValueType::Bool => {
            v.parse::<bool>().map(|b| json!(b)).map_err(|_| format!("value {v:?} is not a bool (true or false)"))
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

/// One path of a rule on `obj`; `Err` says why it found nothing to change (the object is then unchanged
/// by it). `add` creates missing fields on the way; `modify` and `delete` change only what is there.
fn apply_path(obj: &mut Value, path: &ResourcePath) -> Result<(), String> {
    if path.operation == TransformOperation::Jsonpatch {
        let patch = json_patch_of(path)?;
        let mut patched = obj.clone();
        json_patch::patch(&mut patched, &patch).map_err(|e| e.to_string())?;
        *obj = patched;
        return Ok(());
    }
    let steps = parse_path(&path.path)?;
    let Some((last, parents)) = steps.split_last() else { return Err("path is empty".to_string()) };
    let create = path.operation == TransformOperation::Add;
    let parent = walk(obj, parents, create, last)?;
    if path.operation == TransformOperation::Delete {
        let removed = match (parent, last) {
            (Value::Object(map), Step::Field(name)) => map.remove(name).is_some(),
            (Value::Array(list), Step::Index(i)) if *i < list.len() => {
                list.remove(*i);
                true
            }
            _ => false,
        };
        return if removed { Ok(()) } else { Err("no such field".to_string()) };
    }
    let value = parse_value(path)?;
    let slot = match (parent, last) {
        (Value::Object(map), Step::Field(name)) => map.entry(name.clone()).or_insert(Value::Null),
        (Value::Array(list), Step::Index(i)) if *i < list.len() => &mut list[*i],
        (Value::Array(list), Step::Index(i)) if *i == list.len() && create => {
            list.push(Value::Null);
            &mut list[*i]
        }
        (Value::Array(list), Step::Index(i)) => return Err(format!("the list has {} elements, not [{i}]", list.len())),
        _ => return Err("the parent is not an object".to_string()),
    };
    match (path.operation, path.value_type, &mut *slot, value) {
        (TransformOperation::Modify, TransformValueType::Keypair, Value::Object(existing), Value::Object(new)) => {
            existing.extend(new)
        }
        (TransformOperation::Modify, TransformValueType::Slice, Value::Array(existing), Value::Array(new)) => {
            existing.extend(new)
        }
        (_, _, slot, value) => *slot = value,
    }
    Ok(())
}

/// The value at `steps` (created as empty objects on the way with `create`), which should hold `next`.
fn walk<'v>(mut current: &'v mut Value, steps: &[Step], create: bool, next: &Step) -> Result<&'v mut Value, String> {
    for (n, step) in steps.iter().enumerate() {
        let upcoming = steps.get(n + 1).unwrap_or(next);
        current = match (current, step) {
            (Value::Object(map), Step::Field(name)) => {
                if create && !map.contains_key(name) {
                    let empty = if matches!(upcoming, Step::Index(_)) { json!([]) } else { json!({}) };
                    map.insert(name.clone(), empty);
                }
                map.get_mut(name).ok_or_else(|| format!("no field {name:?}"))?
            }
            (Value::Array(list), Step::Index(i)) => {
                let len = list.len();
                list.get_mut(*i).ok_or_else(|| format!("the list has {len} elements, not [{i}]"))?
            }
            (_, Step::Field(name)) => return Err(format!("{name:?} is looked up in something that is not an object")),
            (_, Step::Index(i)) => return Err(format!("[{i}] is looked up in something that is not a list")),
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str, value: &str, value_type: TransformValueType, operation: TransformOperation) -> ResourcePath {
        ResourcePath { path: p.into(), value: value.into(), value_type, operation }
    }

    fn key(group: &str, kind: &str, plural: &str) -> TypeKey {
        TypeKey {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced: true,
        }
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
        let service = key("", "Service", "services");
        let mut svc = json!({"metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"type": "ClusterIP", "sessionAffinity": "None"}});
        let applied = apply(std::slice::from_ref(&spec), &service, &mut svc);
        assert_eq!(applied, Applied { matched: true, unmatched: vec![] });
        assert_eq!(svc["spec"]["type"], "LoadBalancer");
        assert_eq!(svc["metadata"]["labels"], json!({"app": "web", "tier": "edge", "zone": "b"}));
        assert_eq!(svc["spec"]["externalIPs"], json!(["1.2.3.4"]));
        assert!(svc["spec"].get("sessionAffinity").is_none());
        assert_eq!(svc["metadata"]["annotations"][TRANSFORMED], "true");
        let mut other = json!({"metadata": {"name": "db", "labels": {"app": "db"}}, "spec": {"type": "ClusterIP"}});
        assert!(!apply(&[spec], &service, &mut other).matched, "selectors must match");
    }

    #[test]
    fn list_indexes_and_json_patches() {
        let deploy = key("apps", "Deployment", "deployments");
        let mut d = json!({"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "registry.a/web:1"}]}}}});
        let spec = TransformSpec {
            resource: "apps/v1/Deployment".into(),
            paths: vec![
                path(
                    "spec.template.spec.containers[0].image",
                    "registry.b/web:1",
                    TransformValueType::String,
                    TransformOperation::Modify,
                ),
                path(
                    "",
                    r#"[{"op": "add", "path": "/spec/template/spec/containers/0/env", "value": [{"name": "SITE", "value": "dr"}]}]"#,
                    TransformValueType::String,
                    TransformOperation::Jsonpatch,
                ),
            ],
            ..Default::default()
        };
        assert!(problems(std::slice::from_ref(&spec)).is_empty());
        assert_eq!(apply(&[spec], &deploy, &mut d).unmatched, Vec::<String>::new());
        let container = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "registry.b/web:1");
        assert_eq!(container["env"][0]["value"], "dr");
    }

    #[test]
    fn a_path_that_finds_nothing_is_reported_and_changes_nothing() {
        let cm = key("", "ConfigMap", "configmaps");
        let before = json!({"metadata": {"name": "c", "annotations": {}}, "data": {"k": "v"}});
        let spec = TransformSpec {
            resource: "/v1/ConfigMap".into(),
            paths: vec![
                path("data.missing", "", TransformValueType::String, TransformOperation::Delete),
                path("spec.nothing.here", "x", TransformValueType::String, TransformOperation::Modify),
                path("data.k[2]", "x", TransformValueType::String, TransformOperation::Modify),
                path(
                    "",
                    r#"[{"op": "replace", "path": "/data/absent", "value": "x"}]"#,
                    TransformValueType::String,
                    TransformOperation::Jsonpatch,
                ),
            ],
            ..Default::default()
        };
        let mut obj = before.clone();
        let applied = apply(&[spec], &cm, &mut obj);
        assert!(applied.matched);
        assert_eq!(applied.unmatched.len(), 4, "{:?}", applied.unmatched);
        assert!(applied.report().is_some_and(|r| r.contains("path \"data.missing\" (delete) matched nothing")));
        assert_eq!(obj["data"], before["data"]);
        assert!(obj.get("spec").is_none(), "modify creates nothing");
    }

    #[test]
    fn path_syntax() {
        use Step::*;
        assert_eq!(
            parse_path("a.b[0][1].c"),
            Ok(vec![Field("a".into()), Field("b".into()), Index(0), Index(1), Field("c".into())])
        );
        for bad in ["data[[[", "a..b", "", "a[x]", "a[0", "[0].a", "a]b", "a[0]x"] {
            assert!(parse_path(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(parse_path("data[[[").unwrap_err().contains("is not a list index"));
    }

    #[test]
    fn invalid_rules_are_reported_with_their_position() {
        let bad = TransformSpec { resource: "Service".into(), ..Default::default() };
        assert!(validate(&[bad]).unwrap_err().contains("transformSpecs[0].resource"));
        let rules = [
            TransformSpec {
                resource: "apps/v1/Deployment".into(),
                paths: vec![path("spec.replicas", "three", TransformValueType::Int, TransformOperation::Modify)],
                ..Default::default()
            },
            TransformSpec {
                resource: "/v1/ConfigMap".into(),
                paths: vec![
                    path("data[[[", "x", TransformValueType::String, TransformOperation::Modify),
                    path("", "{not json", TransformValueType::String, TransformOperation::Jsonpatch),
                    path("data.on", "maybe", TransformValueType::Bool, TransformOperation::Add),
                ],
                ..Default::default()
            },
        ];
        let found = problems(&rules);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("transformSpecs[0].paths[0]: value \"three\" is not an int"));
        assert!(found[1].starts_with("transformSpecs[1].paths[0]: path \"data[[[\""));
        assert!(found[2].contains("RFC 6902"));
        assert!(found[3].contains("not a bool"));
    }
}
