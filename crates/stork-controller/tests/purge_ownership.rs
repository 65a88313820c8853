//! Purge deletes only what the purging pair wrote: two source clusters migrating a namespace of the same
//! name into one DR cluster never delete each other's copies; an object that existed on the DR cluster
//! before a migration adopted it is never purged; an object a selector leaves out is not "deleted on
//! the source".

mod common;

use common::*;
use stork_api::MigrationStatusType as M;
use testenv::TestCluster;

fn configmaps(cluster: &TestCluster) -> Vec<String> {
    let mut names: Vec<String> = written_by(cluster, "shop", "cm").into_keys().collect();
    names.retain(|n| !n.ends_with("kube-root-ca.crt"));
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sources_into_one_dr_cluster_never_purge_each_others_copies() {
    let (a, b, dr) =
        tokio::join!(TestCluster::start("source-a"), TestCluster::start("source-b"), TestCluster::start("dr"));
    let (a, b, dr) = (a.expect("a"), b.expect("b"), dr.expect("dr"));
    let (stork_a, stork_b) = (Stork::start(&a, &[]), Stork::start(&b, &[]));
    ready_pair(&a, &dr, "shop", &stork_a).await;
    ready_pair(&b, &dr, "shop", &stork_b).await;

    // The DR cluster already has shop/local of its own.
    must(&dr, &["create", "namespace", "shop"]);
    must(&dr, &["create", "configmap", "local", "-n", "shop", "--from-literal=x=dr"]);
    for name in ["a-only", "a-web", "a-unlabelled", "local"] {
        must(&a, &["create", "configmap", name, "-n", "shop", "--from-literal=x=a"]);
    }
    must(&a, &["label", "configmap", "a-web", "a-only", "-n", "shop", "app=web"]);
    must(&b, &["create", "configmap", "b-only", "-n", "shop", "--from-literal=x=b"]);

    let spec = "  clusterPair: remotecluster\n  namespaces: [shop]\n  purgeDeletedResources: true";
    assert_eq!(migrate(&a, "shop", "a-1", spec, &stork_a).await.status, M::Successful);
    assert_eq!(migrate(&b, "shop", "b-1", spec, &stork_b).await.status, M::Successful);
    assert_eq!(
        configmaps(&dr),
        ["ConfigMap/a-only", "ConfigMap/a-unlabelled", "ConfigMap/a-web", "ConfigMap/b-only", "ConfigMap/local"]
    );
    let adopted = kget(&dr, Some("shop"), "configmap", "local").expect("local");
    assert_eq!(adopted["data"]["x"], "a", "adopted and updated by a's migration");
    assert_eq!(adopted["metadata"]["annotations"]["stork-rs.io/adopted"], "true");
    let b_uid = kget(&b, None, "namespace", "kube-system").expect("kube-system")["metadata"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let b_copy = kget(&dr, Some("shop"), "configmap", "b-only").expect("b-only");
    assert_eq!(b_copy["metadata"]["annotations"]["stork-rs.io/writer"], format!("{b_uid}/shop/remotecluster"));

    // B's source has none of A's objects: B's purge must not take them for deleted.
    assert_eq!(migrate(&b, "shop", "b-2", spec, &stork_b).await.status, M::Successful);
    assert_eq!(configmaps(&dr).len(), 5, "b purged what a wrote: {:?}", configmaps(&dr));

    // A deletes two objects and migrates only app=web: its own deleted copy goes, the adopted one
    // stays, B's copy stays, and the unlabelled one (still on the source) is not purged.
    must(&a, &["delete", "configmap", "a-only", "local", "-n", "shop"]);
    let selected = format!("{spec}\n  selectors: {{app: web}}");
    let status = migrate(&a, "shop", "a-2", &selected, &stork_a).await;
    assert_eq!(status.status, M::Successful, "{status:#?}");
    assert_eq!(configmaps(&dr), ["ConfigMap/a-unlabelled", "ConfigMap/a-web", "ConfigMap/b-only", "ConfigMap/local"]);
    assert_eq!(status.resource_counts.expect("counts").purged, 1);
}
