//! ClusterPair: a destination cluster the source can migrate to (Stork `clusterpair.go`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::kubeconfig::PairKubeconfig;

/// Option keys that ask the storage driver to pair; with none of them storage pairing is `NotProvided`
/// (one storage fabric stretched over both clusters). `mode` alone is not storage pairing.
pub const STORAGE_PAIRING_OPTIONS: &[&str] = &["token", "ip", "port", "backuplocation"];
/// Option key Stork forwards to the storage driver (`DisasterRecovery` | `OneTimeMigration`).
pub const OPTION_MODE: &str = "mode";
/// The values `spec.options.mode` may take.
pub const MODES: &[&str] = &["DisasterRecovery", "OneTimeMigration"];
/// Placeholder key `storkctl generate clusterpair` emits for the user to replace.
pub const OPTION_PLACEHOLDER: &str = "insert_storage_options_here";

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "ClusterPair",
    plural = "clusterpairs",
    namespaced,
    status = "ClusterPairStatus",
    printcolumn = r#"{"name":"Storage-Status","type":"string","jsonPath":".status.storageStatus"}"#,
    printcolumn = r#"{"name":"Scheduler-Status","type":"string","jsonPath":".status.schedulerStatus"}"#,
    printcolumn = r#"{"name":"Created","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPairSpec {
    /// Kubeconfig of the destination cluster (client-go internal form); its `current-context` is used.
    pub config: PairKubeconfig,
    /// Storage options (`token`, `ip`, `port`, `mode`, `backuplocation`); empty for a stretched fabric.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_options: Option<PlatformOptions>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct PlatformOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rancher: Option<RancherSecret>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RancherSecret {
    /// Source Rancher project id → destination project id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub project_mappings: BTreeMap<String, String>,
}

/// Stork's ClusterPairStatusType. `""` is the initial value.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum ClusterPairStatusType {
    #[default]
    #[serde(rename = "")]
    Initial,
    Pending,
    Ready,
    Error,
    Degraded,
    Deleting,
    NotProvided,
}

impl ClusterPairStatusType {
    /// The string Stork stores and storkctl prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "",
            Self::Pending => "Pending",
            Self::Ready => "Ready",
            Self::Error => "Error",
            Self::Degraded => "Degraded",
            Self::Deleting => "Deleting",
            Self::NotProvided => "NotProvided",
        }
    }

    /// Value of Stork's `stork_clusterpair_*_status` gauges.
    pub fn metric_value(self) -> i64 {
        match self {
            Self::Initial => 0,
            Self::Pending => 1,
            Self::Ready => 2,
            Self::Error => 3,
            Self::Degraded => 4,
            Self::Deleting => 5,
            Self::NotProvided => 6,
        }
    }
}

/// Stork's three fields (always serialized, as Stork does) plus conditions that say why and since when.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPairStatus {
    #[serde(default)]
    pub scheduler_status: ClusterPairStatusType,
    #[serde(default)]
    pub storage_status: ClusterPairStatusType,
    #[serde(default)]
    pub remote_storage_id: String,
    /// `SchedulerReady` and `StorageReady`, each with reason, message and `lastTransitionTime`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Generation of the spec the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Condition type for the destination's reachability and permissions.
pub const CONDITION_SCHEDULER_READY: &str = "SchedulerReady";
/// Condition type for storage pairing.
pub const CONDITION_STORAGE_READY: &str = "StorageReady";
/// stork-rs condition: `False` when `spec.options` holds a value stork-rs does not know (a typo of a mode).
pub const CONDITION_OPTIONS_VALID: &str = "OptionsValid";
/// stork-rs condition: `False` when the destination's certificate is not verified
/// (`insecure-skip-tls-verify`); the pair stays usable, with a warning.
pub const CONDITION_TLS_VERIFIED: &str = "TLSVerified";

impl ClusterPairSpec {
    /// True when the options ask the storage driver to pair (see [`STORAGE_PAIRING_OPTIONS`]).
    pub fn has_storage_options(&self) -> bool {
        self.options.keys().any(|k| STORAGE_PAIRING_OPTIONS.contains(&k.as_str()))
    }

    /// Why `spec.options.mode` is not one Stork knows, if it is not. The pair stays usable (as in Stork,
    /// where the mode only reaches the storage driver), but a typo must not silently mean "no mode".
    pub fn mode_problem(&self) -> Option<String> {
        let mode = self.options.get(OPTION_MODE)?;
        (!MODES.contains(&mode.as_str())).then(|| {
            format!(
                "spec.options.mode {mode:?} is not one of {}; the pair is used as if it had no mode: correct or remove it",
                MODES.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod mode_tests {
    use super::*;

    #[test]
    fn a_mode_typo_is_named_with_the_accepted_values() {
        let spec = |mode: &str| ClusterPairSpec {
            options: [(OPTION_MODE.to_string(), mode.to_string())].into(),
            ..Default::default()
        };
        assert_eq!(spec("DisasterRecovery").mode_problem(), None);
        assert_eq!(spec("OneTimeMigration").mode_problem(), None);
        assert_eq!(ClusterPairSpec::default().mode_problem(), None);
        let problem = spec("DisasterRecvery").mode_problem().expect("typo");
        assert!(problem.contains("\"DisasterRecvery\" is not one of DisasterRecovery, OneTimeMigration"), "{problem}");
    }
}
