//! Action: a failover or failback run on the destination (Stork `action.go`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "Action",
    plural = "actions",
    namespaced,
    status = "ActionStatus",
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.actionType"}"#,
    printcolumn = r#"{"name":"Stage","type":"string","jsonPath":".status.stage"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ActionSpec {
    pub action_type: ActionType,
    #[serde(default)]
    pub action_parameter: ActionParameter,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ActionType {
    #[default]
    #[serde(rename = "failover")]
    Failover,
    #[serde(rename = "failback")]
    Failback,
    #[serde(rename = "nearsyncFailover")]
    NearsyncFailover,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionParameter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_parameter: Option<FailoverParameter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failback_parameter: Option<FailbackParameter>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailoverParameter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover_namespaces: Vec<String>,
    #[serde(default)]
    pub migration_schedule_reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_source_operations: Option<bool>,
    /// stork-rs: start even when the preflight finds blockers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailbackParameter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failback_namespaces: Vec<String>,
    #[serde(default)]
    pub migration_schedule_reference: String,
    /// stork-rs: start even when the preflight finds blockers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ActionStage {
    #[default]
    #[serde(rename = "")]
    Initial,
    ScaleDownDestination,
    ScaleDownSource,
    ScaleUpDestination,
    ScaleUpSource,
    LastMileMigration,
    WaitAfterScaleDown,
    Final,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ActionStatusType {
    #[default]
    #[serde(rename = "")]
    Initial,
    Scheduled,
    #[serde(rename = "In-Progress")]
    InProgress,
    Failed,
    Successful,
    RollbackSuccessful,
    RollbackFailed,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionStatus {
    #[serde(default)]
    pub stage: ActionStage,
    #[serde(default)]
    pub status: ActionStatusType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<ActionSummary>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// stork-rs: every stage so far, with its times and outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageRecord>,
    /// stork-rs: what the preflight found before the first change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preflight: Option<Preflight>,
}

/// One stage of an Action.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageRecord {
    #[serde(default)]
    pub stage: ActionStage,
    #[serde(default)]
    pub status: ActionStatusType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_timestamp: Option<Time>,
    /// Why it failed, or what it did or skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Not run (the source out of reach, or `skipSourceOperations`); `reason` says why.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// What is known about the standby before a failover changes anything.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    /// Reasons not to start (overridden by `force`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionSummary {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failover_summary: Vec<NamespaceActionSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failback_summary: Vec<NamespaceActionSummary>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct NamespaceActionSummary {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub status: ActionStatusType,
    #[serde(default)]
    pub reason: String,
}

impl ActionStage {
    /// The name as stored (`""` for the initial stage).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "",
            Self::ScaleDownDestination => "ScaleDownDestination",
            Self::ScaleDownSource => "ScaleDownSource",
            Self::ScaleUpDestination => "ScaleUpDestination",
            Self::ScaleUpSource => "ScaleUpSource",
            Self::LastMileMigration => "LastMileMigration",
            Self::WaitAfterScaleDown => "WaitAfterScaleDown",
            Self::Final => "Final",
        }
    }
}

impl ActionStatusType {
    /// The name as stored (`""` before the first reconcile).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "",
            Self::Scheduled => "Scheduled",
            Self::InProgress => "In-Progress",
            Self::Failed => "Failed",
            Self::Successful => "Successful",
            Self::RollbackSuccessful => "RollbackSuccessful",
            Self::RollbackFailed => "RollbackFailed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_what_serde_stores() {
        for stage in [
            ActionStage::Initial,
            ActionStage::ScaleDownDestination,
            ActionStage::ScaleDownSource,
            ActionStage::ScaleUpDestination,
            ActionStage::ScaleUpSource,
            ActionStage::LastMileMigration,
            ActionStage::WaitAfterScaleDown,
            ActionStage::Final,
        ] {
            assert_eq!(serde_json::to_value(stage).ok(), Some(serde_json::json!(stage.as_str())));
        }
        for status in [
            ActionStatusType::Initial,
            ActionStatusType::Scheduled,
            ActionStatusType::InProgress,
            ActionStatusType::Failed,
            ActionStatusType::Successful,
            ActionStatusType::RollbackSuccessful,
            ActionStatusType::RollbackFailed,
        ] {
            assert_eq!(serde_json::to_value(status).ok(), Some(serde_json::json!(status.as_str())));
        }
    }
}
