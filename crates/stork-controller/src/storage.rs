//! Storage pairing goes through a driver. None is built in yet: a pair that asks for storage pairing
//! without a driver ends in Error saying so.

use std::collections::BTreeMap;

use futures::future::BoxFuture;

/// Result of pairing storage with the destination.
pub struct StoragePairing {
    /// The remote storage cluster's id, stored in `status.remoteStorageId`.
    pub remote_storage_id: String,
}

/// A storage system that can pair with (and unpair from) the destination's storage.
pub trait StorageDriver: Send + Sync {
    fn name(&self) -> &str;
    fn create_pair<'a>(
        &'a self,
        options: &'a BTreeMap<String, String>,
    ) -> BoxFuture<'a, Result<StoragePairing, String>>;
    fn delete_pair<'a>(&'a self, remote_storage_id: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// Looks a driver up by name; `None` when no driver was asked for.
pub fn driver_by_name(name: Option<&str>) -> Result<Option<Box<dyn StorageDriver>>, String> {
    match name {
        None | Some("") | Some("none") => Ok(None),
        Some(other) => {
            Err(format!("unknown storage driver {other:?}: this build has no storage drivers; omit --storage-driver"))
        }
    }
}
