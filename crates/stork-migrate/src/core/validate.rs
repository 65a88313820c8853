//! What makes a Migration invalid, decided before anything is read from either cluster, and the one rule
//! for whether a ClusterPair can carry a migration: the controller and `storkctl` both ask here.

use std::collections::BTreeSet;

use stork_api::{ClusterPairStatus, ClusterPairStatusType, MigrationSpec};

/// Why the spec cannot run, as the status reason: what is wrong and what to do.
pub fn check_spec(spec: &MigrationSpec, namespace: &str) -> Result<(), String> {
    if spec.cluster_pair.is_empty() {
        return Err(format!(
            "spec.clusterPair is empty: name the ClusterPair (in namespace {namespace}) to migrate to"
        ));
    }
    if spec.namespaces.is_empty() && spec.namespace_selectors.is_empty() {
        return Err(
            "spec.namespaces is empty: list the namespaces to migrate (or use spec.namespaceSelectors)".to_string()
        );
    }
    for (field, rule) in [("preExecRule", &spec.pre_exec_rule), ("postExecRule", &spec.post_exec_rule)] {
        if !rule.is_empty() {
            return Err(format!(
                "spec.{field} ({rule}) is not supported by stork-rs yet: Rules run commands in application pods; \
                 remove it and quiesce the application another way"
            ));
        }
    }
    if spec.transform_specs.len() > 1 {
        return Err(
            "spec.transformSpecs names more than one ResourceTransformation; at most one is supported".to_string()
        );
    }
    for (field, selector) in [
        ("selectors", &spec.selectors),
        ("excludeSelectors", &spec.exclude_selectors),
        ("namespaceSelectors", &spec.namespace_selectors),
    ] {
        for (k, v) in selector {
            if let Some(problem) = label_problem(k, v) {
                return Err(format!("spec.{field} has an invalid label {k}={v}: {problem}"));
            }
        }
    }
    Ok(())
}

/// A Migration outside the admin namespace may only migrate its own namespace (as Stork).
pub fn check_namespace_scope(
    namespace: &str,
    admin_namespace: &str,
    namespaces: &BTreeSet<String>,
) -> Result<(), String> {
    if namespace != admin_namespace && namespaces.iter().any(|ns| ns != namespace) {
        return Err(format!(
            "migration namespaces should only contain the current namespace: a Migration in {namespace} may only migrate {namespace}; \
             create it in the admin namespace {admin_namespace} to migrate others"
        ));
    }
    Ok(())
}

/// Namespaces of the cluster itself: copied only when a Migration of the admin namespace names them.
pub const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The admin pair writes with the destination's admin credentials: only a Migration of the admin
/// namespace may use it.
pub fn check_admin_pair(namespace: &str, admin_namespace: &str, admin_pair: &str) -> Result<(), String> {
    if !admin_pair.is_empty() && namespace != admin_namespace {
        return Err(format!(
            "spec.adminClusterPair ({admin_pair}) may only be used by a Migration in the admin namespace \
             {admin_namespace}, not in {namespace}: it writes with admin credentials; remove it or create the \
             Migration in {admin_namespace}"
        ));
    }
    Ok(())
}

/// Leaves out system namespaces — [`SYSTEM_NAMESPACES`] and the controller's own, where its leader Lease
/// and service account live — that a selector picked (they are never migrated by accident), and refuses
/// one named explicitly outside the admin namespace.
pub fn restrict_system_namespaces(
    namespace: &str,
    admin_namespace: &str,
    controller_namespace: &str,
    named: &[String],
    resolved: &mut BTreeSet<String>,
) -> Result<(), String> {
    for system in SYSTEM_NAMESPACES.into_iter().chain([controller_namespace]) {
        if !resolved.contains(system) {
            continue;
        }
        let explicit = named.iter().any(|n| n == system);
        if explicit && namespace != admin_namespace {
            return Err(format!(
                "namespace {system} is a system namespace: only a Migration in the admin namespace {admin_namespace} \
                 that names it in spec.namespaces may migrate it"
            ));
        }
        if !explicit {
            resolved.remove(system);
        }
    }
    Ok(())
}

