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

/// Any combination of the four policy types.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SchedulePolicyItem {
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
