//! Activation, the inverse of preparation: a standby copy brought to life (workloads scaled to the
//! replicas the source had, CronJobs unsuspended as they were), or a running application idled again,
//! remembering what ran so that activation brings it back. On a destination only the copies stork-rs
//! migrated are touched, never a user's own workload or CronJob; on a source (a failover idling the
//! originals, a rollback bringing them back) only what an idling remembered is brought back.

use serde_json::{Value, json};
use stork_api::annotations as ann;

use super::model::TypeKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Scale up to the remembered replicas, unsuspend to the remembered state.
    Activate,
    /// Scale to 0 and suspend, remembering what was running.
    Deactivate,
}

/// Whose objects are activated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// Copies stork-rs migrated (annotated `migrated`): a destination's standby.
    Copies,
    /// An application's own objects: idled by a failover, brought back by its rollback.
    Originals,
}

/// One change to one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// `replicas` or `suspend`.
    pub field: &'static str,
    pub from: String,
    pub to: String,
    /// JSON merge patch that makes the change.
    pub patch: Value,
}

/// Whether objects of this type can be activated at all.
pub fn is_activatable(key: &TypeKey) -> bool {
    matches!(
        (key.group.as_str(), key.kind.as_str()),
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet")
            | ("apps.openshift.io", "DeploymentConfig")
            | ("batch", "CronJob")
    )
}

/// The change `direction` needs on `obj` (a whole object of type `key`), or `None` when it needs none,
/// is not a workload or CronJob of `whose`, or (activating originals) was not idled by stork-rs.
pub fn activation(key: &TypeKey, obj: &Value, direction: Direction, whose: Whose) -> Option<Activation> {
    let meta = &obj["metadata"];
    if whose == Whose::Copies && !is_copy(obj) {
        return None;
    }
    match (key.group.as_str(), key.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet") | ("apps.openshift.io", "DeploymentConfig") => replicas(obj, direction),
        // A ReplicaSet owned by a Deployment follows its Deployment.
        ("apps", "ReplicaSet") if meta["ownerReferences"].as_array().is_none_or(Vec::is_empty) => {
            replicas(obj, direction)
        }
        ("batch", "CronJob") => suspend(obj, direction, whose),
        _ => None,
    }
}

/// Whether a workload asked to run nothing still has pods that mount persistent volumes
/// (`status.replicas`), so that a failover waits until nothing writes to the application's data before
/// copying its last state and starting the copies. Pods without claims are not waited for (as Stork, which
/// waits only for pods using the migrated claims): they hold nothing the other cluster will use.
pub fn winding_down(key: &TypeKey, obj: &Value) -> bool {
    is_activatable(key)
        && key.kind != "CronJob"
        && mounts_claims(obj)
        && obj["spec"]["replicas"].as_i64() == Some(0)
        && obj["status"]["replicas"].as_i64().is_some_and(|n| n > 0)
}

/// Whether the workload's pods mount PersistentVolumeClaims: named in the pod template, or a
/// StatefulSet's own claim templates.
fn mounts_claims(obj: &Value) -> bool {
    let spec = &obj["spec"];
    let named = spec["template"]["spec"]["volumes"]
        .as_array()
        .is_some_and(|volumes| volumes.iter().any(|v| v.get("persistentVolumeClaim").is_some()));
    named || spec["volumeClaimTemplates"].as_array().is_some_and(|t| !t.is_empty())
}

/// Whether stork-rs migrated this object here (the destination's standby copies).
pub fn is_copy(obj: &Value) -> bool {
    obj["metadata"]["annotations"][ann::MIGRATED] == "true"
}

fn replicas(obj: &Value, direction: Direction) -> Option<Activation> {
    let current = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let remembered =
        obj["metadata"]["annotations"][ann::MIGRATION_REPLICAS].as_str().and_then(|v| v.parse::<i64>().ok());
    let (target, annotations) = match direction {
        Direction::Activate => (remembered?, json!({})),
        // What runs now is what activation brings back later.
        Direction::Deactivate if current > 0 => (0, json!({ann::MIGRATION_REPLICAS: current.to_string()})),
        Direction::Deactivate => (0, json!({})),
    };
    (current != target).then(|| Activation {
        field: "replicas",
        from: current.to_string(),
        to: target.to_string(),
        patch: json!({"metadata": {"annotations": annotations}, "spec": {"replicas": target}}),
    })
}

