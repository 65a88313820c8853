//! Stork users' existing YAML must work unchanged: examples shaped like Stork's documentation and
//! storkctl output are admitted by `kubectl create` with strict field validation, and read back by our
//! types; malformed ones are rejected naming the field.

use kube::api::Api;
use testenv::TestCluster;

const EXAMPLES: &str = r#"
apiVersion: stork.libopenstorage.org/v1alpha1
kind: Migration
metadata:
  name: mysqlmigration
  namespace: mysql
spec:
  # This should be the name of the cluster pair created above
  clusterPair: remotecluster
  # If set to false this will migrate only the Portworx volumes. No PVCs, apps, etc will be migrated
  includeResources: true
  # If set to false, the deployments and stateful set replicas will be set to 0 on the destination.
  # There will be an annotation with "stork.openstorage.org/migrationReplicas" on the destinationto store the replica count from the source.
  startApplications: true
  # List of namespaces to migrate
  namespaces:
  - mysql
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: Migration
metadata:
  name: everything
  namespace: mysql
spec:
  clusterPair: remotecluster
  adminClusterPair: admin-pair
  includeResources: true
  includeVolumes: false
  startApplications: false
  purgeDeletedResources: true
  skipServiceUpdate: false
  includeNetworkPolicyWithCIDR: false
  skipDeletedNamespaces: true
  ignoreOwnerReferencesCheck: false
  namespaces: [mysql]
  namespaceSelectors:
    team: db
  selectors:
    app: mysql
  excludeSelectors:
    tier: cache
  includeOptionalResourceTypes: [Job]
  excludeResourceTypes: [ConfigMap]
  transformSpecs: [px-transform]
  preExecRule: pre
  postExecRule: post
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: SchedulePolicy
metadata:
  name: testpolicy
policy:
  interval:
    intervalMinutes: 1
  daily:
    time: "10:14PM"
  weekly:
    day: "Thursday"
    time: "10:13PM"
  monthly:
    date: 14
    time: "8:05PM"
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: NamespacedSchedulePolicy
metadata:
  name: nspolicy
  namespace: mysql
policy:
  daily:
    time: "12:30PM"
    retain: 2
    forceFullSnapshotDay: monday
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: MigrationSchedule
metadata:
  name: mysqlmigrationschedule
  namespace: mysql
spec:
  template:
    spec:
      clusterPair: remotecluster
      includeResources: true
      startApplications: false
      namespaces:
      - mysql
  schedulePolicyName: testpolicy
  suspend: false
  autoSuspend: true
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: ResourceTransformation
metadata:
  name: px-transform
  namespace: mysql
specs:
  transformSpecs:
  - paths:
    - path: "spec.type"
      value: "LoadBalancer"
      type: "string"
      operation: "modify"
    - path: "metadata.labels"
      value: "app:mysql,tier:db"
      type: "keypair"
      operation: "add"
    resource: "/v1/Service"
    selectors:
      app: mysql
---
apiVersion: stork.libopenstorage.org/v1alpha1
kind: Action
metadata:
  name: failover-mysqlmigrationschedule-2024-01-01-000000
  namespace: mysql
spec:
  actionType: failover
  actionParameter:
    failoverParameter:
      failoverNamespaces: [mysql]
      migrationScheduleReference: mysqlmigrationschedule
      skipSourceOperations: false
"#;

fn kubectl_create(cluster: &TestCluster, yaml: &str) -> (bool, String) {
    let out = cluster.kubectl_with_stdin(&["create", "--validate=strict", "-f", "-"], yaml).expect("kubectl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn stork_examples_are_admitted_and_read_back_and_bad_ones_are_rejected() {
    let cluster = TestCluster::start("manifests").await.expect("cluster");
    testenv::ensure_namespace(&cluster.client(), "mysql").await.expect("namespace");
    let (ok, out) = kubectl_create(&cluster, EXAMPLES);
    assert!(ok, "Stork examples must be admitted: {out}");
    assert_eq!(out.matches(" created").count(), 7, "{out}");

    let client = cluster.client();
    let migration =
        Api::<stork_api::Migration>::namespaced(client.clone(), "mysql").get("everything").await.expect("read");
    assert_eq!(migration.spec.include_volumes, Some(false));
    assert_eq!(migration.spec.exclude_resource_types, vec!["ConfigMap"]);
    let policy = Api::<stork_api::SchedulePolicy>::all(client.clone()).get("testpolicy").await.expect("read");
    assert_eq!(policy.spec.policy.monthly.map(|m| (m.date, m.time)), Some((14, "8:05PM".to_string())));
    let schedule = Api::<stork_api::MigrationSchedule>::namespaced(client.clone(), "mysql")
        .get("mysqlmigrationschedule")
        .await
        .expect("read");
    assert!(schedule.spec.auto_suspend && schedule.spec.template.spec.namespaces == vec!["mysql"]);
    let rt = Api::<stork_api::ResourceTransformation>::namespaced(client.clone(), "mysql")
        .get("px-transform")
        .await
        .expect("read");
    assert_eq!(rt.spec.specs.transform_specs[0].paths[1].value_type, stork_api::TransformValueType::Keypair);
    let action = Api::<stork_api::Action>::namespaced(client, "mysql")
        .get("failover-mysqlmigrationschedule-2024-01-01-000000")
        .await
        .expect("read");
    assert_eq!(action.spec.action_type, stork_api::ActionType::Failover);

    let bad = [
        (
            "kind: Migration\nmetadata: {name: b1, namespace: mysql}\nspec: {clusterPair: p, includeResources: \"yes\"}",
            "spec.includeResources",
        ),
        (
            "kind: Migration\nmetadata: {name: b2, namespace: mysql}\nspec: {clusterPair: p, namespaces: mysql}",
            "spec.namespaces",
        ),
        (
            "kind: SchedulePolicy\nmetadata: {name: b3}\npolicy: {interval: {intervalMinutes: \"ten\"}}",
            "policy.interval.intervalMinutes",
        ),
        ("kind: Action\nmetadata: {name: b4, namespace: mysql}\nspec: {actionType: explode}", "spec.actionType"),
        (
            "kind: MigrationSchedule\nmetadata: {name: b5, namespace: mysql}\nspec: {schedulePolicyName: p}",
            "spec.template: Required value",
        ),
        (
            "kind: Migration\nmetadata: {name: b6, namespace: mysql}\nspec: {clusterPair: p, unknownField: 1}",
            "unknownField",
        ),
    ];
    for (body, field) in bad {
        let yaml = format!("apiVersion: stork.libopenstorage.org/v1alpha1\n{body}\n");
        let (ok, out) = kubectl_create(&cluster, &yaml);
        assert!(!ok, "must be rejected: {yaml}\n{out}");
        assert!(out.contains(field), "the error must name {field}: {out}");
    }
}
