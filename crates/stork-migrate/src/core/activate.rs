//! Activation, the inverse of preparation: a standby copy brought to life (workloads scaled to the
//! replicas the source had, CronJobs unsuspended as they were), or a running application idled again.
//! Only objects stork-rs migrated are touched, never a user's own workload or CronJob.

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

/// The change `direction` needs on `obj` (a whole object of type `key`), or `None` when it needs none
/// or is not a migrated workload or CronJob.
pub fn activation(key: &TypeKey, obj: &Value, direction: Direction) -> Option<Activation> {
    let meta = &obj["metadata"];
    if meta["annotations"][ann::MIGRATED] != "true" {
        return None;
    }
    match (key.group.as_str(), key.kind.as_str()) {
        ("apps", "Deployment" | "StatefulSet") | ("apps.openshift.io", "DeploymentConfig") => replicas(obj, direction),
        // A ReplicaSet owned by a Deployment follows its Deployment.
        ("apps", "ReplicaSet") if meta["ownerReferences"].as_array().is_none_or(Vec::is_empty) => {
            replicas(obj, direction)
        }
        ("batch", "CronJob") => suspend(obj, direction),
        _ => None,
    }
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

fn suspend(obj: &Value, direction: Direction) -> Option<Activation> {
    let current = obj["spec"]["suspend"].as_bool().unwrap_or(false);
    let remembered =
        obj["metadata"]["annotations"][ann::MIGRATION_SUSPEND].as_str().and_then(|v| v.parse::<bool>().ok());
    let (target, annotations) = match direction {
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
        annotate(&mut copy, "m", "ns", "h", "t");
        copy
    }

    #[test]
    fn activation_restores_what_preparation_idled() {
        let deploy = key("apps", "Deployment");
        let copy = standby(&deploy, json!({"metadata": {"name": "web"}, "spec": {"replicas": 3}}));
        let up = activation(&deploy, &copy, Direction::Activate).expect("scaled up");
        assert_eq!((up.field, up.from.as_str(), up.to.as_str()), ("replicas", "0", "3"));
        assert_eq!(up.patch["spec"]["replicas"], 3);
        assert_eq!(activation(&deploy, &copy, Direction::Deactivate), None, "already idle");

        let cron = key("batch", "CronJob");
        let copy = standby(&cron, json!({"metadata": {"name": "nightly"}, "spec": {"schedule": "@daily"}}));
        let up = activation(&cron, &copy, Direction::Activate).expect("unsuspended");
        assert_eq!(up.patch["spec"]["suspend"], false);
        let paused = standby(&cron, json!({"metadata": {"name": "n"}, "spec": {"suspend": true}}));
        assert_eq!(activation(&cron, &paused, Direction::Activate), None, "suspended on the source stays so");
    }

    #[test]
    fn deactivation_remembers_what_ran() {
        let deploy = key("apps", "StatefulSet");
        let mut running = standby(&deploy, json!({"metadata": {"name": "db"}, "spec": {"replicas": 3}}));
        running["spec"]["replicas"] = json!(5);
        let down = activation(&deploy, &running, Direction::Deactivate).expect("scaled down");
        assert_eq!((down.from.as_str(), down.to.as_str()), ("5", "0"));
        assert_eq!(down.patch["metadata"]["annotations"][ann::MIGRATION_REPLICAS], "5");
        let cron = key("batch", "CronJob");
        let mut active = standby(&cron, json!({"metadata": {"name": "c"}, "spec": {}}));
        active["spec"]["suspend"] = json!(false);
        let down = activation(&cron, &active, Direction::Deactivate).expect("suspended");
        assert_eq!(down.patch["spec"]["suspend"], true);
    }

    #[test]
    fn only_migrated_objects_and_unowned_replica_sets_are_touched() {
        let user_cron = json!({"metadata": {"name": "mine"}, "spec": {"suspend": true}});
        assert_eq!(activation(&key("batch", "CronJob"), &user_cron, Direction::Activate), None);
        let rs = key("apps", "ReplicaSet");
        let mut owned = standby(&rs, json!({"metadata": {"name": "r"}, "spec": {"replicas": 2}}));
        owned["metadata"]["ownerReferences"] = json!([{"kind": "Deployment", "name": "web"}]);
        assert_eq!(activation(&rs, &owned, Direction::Activate), None);
        let config = standby(&key("", "ConfigMap"), json!({"metadata": {"name": "c"}, "data": {}}));
        assert_eq!(activation(&key("", "ConfigMap"), &config, Direction::Activate), None);
    }
}