fn suspend(obj: &Value, direction: Direction, whose: Whose) -> Option<Activation> {
    let current = obj["spec"]["suspend"].as_bool().unwrap_or(false);
    let remembered =
        obj["metadata"]["annotations"][ann::MIGRATION_SUSPEND].as_str().and_then(|v| v.parse::<bool>().ok());
    let (target, annotations) = match direction {
        // An original CronJob that no idling suspended is the user's to keep as it is.
        Direction::Activate if whose == Whose::Originals => (remembered?, json!({})),
        Direction::Activate => (remembered.unwrap_or(false), json!({})),
        Direction::Deactivate if !current => (true, json!({ann::MIGRATION_SUSPEND: "false"})),
        Direction::Deactivate => (true, json!({})),
    };
    (current != target).then(|| Activation {
        field: "suspend",
        from: current.to_string(),
        to: target.to_string(),
        patch: json!({"metadata": {"annotations": annotations}, "spec": {"suspend": target}}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::prepare::{PrepareOptions, annotate, prepare};

    fn key(group: &str, kind: &str) -> TypeKey {
        TypeKey::builtin(group, "v1", kind, "", true)
    }

    /// A source object as the destination holds it after a migration.
    fn standby(key: &TypeKey, source: Value) -> Value {
        let mut copy = prepare(key, &source, &PrepareOptions::default());
        let stamps = crate::core::prepare::Stamps {
            migration_name: "m",
            migration_namespace: "ns",
            hash: "h",
            time: "t",
            writer: "w",
            adopted: false,
        };
        annotate(&mut copy, &stamps);
        copy
    }

    #[test]
    fn activation_restores_what_preparation_idled() {
        let deploy = key("apps", "Deployment");
        let copy = standby(&deploy, json!({"metadata": {"name": "web"}, "spec": {"replicas": 3}}));
        let up = activation(&deploy, &copy, Direction::Activate, Whose::Copies).expect("scaled up");
        assert_eq!((up.field, up.from.as_str(), up.to.as_str()), ("replicas", "0", "3"));
        assert_eq!(up.patch["spec"]["replicas"], 3);
        assert_eq!(activation(&deploy, &copy, Direction::Deactivate, Whose::Copies), None, "already idle");

        let cron = key("batch", "CronJob");
        let copy = standby(&cron, json!({"metadata": {"name": "nightly"}, "spec": {"schedule": "@daily"}}));
        let up = activation(&cron, &copy, Direction::Activate, Whose::Copies).expect("unsuspended");
        assert_eq!(up.patch["spec"]["suspend"], false);
        let paused = standby(&cron, json!({"metadata": {"name": "n"}, "spec": {"suspend": true}}));
        assert_eq!(
            activation(&cron, &paused, Direction::Activate, Whose::Copies),
            None,
            "suspended on the source stays so"
        );
    }

    #[test]
    fn deactivation_remembers_what_ran() {
        let deploy = key("apps", "StatefulSet");
        let mut running = standby(&deploy, json!({"metadata": {"name": "db"}, "spec": {"replicas": 3}}));
        running["spec"]["replicas"] = json!(5);
        let down = activation(&deploy, &running, Direction::Deactivate, Whose::Copies).expect("scaled down");
        assert_eq!((down.from.as_str(), down.to.as_str()), ("5", "0"));
        assert_eq!(down.patch["metadata"]["annotations"][ann::MIGRATION_REPLICAS], "5");
        let cron = key("batch", "CronJob");
        let mut active = standby(&cron, json!({"metadata": {"name": "c"}, "spec": {}}));
        active["spec"]["suspend"] = json!(false);
        let down = activation(&cron, &active, Direction::Deactivate, Whose::Copies).expect("suspended");
        assert_eq!(down.patch["spec"]["suspend"], true);
    }

    #[test]
    fn only_migrated_objects_and_unowned_replica_sets_are_touched() {
        let user_cron = json!({"metadata": {"name": "mine"}, "spec": {"suspend": true}});
        assert_eq!(activation(&key("batch", "CronJob"), &user_cron, Direction::Activate, Whose::Copies), None);
        let rs = key("apps", "ReplicaSet");
        let mut owned = standby(&rs, json!({"metadata": {"name": "r"}, "spec": {"replicas": 2}}));
        owned["metadata"]["ownerReferences"] = json!([{"kind": "Deployment", "name": "web"}]);
        assert_eq!(activation(&rs, &owned, Direction::Activate, Whose::Copies), None);
        let config = standby(&key("", "ConfigMap"), json!({"metadata": {"name": "c"}, "data": {}}));
        assert_eq!(activation(&key("", "ConfigMap"), &config, Direction::Activate, Whose::Copies), None);
    }

    #[test]
    fn a_failover_idles_originals_and_its_rollback_brings_back_only_what_it_idled() {
        let deploy = key("apps", "Deployment");
        let original = json!({"metadata": {"name": "web"}, "spec": {"replicas": 3}});
        assert_eq!(activation(&deploy, &original, Direction::Deactivate, Whose::Copies), None, "not a copy");
        let down = activation(&deploy, &original, Direction::Deactivate, Whose::Originals).expect("idled");
        assert_eq!(down.patch["metadata"]["annotations"][ann::MIGRATION_REPLICAS], "3");
        let mut idled = original.clone();
        idled["spec"]["replicas"] = json!(0);
        idled["metadata"]["annotations"] = down.patch["metadata"]["annotations"].clone();
        let up = activation(&deploy, &idled, Direction::Activate, Whose::Originals).expect("back");
        assert_eq!((up.from.as_str(), up.to.as_str()), ("0", "3"));
        assert_eq!(activation(&deploy, &original, Direction::Activate, Whose::Originals), None, "never idled");

        let cron = key("batch", "CronJob");
        let mine = json!({"metadata": {"name": "c"}, "spec": {"suspend": true}});
        assert_eq!(activation(&cron, &mine, Direction::Activate, Whose::Originals), None, "the user's own suspension");
        let running = json!({"metadata": {"name": "c"}, "spec": {"suspend": false}});
        let down = activation(&cron, &running, Direction::Deactivate, Whose::Originals).expect("suspended");
        let mut idled = running.clone();
        idled["spec"]["suspend"] = json!(true);
        idled["metadata"]["annotations"] = down.patch["metadata"]["annotations"].clone();
        let up = activation(&cron, &idled, Direction::Activate, Whose::Originals).expect("unsuspended");
        assert_eq!(up.patch["spec"]["suspend"], false);
        assert!(is_activatable(&key("apps", "StatefulSet")) && !is_activatable(&key("", "ConfigMap")));
    }

    #[test]
    fn a_workload_winds_down_until_its_pods_using_volumes_are_gone() {
        let deploy = key("apps", "Deployment");
        let claims = json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]);
        let stopping =
            json!({"spec": {"replicas": 0, "template": {"spec": {"volumes": claims}}}, "status": {"replicas": 2}});
        assert!(winding_down(&deploy, &stopping));
        let mut gone = stopping.clone();
        gone["status"]["replicas"] = json!(0);
        assert!(!winding_down(&deploy, &gone));
        let mut never_counted = stopping.clone();
        never_counted["status"] = json!({});
        assert!(!winding_down(&deploy, &never_counted), "no controller ever counted");
        let mut running = stopping.clone();
        running["spec"]["replicas"] = json!(3);
        assert!(!winding_down(&deploy, &running), "not idled");
        assert!(!winding_down(&key("batch", "CronJob"), &stopping));

        let stateless = json!({"spec": {"replicas": 0, "template": {"spec": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}}, "status": {"replicas": 2}});
        assert!(!winding_down(&deploy, &stateless), "nothing on a volume to protect");
        let templated = json!({"spec": {"replicas": 0, "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}, "status": {"replicas": 1}});
        assert!(winding_down(&key("apps", "StatefulSet"), &templated));
    }
}
