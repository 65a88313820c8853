//! ResourceTransformation: patches applied to objects as they are migrated. Its spec is serialized as
//! `specs` (Stork `resourcetransformation.go`).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "stork.libopenstorage.org",
    version = "v1alpha1",
    kind = "ResourceTransformation",
    plural = "resourcetransformations",
    namespaced,
    status = "ResourceTransformationStatus",
    no_spec
)]
pub struct ResourceTransformationFields {
    #[serde(default)]
    pub specs: TransformSpecs,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransformSpecs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transform_specs: Vec<TransformSpec>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct TransformSpec {
    /// `<group>/<version>/<Kind>`; the core group is empty (`/v1/Service`).
    #[serde(default)]
    pub resource: String,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub selectors: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<ResourcePath>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ResourcePath {
    /// Dotted path, e.g. `spec.replicas`.
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub value: String,
    #[serde(rename = "type", default)]
    pub value_type: TransformValueType,
    #[serde(default)]
    pub operation: TransformOperation,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransformValueType {
    Int,
    #[default]
    String,
    Bool,
    Slice,
    Keypair,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TransformOperation {
    Add,
    #[default]
    Modify,
    Delete,
    Jsonpatch,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ResourceTransformationStatusType {
    #[default]
    #[serde(rename = "")]
    Initial,
    InProgress,
    Ready,
    Failed,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceTransformationStatus {
    #[serde(default)]
    pub status: ResourceTransformationStatusType,
    /// What was checked and, when Failed, which rule or object failed and why (stork-rs).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The `metadata.generation` the status describes: a status of an older spec is not trusted
    /// (stork-rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<TransformedResourceInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct TransformedResourceInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: ResourceTransformationStatusType,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub specs: Vec<TransformSpec>,
}

impl ResourceTransformationStatusType {
    /// The name as Stork writes it (`""` for a transformation not looked at yet).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "",
            Self::InProgress => "InProgress",
            Self::Ready => "Ready",
            Self::Failed => "Failed",
        }
    }
}

impl ResourceTransformation {
    /// Whether the status is Ready and describes the spec as it is now.
    pub fn is_ready(&self) -> bool {
        self.status.as_ref().is_some_and(|s| {
            s.status == ResourceTransformationStatusType::Ready
                && s.observed_generation.is_none_or(|g| Some(g) == self.metadata.generation)
        })
    }
}
