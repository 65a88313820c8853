//! Watches for continuous sync: metadata only (nothing of an object is kept but its key and, for a copy,
//! its compact record), started from a resourceVersion and resumed from the last one seen, which
//! bookmarks keep fresh while nothing changes. A version the server no longer has is reported, so that
//! the caller compares both clusters whole instead of missing what changed meanwhile.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, WatchEvent, WatchParams};
use kube::core::PartialObjectMeta;
use stork_api::annotations::FIELD_MANAGER;
use stork_kube::{Cluster, RequestError};
use tokio::sync::mpsc;

use crate::core::continuous::StatusOnlyFilter;
use crate::core::model::{ObjectId, TypeKey};
use crate::core::plan::CopyRecord;
use crate::error::EngineError;

/// Seconds the server keeps one watch request open; the watch is then resumed from its last version.
pub const WATCH_SECONDS: u32 = 60;
/// A watch silent this long (no event, no bookmark, no end) is taken for a dead connection.
const SILENCE: Duration = Duration::from_secs(WATCH_SECONDS as u64 + 20);
/// First wait before a failed watch is tried again; doubled up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Which cluster a watch is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Source,
    Destination,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Destination => "destination",
        }
    }
}

/// What a watch reports.
#[derive(Debug)]
pub enum Noticed {
    /// An object changed, appeared or was deleted; on the destination with the copy's record (`None`
    /// when it was deleted).
    Changed { side: Side, id: ObjectId, at: Instant, record: Option<CopyRecord> },
    /// The source's namespaces or CRDs changed: which namespaces and types are watched may change.
    Reshaped { side: Side, what: String },
    /// The version the watch would resume from is gone (compacted): only a comparison of both clusters
    /// finds what changed meanwhile.
    Expired { side: Side, what: String },
    /// The watch failed and is being tried again (a restarting or unreachable API server).
    Trouble { side: Side, message: String },
    /// The watch works again after trouble.
    Resumed { side: Side },
    /// The cluster refuses the watch (`403`): that kind is not watched; a full pass still copies it.
    Refused { side: Side, what: String, message: String },
}

/// One watched collection.
#[derive(Clone)]
pub struct Watched {
    /// A client whose read timeout is longer than [`WATCH_SECONDS`].
    pub cluster: Cluster,
    pub side: Side,
    pub ar: ApiResource,
    pub key: Arc<TypeKey>,
    /// Changes outside these namespaces are left out.
    pub namespaces: Arc<BTreeSet<String>>,
    /// Namespaces and CRDs: any change is a [`Noticed::Reshaped`], not a change to copy.
    pub shape: bool,
}

impl Watched {
    fn what(&self) -> String {
        format!("watching {}", stork_kube::dynamic::resource_name(&self.ar))
    }
}

/// The collection's current resourceVersion: a watch from it sees every change made after this call.
pub async fn current_version(cluster: &Cluster, ar: &ApiResource) -> Result<String, EngineError> {
    let api: Api<DynamicObject> = Api::all_with(cluster.client().clone(), ar);
    let what = format!("listing {}", stork_kube::dynamic::resource_name(ar));
    let list = cluster.within(what, api.list_metadata(&ListParams::default().limit(1))).await?;
    Ok(list.metadata.resource_version.unwrap_or_default())
}

