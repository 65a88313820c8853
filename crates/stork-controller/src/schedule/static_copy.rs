//! The static copy: each schedule kept on the destination, suspended and marked
//! `stork.libopenstorage.org/static-copy`, its template in sync, so that a failover can be started from
//! the destination side and the destination can say its applications were activated there.

use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;
use stork_api::MigrationSchedule;
use stork_api::annotations::{RESOURCE_HASH, STATIC_COPY};
use stork_kube::{Cluster, RequestError};
use stork_migrate::core::hash::content_hash;

/// What the destination holds for a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// Our copy, in sync; whether the destination reports its applications activated.
    Synced { activated: bool },
    /// A schedule of that name that is not a static copy: left alone.
    Foreign,
}

/// The hash of a schedule's template, which the copy carries.
pub fn template_hash(schedule: &MigrationSchedule) -> String {
    content_hash(&serde_json::to_value(&schedule.spec.template).unwrap_or_default()).to_hex()
}

/// Creates the copy when missing (and its namespace), updates its template when it changed.
pub async fn sync(destination: &Cluster, schedule: &MigrationSchedule) -> Result<Copy, RequestError> {
    let namespace = schedule.namespace().unwrap_or_default();
    let name = schedule.name_any();
    let hash = template_hash(schedule);
    let api: Api<MigrationSchedule> = Api::namespaced(destination.client().clone(), &namespace);
    let existing =
        destination.within(format!("reading MigrationSchedule {namespace}/{name}"), api.get_opt(&name)).await?;
    let Some(copy) = existing else {
        let namespaces: Api<Namespace> = Api::all(destination.client().clone());
        let ns = Namespace {
            metadata: ObjectMeta { name: Some(namespace.clone()), ..Default::default() },
            ..Default::default()
        };
        match destination
            .within(format!("creating namespace {namespace}"), namespaces.create(&PostParams::default(), &ns))
            .await
        {
            Ok(_) => {}
            Err(e) if e.code == Some(409) => {}
            Err(e) => return Err(e),
        }
        let mut annotations = schedule.annotations().clone();
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        annotations.insert(STATIC_COPY.to_string(), "true".to_string());
        annotations.insert(RESOURCE_HASH.to_string(), hash);
        let mut spec = schedule.spec.clone();
        spec.suspend = Some(true);
        let mut copy = MigrationSchedule::new(&name, spec);
        copy.metadata.namespace = Some(namespace.clone());
        copy.metadata.annotations = Some(annotations);
        let what = format!("creating the static copy of MigrationSchedule {namespace}/{name}");
        destination.within(what, api.create(&PostParams::default(), &copy)).await?;
        return Ok(Copy::Synced { activated: false });
    };
    if copy.annotations().get(STATIC_COPY).map(String::as_str) != Some("true") {
        return Ok(Copy::Foreign);
    }
    if copy.annotations().get(RESOURCE_HASH) != Some(&hash) {
        let patch =
            json!({"metadata": {"annotations": {RESOURCE_HASH: hash}}, "spec": {"template": schedule.spec.template}});
        let what = format!("updating the static copy of MigrationSchedule {namespace}/{name}");
        destination.within(what, api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))).await?;
    }
    Ok(Copy::Synced { activated: copy.status.as_ref().is_some_and(|s| s.application_activated) })
}
