//! storkctl against real kube-apiservers (testenv): get/delete output byte for byte with real
//! creation timestamps, generate piped into kubectl, and create clusterpair across two clusters.

use assert_cmd::Command;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use stork_api::{ClusterPair, ClusterPairStatusType};
use stork_kube::pair_config::{RemoteTimeouts, client_config_for_pair};
use testenv::TestCluster;

mod common;

use common::{fails, minimal_pair, ok, rfc822_by_date};

/// The CREATED cell for `pair`, computed by coreutils `date` (an independent RFC822 formatter).
async fn created_cell(api: &Api<ClusterPair>, name: &str) -> String {
    let pair = api.get(name).await.expect("get pair");
    rfc822_by_date(pair.metadata.creation_timestamp.expect("apiserver sets creationTimestamp").0.as_second())
}

async fn create_pair(client: &kube::Client, ns: &str, name: &str) -> Api<ClusterPair> {
    testenv::ensure_namespace(client, ns).await.expect("namespace");
    let api: Api<ClusterPair> = Api::namespaced(client.clone(), ns);
    api.create(&PostParams::default(), &minimal_pair(name)).await.expect("create pair");
    api
}

async fn set_status(api: &Api<ClusterPair>, name: &str, storage: &str, scheduler: &str) {
    let patch = json!({"status": {"storageStatus": storage, "schedulerStatus": scheduler, "remoteStorageId": ""}});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch status");
}

