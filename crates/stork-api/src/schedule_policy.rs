//! SchedulePolicy (cluster-scoped) and NamespacedSchedulePolicy: when scheduled work runs.
//! Both keep their members under a top-level `policy`, not `spec` (Stork `schedulepolicy.go`).

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "SchedulePolicy",
    plural = "schedulepolicies",
    no_spec
)]
pub struct SchedulePolicyFields {
    #[serde(default)]
    pub policy: SchedulePolicyItem,
}

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "NamespacedSchedulePolicy",
    plural = "namespacedschedulepolicies",
    namespaced,
    no_spec
)]
pub struct NamespacedSchedulePolicyFields {
    #[serde(default)]
    pub policy: SchedulePolicyItem,
}

/// Any combination of the four policy types (and stork-rs's continuous mode).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SchedulePolicyItem {
    /// stork-rs: keep the destination current by watching both clusters, every change written within
    /// seconds, with a full pass (a Migration, every seventh full) every `fullSyncIntervalMinutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<ContinuousPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<IntervalPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<DailyPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<WeeklyPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<MonthlyPolicy>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntervalPolicy {
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::interval_minutes", transform = crate::schema::no_default)]
    pub interval_minutes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DailyPolicy {
    /// Go Kitchen layout, e.g. `12:15PM`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::kitchen_time", transform = crate::schema::no_default)]
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(schema_with = "crate::schema::optional_day_of_week")]
    pub force_full_snapshot_day: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WeeklyPolicy {
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::day_of_week", transform = crate::schema::no_default)]
    pub day: String,
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::kitchen_time", transform = crate::schema::no_default)]
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonthlyPolicy {
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::day_of_month", transform = crate::schema::no_default)]
    pub date: i64,
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::kitchen_time", transform = crate::schema::no_default)]
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// stork-rs: continuous protection. A MigrationSchedule on such a policy watches the selected namespaces
/// on the source and the copies on the destination and writes each change alone, after `debounceMilliseconds`
/// without further change to the object; a full pass runs as a Migration every `fullSyncIntervalMinutes`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContinuousPolicy {
    /// How long a changed object waits for more changes before it is written (a burst of changes to one
    /// object becomes one write). 0 to 60000; default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debounce_milliseconds: Option<i64>,
    /// Minutes between full passes, which also correct what no watch reports (cluster-scoped objects the
    /// migrated ones need); at least 1; default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_sync_interval_minutes: Option<i64>,
    /// How many of the full passes' Migrations are kept; default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}
