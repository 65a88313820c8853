//! What the destination serves and holds: its types, and a compact record of each copy there.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use kube::api::ApiResource;
use stork_api::annotations::FIELD_MANAGER;
use stork_kube::Cluster;

use super::read::{for_each_listed, name_of, namespace_of};
use crate::core::model::{ObjectId, TypeKey};
use crate::core::plan::CopyRecord;
use crate::error::EngineError;

/// (group, version, kind) → API resource, as the destination serves them.
#[derive(Debug, Clone, Default)]
pub struct Served(HashMap<(String, String, String), ApiResource>);

impl Served {
    pub async fn discover(cluster: &Cluster) -> Result<Self, EngineError> {
        let types = cluster.discover().await?;
        Ok(Self(
            types.into_iter().map(|t| ((t.ar.group.clone(), t.ar.version.clone(), t.ar.kind.clone()), t.ar)).collect(),
        ))
    }

    /// The destination's API resource for a source type, if it serves it.
    pub fn resource(&self, key: &TypeKey) -> Option<&ApiResource> {
        self.0.get(&(key.group.clone(), key.version.clone(), key.kind.clone()))
    }

    /// Counts `keys` as served: when only planning, the kinds of CRDs that would be copied.
    pub fn assume(&mut self, keys: &[TypeKey]) {
        for key in keys {
            self.0.entry((key.group.clone(), key.version.clone(), key.kind.clone())).or_insert_with(|| key.resource());
        }
    }

    pub fn contains(&self, group: &str, version: &str, kind: &str) -> bool {
        self.0.contains_key(&(group.to_string(), version.to_string(), kind.to_string()))
    }
}

/// Records of the copies of type `key` in `scopes`, from one metadata-only list, limited to the migrated
/// `namespaces`. `keep_sets` says for which copies the managed field sets must be kept (those no
/// baseline can decide for).
pub async fn copies(
    cluster: &Cluster,
    ar: &ApiResource,
    key: &Arc<TypeKey>,
    scopes: &[Option<String>],
    namespaces: &BTreeSet<String>,
    keep_sets: impl Fn(&ObjectId) -> bool,
) -> Result<HashMap<ObjectId, CopyRecord>, EngineError> {
    let mut records = HashMap::new();
    for_each_listed(cluster, ar, scopes, true, |object| {
        let namespace = namespace_of(&object);
        if key.namespaced && !namespaces.contains(namespace) {
            return Ok(());
        }
        let id = ObjectId::new(key, namespace, name_of(&object));
        let record = CopyRecord::from_metadata(&object["metadata"], FIELD_MANAGER, keep_sets(&id));
        records.insert(id, record);
        Ok(())
    })
    .await?;
    Ok(records)
}
