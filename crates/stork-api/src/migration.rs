//! Migration: one copy of namespaces' resources to a paired cluster (Stork `migration.go`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "Migration",
    plural = "migrations",
    namespaced,
    status = "MigrationStatus",
    printcolumn = r#"{"name":"ClusterPair","type":"string","jsonPath":".spec.clusterPair"}"#,
    printcolumn = r#"{"name":"Stage","type":"string","jsonPath":".status.stage"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"Created","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MigrationSpec {
    /// ClusterPair (in the Migration's namespace) naming the destination.
    #[serde(default)]
    pub cluster_pair: String,
    /// ClusterPair in the admin namespace used for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub admin_cluster_pair: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Each `key: value` selects namespaces separately; the union is added to `namespaces`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespace_selectors: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_resources: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_volumes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_applications: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_deleted_resources: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_service_update: Option<bool>,
    #[serde(rename = "includeNetworkPolicyWithCIDR", default, skip_serializing_if = "Option::is_none")]
    pub include_network_policy_with_cidr: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selectors: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exclude_selectors: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pre_exec_rule: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub post_exec_rule: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include_optional_resource_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_deleted_namespaces: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transform_specs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_owner_references_check: Option<bool>,
    /// Kinds to migrate (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<String>,
    /// Kinds to leave out (matched case-insensitively against Kind).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_resource_types: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum MigrationStage {
    #[default]
    #[serde(rename = "")]
    Initial,
    PreExecRule,
    PostExecRule,
    Volumes,
    Applications,
    Final,
}

impl MigrationStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "",
            Self::PreExecRule => "PreExecRule",
            Self::PostExecRule => "PostExecRule",
            Self::Volumes => "Volumes",
            Self::Applications => "Applications",
            Self::Final => "Final",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum MigrationStatusType {
    #[default]
    #[serde(rename = "")]
    Initial,
    Pending,
    InProgress,
    Failed,
    PartialSuccess,
    Successful,
    Purged,
}

impl MigrationStatusType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "",
            Self::Pending => "Pending",
            Self::InProgress => "InProgress",
            Self::Failed => "Failed",
            Self::PartialSuccess => "PartialSuccess",
            Self::Successful => "Successful",
            Self::Purged => "Purged",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationStatus {
    #[serde(default)]
    pub stage: MigrationStage,
    #[serde(default)]
    pub status: MigrationStatusType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<MigrationResourceInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<MigrationVolumeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_migration_finish_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_migration_finish_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<MigrationSummary>,
    /// stork-rs: why the migration failed or only partly succeeded, and what to do.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// stork-rs: `Full` (every object rewritten) or `Incremental` (only what changed or drifted).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub migration_type: String,
    /// stork-rs: why it was full or incremental (`Full: 7th of schedule nightly`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub migration_type_reason: String,
    /// stork-rs: what the migration did, object by object counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_counts: Option<ResourceCounts>,
    /// stork-rs: `resources` holds at most a bounded number of entries (failures first); when it was cut,
    /// this names the ConfigMap (same namespace) with every entry, gzip-compressed JSON lines.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_details: String,
    /// stork-rs: true when `resources` does not list every object.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resources_truncated: bool,
    /// stork-rs: runs started for this Migration; more than one when a cluster was unavailable and the
    /// run was tried again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// stork-rs: since when runs have been failing for reasons that may pass (a cluster unreachable or
    /// busy); the Migration fails once this lasts longer than the controller's retry timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrying_since: Option<Time>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What a migration did to the destination, per outcome.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ResourceCounts {
    /// Objects selected on the source.
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub updated: u64,
    /// Present on the destination, unchanged on the source and not drifted: nothing written.
    #[serde(default)]
    pub unchanged: u64,
    #[serde(default)]
    pub failed: u64,
    /// Deleted on the destination because they are gone from the source (`purgeDeletedResources`).
    #[serde(default)]
    pub purged: u64,
    /// Left out by the rules (owned objects, token Secrets, selectors, ...).
    #[serde(default)]
    pub skipped: u64,
    /// Objects done so far while the migration runs.
    #[serde(default)]
    pub processed: u64,
    /// Objects in which a path of the ResourceTransformation matched nothing (stork-rs).
    #[serde(default, rename = "transformUnmatched")]
    pub transform_unmatched: u64,
}

/// Outcome for one migrated object.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationResourceInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    /// `core` for the core group.
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: MigrationStatusType,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transformed_by: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationVolumeInfo {
    #[serde(default)]
    pub persistent_volume_claim: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub volume: String,
    #[serde(default)]
    pub status: MigrationStatusType,
    #[serde(default)]
    pub bytes_total: u64,
    #[serde(default)]
    pub reason: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationSummary {
    #[serde(default)]
    pub total_number_of_volumes: u64,
    #[serde(default)]
    pub num_of_migrated_volumes: u64,
    #[serde(default)]
    pub total_number_of_resources: u64,
    #[serde(default)]
    pub num_of_migrated_resources: u64,
    #[serde(default)]
    pub total_bytes_migrated: u64,
    #[serde(default)]
    pub elapsed_time_for_volume_migration: String,
    #[serde(default)]
    pub elapsed_time_for_resource_migration: String,
}