#[tokio::test]
async fn get_generate_and_delete_on_a_real_apiserver() {
    let cluster = TestCluster::start("storkctl-get").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let kc = kc.as_path();
    let client = cluster.client();

    // §8.2 item 1 and 2.
    assert_eq!(ok(kc, &["get", "clusterpair", "-n", "test"]), "No resources found.\n");
    fails(
        kc,
        &["get", "clusterpair", "pair1", "-n", "test"],
        "Error from server (NotFound): clusterpairs.stork.libopenstorage.org \"pair1\" not found\n",
    );

    // §8.2 item 3 / G1: no status, so three empty cells; the apiserver always sets a timestamp.
    let test = create_pair(&client, "test", "getclusterpairtest").await;
    let t1 = created_cell(&test, "getclusterpairtest").await;
    let g1 = format!(
        "NAME                 STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
         getclusterpairtest                                       {t1}\n"
    );
    assert_eq!(ok(kc, &["get", "clusterpair", "getclusterpairtest", "-n", "test"]), g1);
    assert_eq!(ok(kc, &["get", "cp", "-n", "test"]), g1, "alias cp and listing give the same table");

    // §8.2 item 4 / G2.
    create_pair(&client, "test", "getclusterpairtest2").await;
    let test1 = create_pair(&client, "test1", "getclusterpairtest").await;
    let t2 = created_cell(&test, "getclusterpairtest2").await;
    let t3 = created_cell(&test1, "getclusterpairtest").await;
    let g2 = format!(
        "NAMESPACE   NAME                  STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
         test        getclusterpairtest                                        {t1}\n\
         test        getclusterpairtest2                                       {t2}\n\
         test1       getclusterpairtest                                        {t3}\n"
    );
    assert_eq!(ok(kc, &["get", "clusterpair", "--all-namespaces"]), g2);

    // §8.2 item 5 / G3: statuses written through the status subresource, as the controller does.
    let mig = create_pair(&client, "migrationnamespace", "remotecluster").await;
    set_status(&mig, "remotecluster", "NotProvided", "Ready").await;
    create_pair(&client, "migrationnamespace", "clusterpairstatustest").await;
    set_status(&mig, "clusterpairstatustest", "Ready", "Ready").await;
    let t4 = created_cell(&mig, "remotecluster").await;
    let t5 = created_cell(&mig, "clusterpairstatustest").await;
    assert_eq!(
        ok(kc, &["get", "clusterpair", "remotecluster", "-n", "migrationnamespace"]),
        format!(
            "NAME            STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
             remotecluster   NotProvided      Ready              {t4}\n"
        )
    );
    assert_eq!(
        ok(kc, &["get", "clusterpair", "clusterpairstatustest", "-n", "migrationnamespace"]),
        format!(
            "NAME                    STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
             clusterpairstatustest   Ready            Ready              {t5}\n"
        )
    );
    // Several names print in the order given.
    assert_eq!(
        ok(kc, &["get", "clusterpair", "remotecluster", "clusterpairstatustest", "-n", "migrationnamespace"]),
        format!(
            "NAME                    STORAGE-STATUS   SCHEDULER-STATUS   CREATED\n\
             remotecluster           NotProvided      Ready              {t4}\n\
             clusterpairstatustest   Ready            Ready              {t5}\n"
        )
    );

    // KUBECONFIG is honoured like kubectl when --kubeconfig is absent.
    let out = Command::cargo_bin("storkctl")
        .expect("storkctl")
        .args(["get", "clusterpair", "-n", "test"])
        .env("KUBECONFIG", kc)
        .env("TZ", common::TZ)
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), ok(kc, &["get", "clusterpair", "-n", "test"]));

    // -o yaml|json: a List of full objects for a listing, the object itself for one name.
    let list: Value =
        serde_saphyr::from_str(&ok(kc, &["get", "clusterpair", "-n", "test", "-o", "yaml"])).expect("yaml");
    assert_eq!((list["apiVersion"].as_str(), list["kind"].as_str()), (Some("v1"), Some("List")));
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "ClusterPair");
    assert_eq!(items[0]["apiVersion"], "stork.libopenstorage.org/v1alpha1");
    assert_eq!(items[1]["metadata"]["name"], "getclusterpairtest2");
    assert!(items[0]["metadata"].get("managedFields").is_none(), "managedFields are hidden as by kubectl");
    assert_eq!(items[0]["spec"]["config"]["clusters"]["c"]["server"], "https://127.0.0.1:1");
    let json_text = ok(kc, &["get", "clusterpair", "remotecluster", "-n", "migrationnamespace", "-o", "json"]);
    assert!(json_text.starts_with("{\n    \"apiVersion\""), "{json_text}");
    let single: ClusterPair = serde_json::from_str(&json_text).expect("a ClusterPair");
    let status = single.status.expect("status");
    assert_eq!(
        (status.storage_status, status.scheduler_status),
        (ClusterPairStatusType::NotProvided, ClusterPairStatusType::Ready)
    );
    let as_list: Value =
        serde_json::from_str(&ok(kc, &["get", "clusterpair", "-n", "test1", "-o", "json"])).expect("json list");
    assert_eq!(as_list["kind"], "List", "a listing stays a List even with one item");

    // generate's output is accepted by kubectl create -f, and storkctl reads it back.
    let generated = ok(kc, &["generate", "clusterpair", "generated", "-n", "test1"]);
    let created = cluster.kubectl_with_stdin(&["create", "-f", "-"], &generated).expect("kubectl create");
    assert!(created.status.success(), "kubectl create -f: {}", String::from_utf8_lossy(&created.stderr));
    assert_eq!(String::from_utf8_lossy(&created.stdout), "clusterpair.stork.libopenstorage.org/generated created\n");
    let stored: ClusterPair =
        serde_json::from_str(&ok(kc, &["get", "clusterpair", "generated", "-n", "test1", "-o", "json"])).expect("json");
    assert_eq!(stored.spec.options.get("insert_storage_options_here").map(String::as_str), Some(""));
    assert_eq!(stored.spec.config.clusters.values().next().map(|c| c.server.as_str()), Some(cluster.server_url()));
    // The embedded kubeconfig really reaches this cluster.
    let remote = client_config_for_pair(&stored.spec.config, Default::default(), RemoteTimeouts::default())
        .await
        .expect("usable config");
    let remote = kube::Client::try_from(remote).expect("client");
    Api::<Namespace>::all(remote).get("test1").await.expect("the generated credentials work");

    // §8.2 item 2 for delete: one line per name, NotFound afterwards.
    assert_eq!(
        ok(kc, &["delete", "clusterpair", "getclusterpairtest", "getclusterpairtest2", "-n", "test"]),
        "ClusterPair getclusterpairtest deleted successfully\nClusterPair getclusterpairtest2 deleted successfully\n"
    );
    fails(
        kc,
        &["delete", "clusterpair", "getclusterpairtest", "-n", "test"],
        "Error from server (NotFound): clusterpairs.stork.libopenstorage.org \"getclusterpairtest\" not found\n",
    );
    assert_eq!(ok(kc, &["get", "clusterpair", "-n", "test"]), "No resources found.\n");
    assert!(
        Api::<ClusterPair>::namespaced(client, "test1").get_opt("getclusterpairtest").await.expect("get").is_some()
    );
}

fn raw_pair(client: &kube::Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &ApiResource::erase::<ClusterPair>(&()))
}

/// The pair's own kubeconfig must reach `expected` (which holds a ConfigMap no other cluster has).
async fn assert_points_at(pair: &ClusterPair, expected: &TestCluster, marker: &str) {
    let config = client_config_for_pair(&pair.spec.config, Default::default(), RemoteTimeouts::default())
        .await
        .expect("usable config");
    assert_eq!(config.cluster_url.to_string().trim_end_matches('/'), expected.server_url());
    let remote = kube::Client::try_from(config).expect("client");
    Api::<ConfigMap>::namespaced(remote, "default").get(marker).await.expect("marker through the pair's credentials");
}