/// Watches `watched` from `version` until the receiver is gone or the version expires, reporting on
/// `tx`. Failures are retried with backoff and reported as [`Noticed::Trouble`]; a watch the server
/// ends is resumed from the last version seen.
pub async fn watch(watched: Watched, mut version: String, tx: mpsc::Sender<Noticed>) {
    let api: Api<DynamicObject> = Api::all_with(watched.cluster.client().clone(), &watched.ar);
    let params = WatchParams { bookmarks: true, timeout: Some(WATCH_SECONDS), ..Default::default() };
    let side = watched.side;
    let mut backoff = BACKOFF;
    let mut troubled = false;
    let mut status_only = StatusOnlyFilter::default();
    loop {
        let trouble = match api.watch_metadata(&params, &version).await {
            Err(kube::Error::Api(status)) if status.code == 410 => {
                let _ = tx.send(Noticed::Expired { side, what: watched.what() }).await;
                return;
            }
            Err(kube::Error::Api(status)) if status.code == 403 => {
                let message = stork_kube::error::bounded(&status.message, stork_kube::error::MAX_MESSAGE);
                let _ = tx.send(Noticed::Refused { side, what: watched.what(), message }).await;
                return;
            }
            Err(e) => RequestError::from_kube(watched.cluster.name(), watched.what(), &e).to_string(),
            Ok(stream) => {
                // The server answered: the cluster is back, whether or not anything changes soon.
                if troubled {
                    troubled = false;
                    backoff = BACKOFF;
                    if tx.send(Noticed::Resumed { side }).await.is_err() {
                        return;
                    }
                }
                let mut stream = std::pin::pin!(stream);
                let mut failure = None;
                loop {
                    let event = match tokio::time::timeout(SILENCE, stream.next()).await {
                        Err(_) => {
                            failure =
                                Some(format!("{}: no event nor bookmark for {}s", watched.what(), SILENCE.as_secs()));
                            break;
                        }
                        // The server ended the request (its timeout): resume from the last version.
                        Ok(None) => break,
                        Ok(Some(Err(e))) => {
                            failure =
                                Some(RequestError::from_kube(watched.cluster.name(), watched.what(), &e).to_string());
                            break;
                        }
                        Ok(Some(Ok(event))) => event,
                    };
                    let (meta, deleted) = match event {
                        WatchEvent::Added(m) | WatchEvent::Modified(m) => (m, false),
                        WatchEvent::Deleted(m) => (m, true),
                        WatchEvent::Bookmark(b) => {
                            version = b.metadata.resource_version;
                            continue;
                        }
                        WatchEvent::Error(e) if e.code == 410 => {
                            let _ = tx.send(Noticed::Expired { side, what: watched.what() }).await;
                            return;
                        }
                        WatchEvent::Error(e) => {
                            failure = Some(format!("{}: {}", watched.what(), e.message));
                            break;
                        }
                    };
                    if let Some(v) = &meta.metadata.resource_version {
                        version.clone_from(v);
                    }
                    let Some(noticed) = notice(&watched, &meta, deleted, &mut status_only) else { continue };
                    if tx.send(noticed).await.is_err() {
                        return;
                    }
                }
                match failure {
                    None => {
                        // A clean end after events: the connection works.
                        continue;
                    }
                    Some(f) => f,
                }
            }
        };
        if tx.is_closed() {
            return;
        }
        troubled = true;
        if tx.send(Noticed::Trouble { side, message: trouble }).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// What one watch event means for the sync, if anything.
fn notice(
    watched: &Watched,
    meta: &PartialObjectMeta<DynamicObject>,
    deleted: bool,
    status_only: &mut StatusOnlyFilter,
) -> Option<Noticed> {
    let side = watched.side;
    let name = meta.metadata.name.as_deref().unwrap_or_default();
    if watched.shape {
        return Some(Noticed::Reshaped { side, what: format!("{} {name}", watched.key.kind) });
    }
    let namespace = meta.metadata.namespace.as_deref().unwrap_or_default();
    if watched.key.namespaced && !watched.namespaces.contains(namespace) {
        return None;
    }
    // Each one would cost a read of the whole object to find its copy unchanged.
    if side == Side::Source && !status_only.may_change_copy(&meta.metadata, deleted) {
        return None;
    }
    let id = ObjectId::new(&watched.key, namespace, name);
    let record = match (side, deleted) {
        (Side::Destination, false) => {
            let meta = serde_json::to_value(&meta.metadata).unwrap_or_default();
            Some(CopyRecord::from_metadata(&meta, FIELD_MANAGER, false))
        }
        _ => None,
    };
    Some(Noticed::Changed { side, id, at: Instant::now(), record })
}