/// Label keys and values as Kubernetes accepts them.
pub fn label_problem(key: &str, value: &str) -> Option<&'static str> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && !p.contains('/')
            && p.split('.').all(|part| name_ok(part) && !part.contains('_'))
    });
    if !name_ok(name) || !prefix_ok {
        return Some("keys are up to 63 characters of [A-Za-z0-9-_.] (with an optional DNS prefix and /)");
    }
    if !value.is_empty() && !name_ok(value) {
        return Some("values are empty or up to 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric");
    }
    None
}

/// Whether a pair whose status is `status` can carry a migration, and if not, why. The scheduler side
/// must be Ready; the storage side must be Ready or NotProvided (no storage options) unless the
/// migration leaves volumes out, since stork-rs moves no volume data without a storage driver.
pub fn pair_ready(
    namespace: &str,
    name: &str,
    status: &ClusterPairStatus,
    include_volumes: bool,
) -> Result<(), String> {
    if status.scheduler_status != ClusterPairStatusType::Ready {
        let why = condition_message(status, stork_api::CONDITION_SCHEDULER_READY);
        return Err(format!(
            "ClusterPair {namespace}/{name} is not Ready (schedulerStatus {:?}){why}; fix the pair, then create the Migration again",
            status.scheduler_status.as_str()
        ));
    }
    let storage_ok = matches!(status.storage_status, ClusterPairStatusType::Ready | ClusterPairStatusType::NotProvided);
    if include_volumes && !storage_ok {
        let why = condition_message(status, stork_api::CONDITION_STORAGE_READY);
        return Err(format!(
            "cluster pair storage status is not ready: ClusterPair {namespace}/{name} has storageStatus {:?}{why}; \
             fix its storage options, or set spec.includeVolumes: false to migrate resources only",
            status.storage_status.as_str()
        ));
    }
    Ok(())
}

