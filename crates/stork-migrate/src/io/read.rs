//! Reading objects page by page: a list is handled as its pages arrive and each item is parsed alone, so
//! memory holds one page per list in flight, never a whole type.

use std::collections::HashSet;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt, stream};
use kube::api::ApiResource;
use serde_json::Value;
use serde_json::value::RawValue;
use stork_kube::{Cluster, ListOptions};

use crate::core::model::ObjectId;
use crate::error::EngineError;

/// Items per page of a metadata-only list (under a kilobyte each): each further page of a type is one
/// more round trip in sequence, and a page of this size is a few MiB at most.
pub const METADATA_PAGE: u32 = 5000;
/// Items per page of a list of whole objects (a few kilobytes each): one page is what a list holds in
/// memory at a time.
pub const WHOLE_PAGE: u32 = 250;
/// Above this many objects of one type to read whole, listing the type costs less than single reads.
pub const GETS_PER_TYPE: usize = 50;
/// Lists (of different scopes) or single reads in flight at once.
pub const CONCURRENT_READS: usize = 16;

/// Every object of `ar` in `scopes` (`None`: across the cluster), whole or metadata only, as raw JSON:
/// pages are fetched as they are consumed, and a page's text is dropped once its items are copied out.
pub fn listed<'a>(
    cluster: &'a Cluster,
    ar: &'a ApiResource,
    scopes: &'a [Option<String>],
    metadata_only: bool,
) -> impl Stream<Item = Result<Box<RawValue>, EngineError>> + Send + 'a {
    let page_size = if metadata_only { METADATA_PAGE } else { WHOLE_PAGE };
    stream::iter(scopes.iter())
        .map(move |scope| {
            cluster.list(ar, ListOptions { namespace: scope.as_deref(), metadata_only, page_size }).boxed()
        })
        .flatten_unordered(CONCURRENT_READS)
        .map(move |page| {
            let items: Vec<Result<Box<RawValue>, EngineError>> = match page {
                Ok(page) => match page.items() {
                    Ok(items) => items.into_iter().map(|item| Ok(item.to_owned())).collect(),
                    Err(e) => vec![Err(invalid_answer(cluster, ar, &e))],
                },
                Err(e) => vec![Err(e.into())],
            };
            stream::iter(items)
        })
        .flatten()
}

/// Calls `each` with every object of `ar` in `scopes`, parsed, one at a time.
pub async fn for_each_listed(
    cluster: &Cluster,
    ar: &ApiResource,
    scopes: &[Option<String>],
    metadata_only: bool,
    mut each: impl FnMut(Value) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let mut items = std::pin::pin!(listed(cluster, ar, scopes, metadata_only));
    while let Some(item) = items.next().await {
        each(parse(cluster, ar, &item?)?)?;
    }
    Ok(())
}

/// [`for_each_listed`] of metadata only, without the objects' field ownership (`managedFields`, most of
/// a metadata item): what the source side of planning reads for every object of every migration.
pub async fn for_each_listed_identity(
    cluster: &Cluster,
    ar: &ApiResource,
    scopes: &[Option<String>],
    mut each: impl FnMut(Value) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    let mut items = std::pin::pin!(listed(cluster, ar, scopes, true));
    while let Some(item) = items.next().await {
        let item: IdentityItem = serde_json::from_str(item?.get()).map_err(|e| invalid_answer(cluster, ar, &e))?;
        each(serde_json::json!({"metadata": item.metadata}))?;
    }
    Ok(())
}

/// The parts of an object's metadata that identify it and decide whether it is copied.
#[derive(serde::Deserialize)]
struct IdentityItem {
    #[serde(default)]
    metadata: IdentityMeta,
}

#[derive(serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct IdentityMeta {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    namespace: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    resource_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_references: Option<Vec<Value>>,
}

/// The whole object of every id in `ids` (all of the type of `ar`), or `None` for one that is gone:
/// single reads for a few, lists in `scopes` for many.
pub fn whole<'a>(
    cluster: &'a Cluster,
    ar: &'a ApiResource,
    ids: Vec<ObjectId>,
    scopes: &'a [Option<String>],
) -> BoxStream<'a, Result<(ObjectId, Option<Value>), EngineError>> {
    if ids.len() <= GETS_PER_TYPE {
        return stream::iter(ids)
            .map(move |id| async move {
                let object = cluster.get_opt(ar, id.scope(), &id.name).await?;
                Ok((id, object))
            })
            .buffer_unordered(CONCURRENT_READS)
            .boxed();
    }
    let Some(key) = ids.first().map(|id| id.key.clone()) else { return stream::empty().boxed() };
    struct Walk<S> {
        items: S,
        wanted: HashSet<ObjectId>,
        /// Wanted objects the lists did not have, handed out as gone once the lists are done.
        missing: Option<std::collections::hash_set::IntoIter<ObjectId>>,
        failed: bool,
    }
    let walk = Walk {
        items: listed(cluster, ar, scopes, false).boxed(),
        wanted: ids.into_iter().collect(),
        missing: None,
        failed: false,
    };
    stream::unfold(walk, move |mut walk| {
        let key = key.clone();
        async move {
            loop {
                if walk.failed {
                    return None;
                }
                if let Some(missing) = &mut walk.missing {
                    let id = missing.next()?;
                    return Some((Ok((id, None)), walk));
                }
                // Everything wanted was found: the rest of the lists need not be read.
                if walk.wanted.is_empty() {
                    return None;
                }
                let item = match walk.items.next().await {
                    Some(item) => item.and_then(|raw| parse(cluster, ar, &raw)),
                    None => {
                        walk.missing = Some(std::mem::take(&mut walk.wanted).into_iter());
                        continue;
                    }
                };
                match item {
                    Ok(object) => {
                        let id = ObjectId::new(&key, namespace_of(&object), name_of(&object));
                        if walk.wanted.remove(&id) {
                            return Some((Ok((id, Some(object))), walk));
                        }
                    }
                    Err(e) => {
                        walk.failed = true;
                        return Some((Err(e), walk));
                    }
                }
            }
        }
    })
    .boxed()
}

fn parse(cluster: &Cluster, ar: &ApiResource, raw: &RawValue) -> Result<Value, EngineError> {
    serde_json::from_str(raw.get()).map_err(|e| invalid_answer(cluster, ar, &e))
}

pub fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

pub fn namespace_of(object: &Value) -> &str {
    object["metadata"]["namespace"].as_str().unwrap_or_default()
}

/// An answer that does not parse was most likely cut off on the way: worth another try.
fn invalid_answer(cluster: &Cluster, ar: &ApiResource, e: &serde_json::Error) -> EngineError {
    EngineError::Unavailable(stork_kube::RequestError {
        cluster: cluster.name(),
        what: format!("listing {}", stork_kube::resource_name(ar)),
        code: None,
        retry: stork_kube::Retry::Transient,
        message: stork_kube::bounded(&format!("the answer is not valid JSON: {e}"), stork_kube::MAX_MESSAGE),
    })
}
