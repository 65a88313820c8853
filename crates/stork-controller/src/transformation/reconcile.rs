//! One check of a ResourceTransformation: the destinations of its namespace's pairs that answer, the
//! engine's check against them, the status written only when it changed, an event when the verdict
//! changed.

use std::time::Duration;

use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action as Requeue;
use serde_json::json;
use stork_api::annotations::FIELD_MANAGER;
use stork_api::{ClusterPair, ResourceTransformation, ResourceTransformationStatusType as State};
use stork_kube::Cluster;
use stork_migrate::io::transformation::{Target, check};

use super::Error;
use crate::context::Context;

/// Checked again this often, for objects created since (a migration transforms them too).
const RECHECK: Duration = Duration::from_secs(300);
/// A destination that does not answer within this is left out of this check.
const REACH_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn reconcile(rt: &ResourceTransformation, ctx: &Context) -> Result<Requeue, Error> {
    if rt.metadata.deletion_timestamp.is_some() {
        return Ok(Requeue::await_change());
    }
    let namespace = rt.namespace().ok_or(Error::NoNamespace)?;
    let (targets, unreachable) = targets(ctx, &namespace).await?;
    let mut status = check(&ctx.source, &targets, rt).await?;
    if !unreachable.is_empty() {
        status.reason.push_str(&format!("; not checked on {} (out of reach)", unreachable.join(", ")));
    }
    let old = rt.status.clone().unwrap_or_default();
    if old != status {
        let api: Api<ResourceTransformation> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = json!({"apiVersion": stork_api::API_VERSION, "kind": "ResourceTransformation", "status": status});
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let what = format!("writing the status of ResourceTransformation {namespace}/{}", rt.name_any());
        ctx.source.within(what, api.patch_status(&rt.name_any(), &params, &Patch::Apply(patch))).await?;
        if old.status != status.status {
            let failed = status.status == State::Failed;
            publish(ctx, rt, failed, status.status.as_str(), &status.reason).await;
        }
    }
    Ok(Requeue::requeue(RECHECK))
}

/// The destinations of the pairs in `namespace` that answer, and the names of those that do not.
async fn targets(ctx: &Context, namespace: &str) -> Result<(Vec<Target>, Vec<String>), Error> {
    let pairs: Api<ClusterPair> = Api::namespaced(ctx.client.clone(), namespace);
    let listed =
        ctx.source.within(format!("listing ClusterPairs in {namespace}"), pairs.list(&Default::default())).await?;
    let mut targets = Vec::new();
    let mut unreachable = Vec::new();
    for pair in listed.items {
        let name = format!("ClusterPair {}", pair.name_any());
        let Ok(remote) = ctx.remotes.get(&pair).await else {
            unreachable.push(name);
            continue;
        };
        let probe = Cluster::new(remote.client.clone(), "destination", REACH_TIMEOUT);
        match probe.within(format!("GET {}/version", remote.server), remote.client.apiserver_version()).await {
            Ok(_) => targets.push(Target {
                name,
                cluster: Cluster::new(remote.client, "destination", ctx.settings.request_timeout),
            }),
            Err(_) => unreachable.push(name),
        }
    }
    Ok((targets, unreachable))
}

async fn publish(ctx: &Context, rt: &ResourceTransformation, warning: bool, reason: &str, message: &str) {
    ctx.publish(rt, "Checking", warning, reason, message).await;
}
