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
