//! Untyped requests to one cluster, each with a deadline: discovery, paged lists read page by page, single
//! reads, server-side applies and deletes. Bodies travel as raw JSON: parsing thousands of objects into
//! typed structs (or kube's flattened `DynamicObject`) costs CPU that the API servers on the same machine
//! need, and every field unknown to a Rust type must survive a copy.

use std::future::Future;
use std::time::Duration;

use futures::Stream;
use kube::api::{ApiResource, DeleteParams, ListParams, Patch, PatchParams};
use kube::discovery::{Discovery, Scope, verbs};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::RequestError;

/// A resource type a cluster serves and can list.
#[derive(Debug, Clone)]
pub struct ServedType {
    pub ar: ApiResource,
    pub namespaced: bool,
}

/// One cluster's client, named for messages (`source`, `destination`), with the deadline every request
/// to it gets: a cluster that accepts connections but never answers, or trickles bytes, fails the
/// request instead of holding its caller forever.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    name: &'static str,
    timeout: Duration,
}

pin_project_lite::pin_project! {
    /// A request with its cluster's deadline (see [`Cluster::within`]).
    pub struct Within<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        what: Option<String>,
        cluster: &'static str,
        timeout: Duration,
    }
}

impl<F, T> Future for Within<F>
where
    F: Future<Output = Result<T, kube::Error>>,
{
    type Output = Result<T, RequestError>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let what = this.what.take().unwrap_or_default();
        std::task::Poll::Ready(match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(RequestError::from_kube(this.cluster, what, &e)),
            Err(_) => Err(RequestError::timeout(this.cluster, what, *this.timeout)),
        })
    }
}

/// One page of a list, kept as the server's text; items are borrowed from it one at a time.
pub struct ListPage {
    text: String,
}

#[derive(Deserialize)]
struct RawList<'a> {
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    metadata: RawListMeta,
}

#[derive(Deserialize, Default)]
struct RawListMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

impl ListPage {
    /// The page's items as raw JSON.
    pub fn items(&self) -> Result<Vec<&RawValue>, serde_json::Error> {
        serde_json::from_str::<RawList<'_>>(&self.text).map(|list| list.items.unwrap_or_default())
    }

    /// Bytes of the page as received, for memory accounting.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// How a list is asked for.
#[derive(Debug, Clone, Copy)]
pub struct ListOptions<'a> {
    pub namespace: Option<&'a str>,
    /// Only each object's metadata (`PartialObjectMetadata`): a fraction of the bytes.
    pub metadata_only: bool,
    /// Objects per page; each page is held in memory once while its items are handled.
    pub page_size: u32,
}

/// The collection URL of `ar`, in `namespace` or across all namespaces.
pub fn resource_url(ar: &ApiResource, namespace: Option<&str>) -> String {
    let base =
        if ar.group.is_empty() { format!("/api/{}", ar.version) } else { format!("/apis/{}/{}", ar.group, ar.version) };
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{}", ar.plural),
        None => format!("{base}/{}", ar.plural),
    }
}

/// `configmaps` or `deployments.apps`, as kubectl names a resource.
pub fn resource_name(ar: &ApiResource) -> String {
    if ar.group.is_empty() { ar.plural.clone() } else { format!("{}.{}", ar.plural, ar.group) }
}

impl Cluster {
    pub fn new(client: kube::Client, name: &'static str, timeout: Duration) -> Self {
        Self { client, name, timeout }
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `request` within this cluster's deadline; `what` (e.g. `listing configmaps`) names it in
    /// errors. The future is a named type, not an opaque one: opaque futures capturing borrowed
    /// requests defeat the compiler's `Send` inference in the reconcilers that await them.
    pub fn within<F, T>(&self, what: String, request: F) -> Within<F>
    where
        F: Future<Output = Result<T, kube::Error>>,
    {
        Within {
            inner: tokio::time::timeout(self.timeout, request),
            what: Some(what),
            cluster: self.name,
            timeout: self.timeout,
        }
    }

    /// Every type the cluster serves that can be listed (subresources left out), in a stable order.
    pub async fn discover(&self) -> Result<Vec<ServedType>, RequestError> {
        let discovery =
            self.within("discovering API resources".to_string(), Discovery::new(self.client.clone()).run_aggregated());
        let discovery = discovery.await?;
        let mut types = Vec::new();
        for group in discovery.groups() {
            for (ar, caps) in group.recommended_resources() {
                if caps.supports_operation(verbs::LIST) && !ar.plural.contains('/') {
                    types.push(ServedType { ar, namespaced: caps.scope == Scope::Namespaced });
                }
            }
        }
        types.sort_by(|a, b| (&a.ar.group, &a.ar.version, &a.ar.kind).cmp(&(&b.ar.group, &b.ar.version, &b.ar.kind)));
        Ok(types)
    }

    /// The object `name`, or `None` when it is not there.
    pub async fn get_opt(
        &self,
        ar: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, RequestError> {
        let url = resource_url(ar, namespace);
        let what = || format!("reading {} {}", resource_name(ar), qualified(namespace, name));
        let request =
            kube::core::Request::new(&url).get(name, &Default::default()).map_err(|e| build_error(self, what(), e))?;
        match tokio::time::timeout(self.timeout, self.client.request::<Value>(request)).await {
            Ok(Ok(object)) => Ok(Some(object)),
            Ok(Err(kube::Error::Api(status))) if status.code == 404 => Ok(None),
            Ok(Err(e)) => Err(RequestError::from_kube(self.name, what(), &e)),
            Err(_) => Err(RequestError::timeout(self.name, what(), self.timeout)),
        }
    }

    /// The pages of a list of `ar`, fetched one after another as they are consumed.
    pub fn list<'a>(
        &'a self,
        ar: &'a ApiResource,
        options: ListOptions<'a>,
    ) -> impl Stream<Item = Result<ListPage, RequestError>> + Send + 'a {
        let url = resource_url(ar, options.namespace);
        // `None`: the last page was read.
        futures::stream::try_unfold(Some(String::new()), move |token| {
            let url = url.clone();
            async move {
                let Some(token) = token else { return Ok(None) };
                let mut params = ListParams::default().limit(options.page_size);
                if !token.is_empty() {
                    params = params.continue_token(&token);
                }
                let what = || match options.namespace {
                    Some(ns) => format!("listing {} in {ns}", resource_name(ar)),
                    None => format!("listing {}", resource_name(ar)),
                };
                let request = kube::core::Request::new(&url);
                let request =
                    if options.metadata_only { request.list_metadata(&params) } else { request.list(&params) }
                        .map_err(|e| build_error(self, what(), e))?;
                let text = self.within(what(), self.client.request_text(request)).await?;
                let next = serde_json::from_str::<RawList<'_>>(&text)
                    .map_err(|e| RequestError::from_kube(self.name, what(), &kube::Error::SerdeError(e)))?
                    .metadata
                    .continue_token
                    .filter(|t| !t.is_empty());
                Ok(Some((ListPage { text }, next)))
            }
        })
    }

