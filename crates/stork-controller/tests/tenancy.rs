//! What a tenant (someone who may create Migrations in their own namespace) cannot reach, and what no
//! Migration overwrites on a destination it shares: cluster-scoped writes need the admin namespace and
//! fail before anything is written; someone else's cluster-scoped objects are left as they are (a
//! ClusterRoleBinding keeps the destination's subjects); a selector never picks the controller's own
//! namespace; an admin Migration reads its ResourceTransformation from its own namespace only.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kube::api::Api;
use stork_api::{MigrationStatusType as M, ResourceTransformation, ResourceTransformationStatusType as RT};
use testenv::TestCluster;

fn reason_of(status: &stork_api::MigrationStatus, kind: &str, name: &str) -> String {
    status
        .resources
        .iter()
        .find(|r| r.kind == kind && r.name == name)
        .map(|r| r.reason.clone())
        .unwrap_or_else(|| panic!("{kind} {name} not in the status: {status:#?}"))
}

async fn ready_transformation(source: &TestCluster, namespace: &str, name: &str, stork: &Stork) {
    let api: Api<ResourceTransformation> = Api::namespaced(source.client(), namespace);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(rt) = api.get(name).await
            && let Some(status) = &rt.status
            && status.observed_generation == rt.metadata.generation
        {
            assert_eq!(status.status, RT::Ready, "{status:?}");
            return;
        }
        assert!(Instant::now() < deadline, "{namespace}/{name} not checked\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_write_no_cluster_scoped_objects_and_nobody_overwrites_others() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    must(&source, &["create", "namespace", "stork-system"]);
    let stork = Stork::start(&source, &["--leader-elect-namespace=stork-system"]);
    ready_pair(&source, &destination, "shop", &stork).await;
    ready_pair(&source, &destination, "kube-system", &stork).await;

    // The tenant's application uses a ClusterRole of its own through a RoleBinding.
    must(&source, &["create", "configmap", "settings", "-n", "shop", "--from-literal=colour=blue"]);
    must(&source, &["create", "clusterrole", "shop-reader", "--verb=get", "--resource=pods"]);
    must(
        &source,
        &[
            "create",
            "rolebinding",
            "readers",
            "-n",
            "shop",
            "--clusterrole=shop-reader",
            "--serviceaccount=shop:default",
        ],
    );

    // A tenant's Migration that would create the ClusterRole fails, naming it, and writes nothing.
    let spec = "  clusterPair: remotecluster\n  namespaces: [shop]";
    let status = migrate(&source, "shop", "tenant-1", spec, &stork).await;
    assert_eq!(status.status, M::Failed, "{status:#?}");
    assert!(
        status.reason.contains("ClusterRole shop-reader") && status.reason.contains("admin namespace"),
        "{}",
        status.reason
    );
    assert!(kget(&destination, None, "namespace", "shop").is_none(), "nothing written, not even the namespace");

    // Once the destination has a ClusterRole of that name (its own), the tenant migrates and the
    // ClusterRole is left exactly as the destination had it.
    must(&destination, &["create", "clusterrole", "shop-reader", "--verb=list", "--resource=pods"]);
    let before = kget(&destination, None, "clusterrole", "shop-reader").expect("clusterrole");
    let status = migrate(&source, "shop", "tenant-2", spec, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(reason_of(&status, "ClusterRole", "shop-reader").contains("left as it is"), "{status:#?}");
    let after = kget(&destination, None, "clusterrole", "shop-reader").expect("clusterrole");
    assert_eq!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"], "untouched");
    assert_eq!(kget(&destination, Some("shop"), "configmap", "settings").expect("copied")["data"]["colour"], "blue");

    // An admin Migration: a ClusterRoleBinding the destination already has keeps its own subjects (the
    // source's are not forced over them); one it lacks is created with the migrated subjects only.
    must(&source, &["create", "namespace", "other"]);
    for (name, subjects) in
        [("shared-readers", ["shop:default", "other:default"]), ("shop-readers", ["shop:default", "other:x"])]
    {
        let mut args = vec!["create", "clusterrolebinding", name, "--clusterrole=shop-reader"];
        let flags: Vec<String> = subjects.iter().map(|s| format!("--serviceaccount={s}")).collect();
        args.extend(flags.iter().map(String::as_str));
        must(&source, &args);
    }
    must(
        &destination,
        &[
            "create",
            "clusterrolebinding",
            "shared-readers",
            "--clusterrole=shop-reader",
            "--serviceaccount=dr-team:ops",
        ],
    );
    let before = kget(&destination, None, "clusterrolebinding", "shared-readers").expect("crb");
    let status = migrate(&source, "kube-system", "admin-1", spec, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let after = kget(&destination, None, "clusterrolebinding", "shared-readers").expect("crb");
    assert_eq!(after["subjects"], before["subjects"], "the destination's subjects stay");
    assert_eq!(after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
    assert!(reason_of(&status, "ClusterRoleBinding", "shared-readers").contains("left as it is"));
    let created = kget(&destination, None, "clusterrolebinding", "shop-readers").expect("created");
    let subjects: Vec<&str> =
        created["subjects"].as_array().expect("subjects").iter().filter_map(|s| s["namespace"].as_str()).collect();
    assert_eq!(subjects, ["shop"], "only subjects of migrated namespaces");

    // The controller's own namespace is never picked by a selector.
    for ns in ["shop", "stork-system"] {
        must(&source, &["label", "namespace", ns, "dr=yes"]);
    }
    let by_label = "  clusterPair: remotecluster\n  namespaceSelectors: {dr: \"yes\"}";
    let status = migrate(&source, "kube-system", "admin-2", by_label, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert!(kget(&destination, None, "namespace", "stork-system").is_none(), "the controller's namespace stays out");
    assert!(status.resources.iter().all(|r| r.namespace != "stork-system"), "{status:#?}");

    // An admin Migration reads its ResourceTransformation from the admin namespace only: one of that
    // name in the tenant's namespace is not used.
    let rt = |namespace: &str, value: &str| {
        format!(
            "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: ResourceTransformation\nmetadata: {{name: relabel, namespace: {namespace}}}\n\
             specs:\n  transformSpecs:\n  - resource: /v1/ConfigMap\n    paths:\n    - {{path: metadata.annotations, value: \"set-by:{value}\", type: keypair, operation: modify}}\n"
        )
    };
    assert!(kubectl_create(&source, &rt("shop", "tenant")).0);
    ready_transformation(&source, "shop", "relabel", &stork).await;
    let transformed = "  clusterPair: remotecluster\n  namespaces: [shop]\n  transformSpecs: [relabel]";
    let status = migrate(&source, "kube-system", "admin-3", transformed, &stork).await;
    assert_eq!(status.status, M::Failed, "{status:#?}");
    assert!(
        status.reason.contains("ResourceTransformation relabel not found in namespace kube-system"),
        "{}",
        status.reason
    );
    assert!(kubectl_create(&source, &rt("kube-system", "admin")).0);
    ready_transformation(&source, "kube-system", "relabel", &stork).await;
    let status = migrate(&source, "kube-system", "admin-4", transformed, &stork).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    let settings = kget(&destination, Some("shop"), "configmap", "settings").expect("copied");
    assert_eq!(settings["metadata"]["annotations"]["set-by"], "admin", "{settings}");
}
