//! MigrationSchedule: Migrations created on a SchedulePolicy (Stork `migrationschedule.go`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::migration::{MigrationSpec, MigrationStatusType};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "MigrationSchedule",
    plural = "migrationschedules",
    namespaced,
    status = "MigrationScheduleStatus",
    printcolumn = r#"{"name":"PolicyName","type":"string","jsonPath":".spec.schedulePolicyName"}"#,
    printcolumn = r#"{"name":"ClusterPair","type":"string","jsonPath":".spec.template.spec.clusterPair"}"#,
    printcolumn = r#"{"name":"Suspend","type":"boolean","jsonPath":".spec.suspend"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MigrationScheduleSpec {
    pub template: MigrationTemplateSpec,
    #[serde(default)]
    pub schedule_policy_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    #[serde(default)]
    pub auto_suspend: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct MigrationTemplateSpec {
    pub spec: MigrationSpec,
}

/// Policy types a schedule keeps items under.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum SchedulePolicyType {
    Interval,
    Daily,
    Weekly,
    Monthly,
    /// stork-rs: the full passes of a continuous policy.
    Continuous,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationScheduleStatus {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub items: BTreeMap<SchedulePolicyType, Vec<ScheduledMigrationStatus>>,
    #[serde(default)]
    pub application_activated: bool,
    /// stork-rs: the time zone the policy's times are read in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time_zone: String,
    /// stork-rs: when the newest successful Migration of the schedule finished; its age is the recovery
    /// point right now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_timestamp: Option<Time>,
    /// stork-rs: when the policy fires next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_trigger_timestamp: Option<Time>,
    /// stork-rs: Migrations that failed since the last one that did not.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub consecutive_failures: u32,
    /// stork-rs: Migrations the schedule has created; every seventh is full.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub migrations_created: u64,
    /// stork-rs: why the schedule is not protecting now (an invalid policy, a missing pair), or how late
    /// its last Migration started.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// stork-rs: how far behind the destination is, on a continuous policy (written by the sync itself,
    /// at most every few seconds and only when something changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<ContinuousSyncStatus>,
}

/// stork-rs: the state of a continuous schedule's sync.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContinuousSyncStatus {
    /// `Starting`, `CatchingUp` (comparing both clusters by hashes after a start or a pause), `Watching`,
    /// or `Paused` (a cluster is out of reach or the schedule cannot run; `reason` says which).
    #[serde(default)]
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Age of the oldest change seen and not yet written, in milliseconds (0: the destination is current).
    #[serde(default)]
    pub lag_milliseconds: u64,
    /// Objects changed on either side and not yet written.
    #[serde(default)]
    pub pending: u64,
    /// Changes written since the sync started.
    #[serde(default)]
    pub applied_changes: u64,
    /// Changes that could not be written (each is retried, and the next full pass tries again).
    #[serde(default)]
    pub failed_changes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_change: Option<AppliedChange>,
    /// The last failure, when a change failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_failure: String,
    /// When the sync last compared both clusters whole (at its start, after a pause, after a watch
    /// could not resume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_catch_up_timestamp: Option<Time>,
    /// When this status was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_timestamp: Option<Time>,
}

/// stork-rs: the last change a continuous sync wrote.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppliedChange {
    /// `Kind namespace/name`.
    pub object: String,
    /// `Created`, `Updated` or `Deleted`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_timestamp: Option<Time>,
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledMigrationStatus {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_timestamp: Option<Time>,
    #[serde(default)]
    pub status: MigrationStatusType,
    /// stork-rs: when it was due (the policy's occurrence); later than that when the controller was away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_timestamp: Option<Time>,
}