    /// Server-side apply of `body` (JSON) as `manager`, forcing conflicts: creates the object when it is
    /// missing, so that a copy is owned from its first write exactly as every later apply needs. Returns
    /// the server's answer as text.
    pub async fn apply(
        &self,
        ar: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        body: &[u8],
        manager: &str,
        dry_run: bool,
    ) -> Result<String, RequestError> {
        let url = resource_url(ar, namespace);
        let what = || format!("applying {} {}", resource_name(ar), qualified(namespace, name));
        // The source API server validated the object already; a strict decode again (the default, `Warn`)
        // costs the destination CPU for warnings nobody reads. Fields the destination does not know are
        // dropped either way.
        let mut params = PatchParams::apply(manager).force().validation_ignore();
        // A dry run goes through the destination's admission and validation, and persists nothing.
        params.dry_run = dry_run;
        let patch: Patch<&RawValue> = match serde_json::from_slice::<&RawValue>(body) {
            Ok(raw) => Patch::Apply(raw),
            Err(e) => return Err(RequestError::from_kube(self.name, what(), &kube::Error::SerdeError(e))),
        };
        let request =
            kube::core::Request::new(&url).patch(name, &params, &patch).map_err(|e| build_error(self, what(), e))?;
        self.within(what(), self.client.request_text(request)).await
    }

    /// Deletes the object in the background; `false` when it was already gone.
    pub async fn delete(&self, ar: &ApiResource, namespace: Option<&str>, name: &str) -> Result<bool, RequestError> {
        let url = resource_url(ar, namespace);
        let what = || format!("deleting {} {}", resource_name(ar), qualified(namespace, name));
        let request = kube::core::Request::new(&url)
            .delete(name, &DeleteParams::background())
            .map_err(|e| build_error(self, what(), e))?;
        match tokio::time::timeout(self.timeout, self.client.request_text(request)).await {
            Ok(Ok(_)) => Ok(true),
            Ok(Err(kube::Error::Api(status))) if status.code == 404 => Ok(false),
            Ok(Err(e)) => Err(RequestError::from_kube(self.name, what(), &e)),
            Err(_) => Err(RequestError::timeout(self.name, what(), self.timeout)),
        }
    }
}

fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

fn build_error(cluster: &Cluster, what: String, e: kube::core::request::Error) -> RequestError {
    RequestError::from_kube(cluster.name, what, &kube::Error::BuildRequest(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_names() {
        let cm = ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&());
        let deploy = ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&());
        assert_eq!(resource_url(&cm, Some("shop")), "/api/v1/namespaces/shop/configmaps");
        assert_eq!(resource_url(&deploy, None), "/apis/apps/v1/deployments");
        assert_eq!(resource_name(&cm), "configmaps");
        assert_eq!(resource_name(&deploy), "deployments.apps");
    }

    #[test]
    fn pages_hand_out_their_items_and_continue_token() {
        let page = ListPage {
            text: r#"{"kind":"List","metadata":{"continue":"abc"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#
                .to_string(),
        };
        let items = page.items().expect("parses");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].get(), r#"{"metadata":{"name":"b"}}"#);
        let list: RawList<'_> = serde_json::from_str(&page.text).expect("parses");
        assert_eq!(list.metadata.continue_token.as_deref(), Some("abc"));
        let empty = ListPage { text: r#"{"metadata":{},"items":null}"#.to_string() };
        assert!(empty.items().expect("parses").is_empty(), "an empty list may say items: null");
    }
}