fn condition_message(status: &ClusterPairStatus, type_: &str) -> String {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == type_ && !c.message.is_empty())
        .map(|c| format!(": {}", c.message))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MigrationSpec {
        MigrationSpec { cluster_pair: "remote".into(), namespaces: vec!["shop".into()], ..Default::default() }
    }

    #[test]
    fn invalid_specs_say_what_to_do() {
        assert_eq!(check_spec(&spec(), "shop"), Ok(()));
        let cases: Vec<(MigrationSpec, &str)> = vec![
            (MigrationSpec { cluster_pair: String::new(), ..spec() }, "spec.clusterPair is empty"),
            (MigrationSpec { namespaces: vec![], ..spec() }, "spec.namespaces is empty"),
            (
                MigrationSpec { pre_exec_rule: "quiesce".into(), ..spec() },
                "spec.preExecRule (quiesce) is not supported",
            ),
            (MigrationSpec { post_exec_rule: "r".into(), ..spec() }, "spec.postExecRule (r)"),
            (MigrationSpec { transform_specs: vec!["a".into(), "b".into()], ..spec() }, "more than one"),
            (
                MigrationSpec { selectors: [("bad key!".to_string(), "x".to_string())].into(), ..spec() },
                "spec.selectors has an invalid label bad key!=x",
            ),
            (
                MigrationSpec { exclude_selectors: [("app".to_string(), "-web".to_string())].into(), ..spec() },
                "spec.excludeSelectors has an invalid label",
            ),
        ];
        for (spec, expected) in cases {
            let reason = check_spec(&spec, "shop").expect_err(expected);
            assert!(reason.contains(expected), "{reason:?} must contain {expected:?}");
        }
        let by_label =
            MigrationSpec { namespaces: vec![], namespace_selectors: [("team".into(), "a".into())].into(), ..spec() };
        assert_eq!(check_spec(&by_label, "kube-system"), Ok(()));
    }

    #[test]
    fn label_keys_and_values_as_kubernetes_accepts_them() {
        for (k, v) in [("app", "web"), ("app.kubernetes.io/name", "web"), ("a_b", ""), ("x", "A.b-c_9")] {
            assert_eq!(label_problem(k, v), None, "{k}={v}");
        }
        for (k, v) in [("", "v"), ("a/b/c", "v"), ("-a", "v"), ("a", "-v"), ("bad_prefix.io/a", "v"), ("/a", "v")] {
            assert!(label_problem(k, v).is_some(), "{k}={v}");
        }
        assert!(label_problem(&"a".repeat(64), "v").is_some());
        assert!(label_problem("a", &"v".repeat(64)).is_some());
    }

    #[test]
    fn admin_pairs_and_system_namespaces_belong_to_the_admin_namespace() {
        assert_eq!(check_admin_pair("kube-system", "kube-system", "admin"), Ok(()));
        assert_eq!(check_admin_pair("shop", "kube-system", ""), Ok(()));
        assert!(
            check_admin_pair("shop", "kube-system", "admin").unwrap_err().contains("spec.adminClusterPair (admin)")
        );

        let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
        let mut picked = set(&["shop", "kube-system", "kube-public"]);
        let restrict = |namespace, named: &[String], resolved: &mut BTreeSet<String>| {
            restrict_system_namespaces(namespace, "kube-system", "stork-system", named, resolved)
        };
        assert_eq!(restrict("kube-system", &[], &mut picked), Ok(()));
        assert_eq!(picked, set(&["shop"]), "a selector never picks a system namespace");
        let mut picked = set(&["shop", "stork-system"]);
        assert_eq!(restrict("shop", &[], &mut picked), Ok(()));
        assert_eq!(picked, set(&["shop"]), "nor the controller's own");
        let mut named = set(&["kube-public"]);
        let explicit = ["kube-public".to_string()];
        assert_eq!(restrict("kube-system", &explicit, &mut named), Ok(()));
        assert_eq!(named, set(&["kube-public"]));
        assert!(restrict("kube-public", &explicit, &mut named).is_err());
        let mut own = set(&["stork-system"]);
        let err = restrict("shop", &["stork-system".to_string()], &mut own).unwrap_err();
        assert!(err.contains("namespace stork-system is a system namespace"), "{err}");
    }

    #[test]
    fn only_the_admin_namespace_migrates_others() {
        let own: BTreeSet<String> = ["shop".to_string()].into();
        let other: BTreeSet<String> = ["shop".to_string(), "blog".to_string()].into();
        assert_eq!(check_namespace_scope("shop", "kube-system", &own), Ok(()));
        assert!(check_namespace_scope("shop", "kube-system", &other).is_err());
        assert_eq!(check_namespace_scope("kube-system", "kube-system", &other), Ok(()));
    }

    #[test]
    fn one_rule_for_a_pair_that_can_carry_a_migration() {
        let status = |scheduler, storage| ClusterPairStatus {
            scheduler_status: scheduler,
            storage_status: storage,
            ..Default::default()
        };
        use ClusterPairStatusType::*;
        assert_eq!(pair_ready("ns", "p", &status(Ready, NotProvided), true), Ok(()));
        assert_eq!(pair_ready("ns", "p", &status(Ready, Ready), true), Ok(()));
        let reason = pair_ready("ns", "p", &status(Error, NotProvided), true).expect_err("scheduler");
        assert!(reason.contains("ClusterPair ns/p is not Ready (schedulerStatus \"Error\")"), "{reason}");
        let reason = pair_ready("ns", "p", &status(Ready, Error), true).expect_err("storage");
        assert!(reason.starts_with("cluster pair storage status is not ready"), "{reason}");
        assert_eq!(pair_ready("ns", "p", &status(Ready, Error), false), Ok(()), "volumes left out");
        assert!(pair_ready("ns", "p", &status(Initial, Initial), true).is_err(), "not validated yet");
    }
}
