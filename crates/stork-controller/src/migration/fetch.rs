//! Reading whole objects that were listed as metadata only: single reads for a few, one list of the
//! type for many.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, stream};
use kube::api::ApiResource;
use serde_json::Value;

use super::collect;
use super::select::TypeKey;

/// (type, namespace, name) of an object.
pub type Identity = (TypeKey, String, String);

/// Above this many objects of one type to read, one list of the type is cheaper than single reads.
const GETS_PER_TYPE: usize = 50;
const CONCURRENT_GETS: usize = 16;

/// Where to read the objects of one type.
pub struct TypeSource {
    pub ar: ApiResource,
    pub client: kube::Client,
}

/// The whole objects named by `wanted` (`None`: not there any more). Objects that could not be read
/// are absent from the map, with a warning in the log.
pub async fn whole_objects(
    wanted: Vec<Identity>,
    source_of: impl Fn(&TypeKey) -> Option<TypeSource>,
) -> HashMap<Identity, Option<Value>> {
    let mut by_type: BTreeMap<TypeKey, Vec<Identity>> = BTreeMap::new();
    for id in wanted {
        by_type.entry(id.0.clone()).or_default().push(id);
    }
    let mut out = HashMap::new();
    for (key, ids) in by_type {
        let Some(TypeSource { ar, client }) = source_of(&key) else { continue };
        if ids.len() > GETS_PER_TYPE {
            match collect::list_all(&client, &ar).await {
                Ok(items) => {
                    let mut listed: HashMap<(String, String), Value> = items
                        .into_iter()
                        .map(|item| {
                            let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
                            let name = item["metadata"]["name"].as_str().unwrap_or_default().to_string();
                            ((namespace, name), item)
                        })
                        .collect();
                    for id in ids {
                        let found = listed.remove(&(id.1.clone(), id.2.clone()));
                        out.insert(id, found);
                    }
                }
                Err(e) => tracing::warn!(kind = %key.kind, error = %e, "cannot read whole objects"),
            }
            continue;
        }
        // Owned requests: a stream over borrowed data trips the compiler's Send inference in the controller.
        let requests: Vec<(Identity, String, kube::Client)> = ids
            .into_iter()
            .map(|id| {
                let url = collect::resource_url(&ar, key.namespaced.then_some(id.1.as_str()));
                (id, url, client.clone())
            })
            .collect();
        let reads: Vec<(Identity, Result<Option<Value>, kube::Error>)> = stream::iter(requests)
            .map(|(id, url, client)| async move {
                let result = match kube::core::Request::new(&url).get(&id.2, &Default::default()) {
                    Ok(request) => match client.request::<Value>(request).await {
                        Ok(object) => Ok(Some(object)),
                        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(kube::Error::BuildRequest(e)),
                };
                (id, result)
            })
            .buffer_unordered(CONCURRENT_GETS)
            .collect()
            .await;
        for (id, result) in reads {
            match result {
                Ok(object) => {
                    out.insert(id, object);
                }
                Err(e) => tracing::warn!(object = %format!("{} {}/{}", id.0.kind, id.1, id.2),
                    error = %stork_kube::error_chain(&e), "cannot read the whole object"),
            }
        }
    }
    out
}
