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
const CONCURRENT_READS: usize = 16;

/// Where to read the objects of one type.
pub struct TypeSource {
    pub ar: ApiResource,
    pub client: kube::Client,
}

/// One read: a single object, or a whole type when many of its objects are wanted.
enum Read {
    One { id: Identity, url: String, client: kube::Client },
    Type { key: TypeKey, ids: Vec<Identity>, source: TypeSource },
}

/// The whole objects named by `wanted` (`None`: not there any more). Objects that could not be read
/// are absent from the map, with a warning in the log. All reads, of every type, go out concurrently.
pub async fn whole_objects(
    wanted: Vec<Identity>,
    source_of: impl Fn(&TypeKey) -> Option<TypeSource>,
) -> HashMap<Identity, Option<Value>> {
    let mut by_type: BTreeMap<TypeKey, Vec<Identity>> = BTreeMap::new();
    for id in wanted {
        by_type.entry(id.0.clone()).or_default().push(id);
    }
    let mut reads = Vec::new();
    for (key, ids) in by_type {
        let Some(source) = source_of(&key) else { continue };
        if ids.len() > GETS_PER_TYPE {
            reads.push(Read::Type { key, ids, source });
            continue;
        }
        for id in ids {
            let url = collect::resource_url(&source.ar, key.namespaced.then_some(id.1.as_str()));
            reads.push(Read::One { id, url, client: source.client.clone() });
        }
    }
    // Owned reads: a stream over borrowed data trips the compiler's Send inference in the controller.
    let results: Vec<Vec<(Identity, Option<Value>)>> =
        stream::iter(reads).map(read).buffer_unordered(CONCURRENT_READS).collect().await;
    results.into_iter().flatten().collect()
}

/// The object `name` in the collection at `url`, or `None` when it is not there.
pub async fn get_opt(client: &kube::Client, url: &str, name: &str) -> Result<Option<Value>, kube::Error> {
    let request = kube::core::Request::new(url).get(name, &Default::default()).map_err(kube::Error::BuildRequest)?;
    match client.request::<Value>(request).await {
        Ok(object) => Ok(Some(object)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

async fn read(read: Read) -> Vec<(Identity, Option<Value>)> {
    match read {
        Read::One { id, url, client } => match get_opt(&client, &url, &id.2).await {
            Ok(object) => vec![(id, object)],
            Err(e) => {
                tracing::warn!(object = %format!("{} {}/{}", id.0.kind, id.1, id.2),
                        error = %stork_kube::error_chain(&e), "cannot read the whole object");
                vec![]
            }
        },
        Read::Type { key, ids, source } => match collect::list_all(&source.client, &source.ar).await {
            Ok(items) => {
                let mut listed: HashMap<(String, String), Value> = items
                    .into_iter()
                    .map(|item| {
                        let namespace = item["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
                        let name = item["metadata"]["name"].as_str().unwrap_or_default().to_string();
                        ((namespace, name), item)
                    })
                    .collect();
                ids.into_iter()
                    .map(|id| {
                        let found = listed.remove(&(id.1.clone(), id.2.clone()));
                        (id, found)
                    })
                    .collect()
            }
            Err(e) => {
                tracing::warn!(kind = %key.kind, error = %e, "cannot read whole objects");
                vec![]
            }
        },
    }
}