#[tokio::test]
async fn create_clusterpair_pairs_two_real_clusters() {
    let (source, destination) = tokio::join!(TestCluster::start("cp-source"), TestCluster::start("cp-destination"));
    let (source, destination) = (source.expect("source"), destination.expect("destination"));
    let (src_client, dest_client) = (source.client(), destination.client());
    for (client, marker) in [(&src_client, "i-am-source"), (&dest_client, "i-am-destination")] {
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": marker}})).expect("cm");
        Api::<ConfigMap>::namespaced(client.clone(), "default")
            .create(&PostParams::default(), &cm)
            .await
            .expect("marker");
    }
    let src_kc = source.kubeconfig_path();
    let dest_kc = destination.kubeconfig_path();
    let files =
        ["--src-kube-file", src_kc.to_str().expect("utf-8"), "--dest-kube-file", dest_kc.to_str().expect("utf-8")];
    let create = |extra: &[&'static str]| -> Vec<String> {
        ["create", "clusterpair"].iter().chain(extra).chain(&files).map(|s| s.to_string()).collect()
    };
    // Which kubeconfig storkctl itself is given does not matter for create.
    let any_kc = src_kc.as_path();

    // Default mode: both directions, namespace created on both clusters.
    assert_eq!(
        ok(any_kc, &create(&["pair1", "-n", "appns"])),
        "ClusterPair pair1 created successfully. Direction Source -> Destination\n\n\
         Cluster pair pair1 created successfully. Direction: Destination -> Source\n"
    );
    let forward = Api::<ClusterPair>::namespaced(src_client.clone(), "appns").get("pair1").await.expect("on source");
    let reverse = Api::<ClusterPair>::namespaced(dest_client.clone(), "appns").get("pair1").await.expect("on dest");
    assert_points_at(&forward, &destination, "i-am-destination").await;
    assert_points_at(&reverse, &source, "i-am-source").await;
    assert!(forward.spec.options.is_empty() && reverse.spec.options.is_empty(), "sync-dr has no options");
    let raw = raw_pair(&src_client, "appns").get("pair1").await.expect("raw");
    assert_eq!(raw.data["spec"]["options"], json!({}), "stored as options: {{}} as Stork does");
    let origin = dest_kc.display().to_string();
    assert_eq!(
        forward.spec.config.clusters.values().next().and_then(|c| c.location_of_origin.as_deref()),
        Some(origin.as_str())
    );

    // Creating it again: the apiserver's AlreadyExists, verbatim.
    fails(
        any_kc,
        &create(&["pair1", "-n", "appns"]),
        "Error from server (AlreadyExists): clusterpairs.stork.libopenstorage.org \"pair1\" already exists\n",
    );

    // A pair only the destination has is found by the dry run before the source is written.
    Api::<ClusterPair>::namespaced(dest_client.clone(), "appns")
        .create(&PostParams::default(), &minimal_pair("pair2"))
        .await
        .expect("pair2 on destination");
    fails(
        any_kc,
        &create(&["pair2", "-n", "appns"]),
        "error: on the destination cluster: Error from server (AlreadyExists): \
         clusterpairs.stork.libopenstorage.org \"pair2\" already exists\n",
    );
    assert!(
        Api::<ClusterPair>::namespaced(src_client.clone(), "appns").get_opt("pair2").await.expect("get").is_none(),
        "nothing written on the source"
    );

    // -u and migration mode: one pair, on the source only; the destination is not touched.
    assert_eq!(
        ok(any_kc, &create(&["pair3", "-n", "otherns", "-u", "--mode", "migration"])),
        "ClusterPair pair3 created successfully. Direction Source -> Destination\n\n"
    );
    let pair3 = Api::<ClusterPair>::namespaced(src_client.clone(), "otherns").get("pair3").await.expect("pair3");
    assert_eq!(pair3.spec.options.get("mode").map(String::as_str), Some("OneTimeMigration"));
    assert_eq!(pair3.spec.options.len(), 1);
    assert!(Api::<Namespace>::all(dest_client.clone()).get_opt("otherns").await.expect("get").is_none());

    // async-dr: the mode option on both pairs; project mappings reversed on the destination.
    ok(any_kc, &create(&["pair4", "-n", "appns", "--mode", "async-dr", "--project-mappings", "p-src=p-dst"]));
    for (client, from, to) in [(&src_client, "p-src", "p-dst"), (&dest_client, "p-dst", "p-src")] {
        let pair = Api::<ClusterPair>::namespaced(client.clone(), "appns").get("pair4").await.expect("pair4");
        assert_eq!(pair.spec.options.get("mode").map(String::as_str), Some("DisasterRecovery"));
        let mappings = pair.spec.platform_options.and_then(|p| p.rancher).expect("rancher").project_mappings;
        assert_eq!(mappings.get(from).map(String::as_str), Some(to));
    }

    // And they are visible and deletable with storkctl on each side.
    let t = created_cell(&Api::namespaced(src_client.clone(), "otherns"), "pair3").await;
    assert_eq!(
        ok(src_kc.as_path(), &["get", "clusterpair", "-n", "otherns"]),
        format!("NAME    STORAGE-STATUS   SCHEDULER-STATUS   CREATED\npair3{}{t}\n", " ".repeat(39))
    );
    assert_eq!(
        ok(dest_kc.as_path(), &["delete", "clusterpair", "pair1", "-n", "appns"]),
        "ClusterPair pair1 deleted successfully\n"
    );
    assert!(Api::<ClusterPair>::namespaced(src_client, "appns").get_opt("pair1").await.expect("get").is_some());
}
