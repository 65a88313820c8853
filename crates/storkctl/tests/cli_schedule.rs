//! `storkctl create|get|delete schedulepolicy` and `create|get|delete|suspend|resume migrationschedule(s)`
//! against a real kube-apiserver (testenv, with the Stork CRDs). No controller runs: no default policies
//! exist unless storkctl creates one, and statuses are written by the test through the status subresource,
//! so every table is known exactly.

use std::path::Path;

use jiff::Timestamp;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use stork_api::{
    ClusterPair, MigrationSchedule, ResourceTransformation, ResourceTransformationFields, SchedulePolicy,
    SchedulePolicyFields, SchedulePolicyItem,
};
use testenv::TestCluster;

mod common;

use common::{fails, minimal_pair, ok, rfc822_by_date, storkctl};

fn policy_names(policies: &[SchedulePolicy]) -> Vec<String> {
    policies.iter().filter_map(|p| p.metadata.name.clone()).collect()
}

async fn all_policies(client: &kube::Client) -> Vec<String> {
    let api: Api<SchedulePolicy> = Api::all(client.clone());
    policy_names(&api.list(&Default::default()).await.expect("list policies").items)
}

/// A SchedulePolicy as the API server stores it, untyped, to see exactly which fields storkctl wrote.
async fn raw_policy(client: &kube::Client, name: &str) -> Value {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ApiResource::erase::<SchedulePolicy>(&()));
    api.get(name).await.expect("get policy").data["policy"].clone()
}

/// `kubectl create -f -` of a SchedulePolicy with `policy` as its body: (exit ok, stderr).
fn kubectl_create_policy(cluster: &TestCluster, name: &str, policy: &str) -> (bool, String) {
    let manifest = format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: SchedulePolicy\nmetadata:\n  name: {name}\npolicy:\n{policy}"
    );
    let out = cluster.kubectl_with_stdin(&["create", "-f", "-"], &manifest).expect("run kubectl");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn schedule_policies_on_a_real_apiserver() {
    let cluster = TestCluster::start("storkctl-policy").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let kc = kc.as_path();
    let client = cluster.client();
    let policies: Api<SchedulePolicy> = Api::all(client.clone());

    assert_eq!(ok(kc, &["get", "schedulepolicy"]), "No resources found.\n");

    // §8.2 item 23 / G9: a policy with no member at all (only the API can make one).
    let empty = SchedulePolicy::new("testpolicy1", SchedulePolicyFields { policy: SchedulePolicyItem::default() });
    policies.create(&PostParams::default(), &empty).await.expect("empty policy");
    assert_eq!(
        ok(kc, &["get", "schedulepolicy", "testpolicy1"]),
        "NAME          INTERVAL-MINUTES   DAILY   WEEKLY   MONTHLY\n\
         testpolicy1   N/A                N/A     N/A      N/A\n"
    );

    // §8.2 item 24: what create writes, read back from the API server.
    assert_eq!(
        ok(
            kc,
            &[
                "create",
                "schedulepolicy",
                "test-policy",
                "--policy-type",
                "Daily",
                "--time",
                "12:30PM",
                "--retain",
                "2"
            ]
        ),
        "Schedule policy test-policy created successfully\n"
    );
    assert_eq!(
        raw_policy(&client, "test-policy").await,
        json!({"daily": {"time": "12:30PM", "retain": 2, "forceFullSnapshotDay": "monday"}})
    );
    ok(kc, &["create", "sp", "every-15", "-i", "15"]);
    assert_eq!(raw_policy(&client, "every-15").await, json!({"interval": {"intervalMinutes": 15, "retain": 10}}));
    ok(kc, &["create", "sp", "weekly", "-t", "weekly", "--day-of-week", "Sun", "--time", "12:15pm"]);
    assert_eq!(
        raw_policy(&client, "weekly").await,
        json!({"weekly": {"day": "sun", "time": "12:15pm", "retain": 7}}),
        "day names are stored lower-cased"
    );
    ok(
        kc,
        &["create", "sp", "monthly", "-t", "Monthly", "--date-of-month", "15", "--time", "12:15pm", "--retain", "3"],
    );
    ok(kc, &["create", "sp", "defaults", "-t", "monthly"]);
    assert_eq!(raw_policy(&client, "defaults").await, json!({"monthly": {"date": 1, "time": "12:00AM", "retain": 12}}));

    // A listing is sorted by name; each member shows its value.
    assert_eq!(
        ok(kc, &["get", "sp"]),
        "NAME          INTERVAL-MINUTES   DAILY     WEEKLY        MONTHLY\n\
         defaults      N/A                N/A       N/A           1@12:00AM\n\
         every-15      15                 N/A       N/A           N/A\n\
         monthly       N/A                N/A       N/A           15@12:15pm\n\
         test-policy   N/A                12:30PM   N/A           N/A\n\
         testpolicy1   N/A                N/A       N/A           N/A\n\
         weekly        N/A                N/A       sun@12:15pm   N/A\n"
    );
    // Wide adds when each policy was created, after Stork's columns.
    let wide = ok(kc, &["get", "sp", "-o", "wide", "every-15"]);
    let narrow = ok(kc, &["get", "sp", "every-15"]);
    for (wide, narrow) in wide.lines().zip(narrow.lines()) {
        assert!(wide.starts_with(narrow.trim_end()), "{wide:?} extends {narrow:?}");
    }
    assert!(wide.lines().next().is_some_and(|h| h.ends_with("   CREATED")), "{wide}");
    // Cluster-scoped: -n changes nothing.
    assert_eq!(ok(kc, &["get", "sp", "every-15", "-n", "elsewhere"]), ok(kc, &["get", "sp", "every-15"]));

    // Nothing is written when validation fails; duplicates are the API server's AlreadyExists.
    fails(
        kc,
        &["create", "sp", "bad", "--interval-minutes", "0"],
        "error: Invalid intervalMinutes (0) in Interval policy\n",
    );
    fails(
        kc,
        &["create", "sp", "every-15", "-i", "20"],
        "Error from server (AlreadyExists): schedulepolicies.stork.libopenstorage.org \"every-15\" already exists\n",
    );
    fails(
        kc,
        &["get", "sp", "nope"],
        "Error from server (NotFound): schedulepolicies.stork.libopenstorage.org \"nope\" not found\n",
    );
    assert!(!all_policies(&client).await.contains(&"bad".to_string()));

    // The CRD schema refuses malformed policies at admission, naming the field.
    let (created, stderr) = kubectl_create_policy(&cluster, "zero", "  interval:\n    intervalMinutes: 0\n");
    assert!(!created, "intervalMinutes 0 admitted");
    assert!(stderr.contains("policy.interval.intervalMinutes"), "{stderr}");
    let (created, stderr) = kubectl_create_policy(&cluster, "late", "  daily:\n    time: 25:00PM\n");
    assert!(!created, "25:00PM admitted");
    assert!(stderr.contains("policy.daily.time"), "{stderr}");
    let (created, stderr) = kubectl_create_policy(&cluster, "good", "  daily:\n    time: 11:15PM\n");
    assert!(created, "a valid policy is admitted: {stderr}");
    assert!(!all_policies(&client).await.iter().any(|p| p == "zero" || p == "late"));

    // -o json|yaml: the object itself for one name, else a List.
    let single: SchedulePolicy =
        serde_json::from_str(&ok(kc, &["get", "sp", "test-policy", "-o", "json"])).expect("a SchedulePolicy");
    assert_eq!(single.spec.policy.daily.map(|d| d.retain), Some(Some(2)));
    let list: Value = serde_saphyr::from_str(&ok(kc, &["get", "sp", "weekly", "monthly", "-o", "yaml"])).expect("yaml");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["kind"], "SchedulePolicy");
    assert_eq!(list["items"][1]["metadata"]["name"], "monthly");

    // Delete: each in turn; the first missing one stops the command.
    let r = storkctl(kc, &["delete", "sp", "defaults", "missing", "weekly"]);
    assert_eq!(r.stdout, "Schedule policy defaults deleted successfully\n");
    assert_eq!(
        r.stderr,
        "Error from server (NotFound): schedulepolicies.stork.libopenstorage.org \"missing\" not found\n"
    );
    assert_eq!(r.code, Some(1));
    assert!(policies.get_opt("weekly").await.expect("get").is_some());
    assert_eq!(ok(kc, &["delete", "schedulepolicy", "weekly"]), "Schedule policy weekly deleted successfully\n");
}

// ---------------------------------------------------------------------------------------------------------
// migration schedules

fn schedules(client: &kube::Client, ns: &str) -> Api<MigrationSchedule> {
    Api::namespaced(client.clone(), ns)
}

async fn raw_schedule(client: &kube::Client, ns: &str, name: &str) -> Value {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), ns, &ApiResource::erase::<MigrationSchedule>(&()));
    serde_json::to_value(api.get(name).await.expect("get schedule")).expect("json")
}

async fn create_pair(client: &kube::Client, ns: &str, name: &str, options: &[(&str, &str)]) {
    let mut pair = minimal_pair(name);
    pair.spec.options = options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Api::<ClusterPair>::namespaced(client.clone(), ns).create(&PostParams::default(), &pair).await.expect("pair");
}

async fn create_transformation(client: &kube::Client, ns: &str, name: &str, resource: &str, status: Option<&str>) {
    let api: Api<ResourceTransformation> = Api::namespaced(client.clone(), ns);
    let mut rt = ResourceTransformation::new(name, ResourceTransformationFields::default());
    if !resource.is_empty() {
        rt.spec.specs.transform_specs =
            vec![stork_api::TransformSpec { resource: resource.into(), ..Default::default() }];
    }
    api.create(&PostParams::default(), &rt).await.expect("transformation");
    if let Some(status) = status {
        let patch = json!({"status": {"status": status}});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("rt status");
    }
}

fn names_in(table: &str) -> Vec<&str> {
    table.lines().skip(1).filter_map(|l| l.split(' ').next()).collect()
}

/// `create migrationschedule NAME -n NS -c PAIR --namespaces NS extra...` as an argument list.
fn create_args<'a>(name: &'a str, ns: &'a str, pair: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["create", "migrationschedule", name, "-n", ns, "-c", pair, "--namespaces", ns];
    args.extend_from_slice(extra);
    args
}

fn fails_creating(kc: &Path, name: &str, ns: &str, pair: &str, extra: &[&str], message: &str) {
    fails(kc, &create_args(name, ns, pair, extra), &format!("error: {message}\n"));
}

#[tokio::test]
async fn migration_schedules_on_a_real_apiserver() {
    let cluster = TestCluster::start("storkctl-schedule").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let kc = kc.as_path();
    let client = cluster.client();
    for ns in ["test", "other", "adminns"] {
        testenv::ensure_namespace(&client, ns).await.expect("namespace");
    }
    create_pair(&client, "test", "clusterpair1", &[]).await;
    create_pair(&client, "test", "clusterpair2", &[]).await;
    create_pair(&client, "test", "storagepair", &[("mode", "DisasterRecovery")]).await;
    create_pair(&client, "default", "clusterpair1", &[]).await;
    create_pair(&client, "kube-system", "adminpair", &[]).await;
    create_pair(&client, "adminns", "adminpair", &[]).await;
    create_transformation(&client, "default", "test-rt", "", Some("Failed")).await;
    create_transformation(&client, "test", "rt-ok", "", Some("Ready")).await;
    create_transformation(&client, "test", "rt-bad", "Deployment", None).await;
    let test = schedules(&client, "test");

    assert_eq!(ok(kc, &["get", "migrationschedules", "-n", "test"]), "No resources found.\n");

    // §8.2 item 20, in Stork's order of checks; none of them leaves a SchedulePolicy behind.
    fails_creating(kc, "s", "test", "nopair", &[], "unable to find the cluster pair in the given namespace");
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["--admin-cluster-pair", "nopair"],
        "unable to find the admin cluster pair in the admin namespace",
    );
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["--admin-cluster-pair", "adminpair", "--exclude-volumes=false"],
        "--exclude-volumes can only be set to true if it is a sync-dr use case or when storage options are not provided in the cluster pair",
    );
    fails(
        kc,
        &["create", "migrationschedule", "s", "-n", "test", "-c", "clusterpair1", "--namespaces", ""],
        "error: no valid namespace found based on the provided --namespaces and --namespace-selectors\n",
    );
    fails(
        kc,
        &["create", "migrationschedule", "s", "-n", "test", "-c", "clusterpair1", "--namespace-selectors", "app=none"],
        "error: no valid namespace found based on the provided --namespaces and --namespace-selectors\n",
    );
    fails(
        kc,
        &["create", "migrationschedule", "s", "-n", "test", "-c", "clusterpair1", "--namespaces", "test,other"],
        "error: migration namespaces should only contain the current namespace\n",
    );
    fails_creating(
        kc,
        "test-rt-sched",
        "default",
        "clusterpair1",
        &["--transform-spec", "test-rt"],
        "transformation default/test-rt is not in ready state, state: Failed",
    );
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["--transform-spec", "missing-rt"],
        "unable to retrieve transformation test/missing-rt, err: resourcetransformations.stork.libopenstorage.org \"missing-rt\" not found",
    );
    let r = storkctl(kc, &create_args("s", "test", "clusterpair1", &["--transform-spec", "rt-bad"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.starts_with("error: transformation test/rt-bad cannot be applied: "), "{}", r.stderr);
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["--exclude-resource-types", "Deployment,bogus", "-i", "15"],
        "error getting k8s resource type for input resourcetype: bogus",
    );
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["-s", "testpolicy", "-i", "15"],
        "must provide only one of schedule-policy-name or interval values",
    );
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["-i", "-15"],
        "could not create a schedule policy with specified interval: Invalid intervalMinutes (-15) in Interval policy",
    );
    fails_creating(
        kc,
        "s",
        "test",
        "clusterpair1",
        &["-s", "migrate-every-5m"],
        "unable to get schedulepolicy migrate-every-5m: schedulepolicies.stork.libopenstorage.org \"migrate-every-5m\" not found",
    );
    // Refused by the API server itself (an annotation key with a space): Stork would have written the
    // interval policy first; the dry run refuses before anything is written.
    let r = storkctl(kc, &create_args("s", "test", "clusterpair1", &["-i", "15", "--annotations", "bad key=v"]));
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.starts_with("Error from server (Invalid): "), "{}", r.stderr);
    assert!(all_policies(&client).await.is_empty(), "failed creations leave no SchedulePolicy behind");
    assert!(test.list(&Default::default()).await.expect("list").items.is_empty());

    // §8.2 item 21: -i creates a policy named like the schedule; a pair without storage options forces
    // includeVolumes false; annotations land on the schedule.
    assert_eq!(
        ok(kc, &create_args("sched1", "test", "clusterpair1", &["-i", "15", "--annotations", "a=b,c=d"])),
        "MigrationSchedule sched1 created successfully\n"
    );
    assert_eq!(raw_policy(&client, "sched1").await, json!({"interval": {"intervalMinutes": 15, "retain": 10}}));
    let raw = raw_schedule(&client, "test", "sched1").await;
    assert_eq!(raw["metadata"]["annotations"], json!({"a": "b", "c": "d"}));
    assert_eq!(
        raw["spec"],
        json!({
            "schedulePolicyName": "sched1",
            "suspend": false,
            "autoSuspend": true,
            "template": {"spec": {
                "clusterPair": "clusterpair1",
                "namespaces": ["test"],
                "includeResources": true,
                "includeVolumes": false,
                "startApplications": false,
                "purgeDeletedResources": false,
                "skipServiceUpdate": false,
                "includeNetworkPolicyWithCIDR": false,
                "skipDeletedNamespaces": true,
                "ignoreOwnerReferencesCheck": false,
            }},
        })
    );
    // Again: the schedule exists, so nothing is written (the policy keeps its interval).
    fails(
        kc,
        &create_args("sched1", "test", "clusterpair1", &["-i", "45"]),
        "Error from server (AlreadyExists): migrationschedules.stork.libopenstorage.org \"sched1\" already exists\n",
    );
    assert_eq!(raw_policy(&client, "sched1").await["interval"]["intervalMinutes"], 15);

    // Neither -s nor -i: default-migration-policy is created (30 minutes); every other flag.
    ok(
        kc,
        &create_args(
            "sched2",
            "test",
            "clusterpair1",
            &[
                "--suspend",
                "--disable-auto-suspend",
                "--exclude-resources",
                "-a",
                "--exclude-resource-types",
                "deploy,PVC,secrets",
                "--include-jobs",
                "--transform-spec",
                "rt-ok",
                "--selectors",
                "app=web",
                "--exclude-selectors=tier=cache,skip=yes",
                "--purge-deleted-resources",
                "--skip-service-update",
                "--include-network-policy-with-cidr",
                "--ignore-owner-references-check",
                "--disable-skip-deleted-namespaces",
            ],
        ),
    );
    assert_eq!(raw_policy(&client, "default-migration-policy").await, json!({"interval": {"intervalMinutes": 30}}));
    let spec = test.get("sched2").await.expect("sched2").spec;
    assert_eq!(spec.schedule_policy_name, "default-migration-policy");
    assert_eq!((spec.suspend, spec.auto_suspend), (Some(true), false));
    let t = spec.template.spec;
    assert_eq!(t.exclude_resource_types, ["Deployment", "PersistentVolumeClaim", "Secret"], "stored as kinds");
    assert_eq!(t.include_optional_resource_types, ["Job"]);
    assert_eq!(t.transform_specs, ["rt-ok"]);
    assert_eq!(t.selectors.get("app").map(String::as_str), Some("web"));
    assert_eq!(t.exclude_selectors.len(), 2);
    assert_eq!((t.include_resources, t.start_applications), (Some(false), Some(true)));
    assert_eq!(
        (t.purge_deleted_resources, t.skip_service_update, t.include_network_policy_with_cidr),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!((t.ignore_owner_references_check, t.skip_deleted_namespaces), (Some(true), Some(false)));

    // -s names an existing policy; a pair with storage options migrates volumes unless excluded.
    ok(kc, &["create", "sp", "testpolicy", "-i", "60"]);
    ok(kc, &create_args("sched3", "test", "storagepair", &["-s", "testpolicy"]));
    ok(kc, &create_args("sched4", "test", "storagepair", &["-s", "testpolicy", "--exclude-volumes"]));
    assert_eq!(test.get("sched3").await.expect("sched3").spec.template.spec.include_volumes, Some(true));
    assert_eq!(test.get("sched4").await.expect("sched4").spec.template.spec.include_volumes, Some(false));

    // The admin namespace (kube-system unless Stork's ConfigMap says otherwise) may migrate others.
    ok(
        kc,
        &[
            "create",
            "migrationschedule",
            "admin1",
            "-n",
            "kube-system",
            "-c",
            "adminpair",
            "--namespaces",
            "test,other",
        ],
    );
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "stork-controller-config", "namespace": "kube-system"},
                        "data": {"admin-ns": "adminns"}});
    let configmaps: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    configmaps.create(&PostParams::default(), &serde_json::from_value(config).expect("cm")).await.expect("cm");
    fails(
        kc,
        &["create", "migrationschedule", "admin2", "-n", "kube-system", "-c", "adminpair", "--namespaces", "test"],
        "error: migration namespaces should only contain the current namespace\n",
    );
    ok(
        kc,
        &[
            "create",
            "migrationschedule",
            "admin2",
            "-n",
            "adminns",
            "-c",
            "adminpair",
            "--namespaces",
            "test",
            "--namespace-selectors",
            "kubernetes.io/metadata.name=other",
            "-s",
            "testpolicy",
            "--admin-cluster-pair",
            "adminpair",
        ],
    );
    let admin2 = schedules(&client, "adminns").get("admin2").await.expect("admin2").spec.template.spec;
    assert_eq!(admin2.admin_cluster_pair, "adminpair");
    assert_eq!(admin2.namespaces, ["test"], "selectors are stored, not expanded");
    assert_eq!(admin2.namespace_selectors.get("kubernetes.io/metadata.name").map(String::as_str), Some("other"));

    // §8.2 item 19 / G7: suspended, no items.
    ok(kc, &create_args("getmigrationscheduletest", "test", "clusterpair1", &["-s", "testpolicy", "--suspend"]));
    assert_eq!(
        ok(kc, &["get", "migrationschedules", "getmigrationscheduletest", "-n", "test"]),
        "NAME                       POLICYNAME   CLUSTERPAIR    SUSPEND   LAST-SUCCESS-TIME   LAST-SUCCESS-DURATION\n\
         getmigrationscheduletest   testpolicy   clusterpair1   true                          \n"
    );
    // G8: one Successful item finished five minutes after its creation (status via the subresource), and a
    // newer one that only partly succeeded.
    ok(kc, &create_args("getmigrationschedulestatustest", "test", "clusterpair1", &["-s", "testpolicy", "--suspend"]));
    let start = Timestamp::now().as_second() - 3600;
    let at = |offset: i64| Timestamp::from_second(start + offset).expect("time").to_string();
    let status = json!({"status": {"items": {
        "Interval": [{"name": "m1", "creationTimestamp": at(0), "finishTimestamp": at(300), "status": "Successful"}],
        "Daily": [{"name": "m2", "creationTimestamp": at(600), "finishTimestamp": at(700), "status": "PartialSuccess"}],
    }}});
    test.patch_status("getmigrationschedulestatustest", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status");
    let finished = rfc822_by_date(start + 300);
    assert_eq!(
        ok(kc, &["get", "migrationschedule", "getmigrationschedulestatustest", "-n", "test"]),
        format!(
            "NAME                             POLICYNAME   CLUSTERPAIR    SUSPEND   LAST-SUCCESS-TIME     LAST-SUCCESS-DURATION\n\
             getmigrationschedulestatustest   testpolicy   clusterpair1   true      {finished}   5m0s\n"
        )
    );

    // -o wide: RPO from status.lastSuccessTimestamp (an hour ago), the next trigger and the time zone.
    let status =
        json!({"status": {"lastSuccessTimestamp": at(300), "nextTriggerTimestamp": at(7200), "timeZone": "UTC"}});
    test.patch_status("getmigrationschedulestatustest", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .expect("status");
    let wide = ok(kc, &["get", "migrationschedule", "getmigrationschedulestatustest", "-n", "test", "-o", "wide"]);
    let (header, row) = wide.split_once('\n').expect("header and row");
    let rest = row
        .strip_prefix(&format!(
            "getmigrationschedulestatustest   testpolicy   clusterpair1   true      {finished}   {:<24}",
            "5m0s"
        ))
        .unwrap_or_else(|| panic!("wide row: {wide:?}"));
    let (rpo, _) = rest.split_once(' ').expect("RPO cell");
    assert!(rpo.starts_with("55m") && rpo.ends_with('s') && !rpo.contains('.'), "whole seconds: {rpo}");
    let width = rpo.len().max("RPO".len()) + 3;
    assert_eq!(rest, format!("{rpo:<width$}{}   UTC\n", rfc822_by_date(start + 7200)));
    assert!(
        header.ends_with(&format!("LAST-SUCCESS-DURATION   {:<width$}NEXT-TRIGGER          TIME-ZONE", "RPO")),
        "{wide}"
    );

    // Listings: by name, -c filters by pair, --all-namespaces adds the namespace.
    let listing = ok(kc, &["get", "migrationschedules", "-n", "test"]);
    assert_eq!(
        names_in(&listing),
        ["getmigrationschedulestatustest", "getmigrationscheduletest", "sched1", "sched2", "sched3", "sched4"]
    );
    assert_eq!(
        names_in(&ok(kc, &["get", "migrationschedules", "-n", "test", "-c", "storagepair"])),
        ["sched3", "sched4"]
    );
    assert_eq!(
        ok(kc, &["get", "migrationschedules", "-n", "test", "--clusterpair", "nopair"]),
        "No resources found.\n"
    );
    let all = ok(kc, &["get", "migrationschedules", "--all-namespaces", "-c", "adminpair"]);
    assert_eq!(
        all,
        "NAMESPACE     NAME     POLICYNAME                 CLUSTERPAIR   SUSPEND   LAST-SUCCESS-TIME   LAST-SUCCESS-DURATION\n\
         adminns       admin2   testpolicy                 adminpair     false                         \n\
         kube-system   admin1   default-migration-policy   adminpair     false                         \n"
    );
    fails(
        kc,
        &["get", "migrationschedules", "nope", "-n", "test"],
        "Error from server (NotFound): migrationschedules.stork.libopenstorage.org \"nope\" not found\n",
    );
    let single: MigrationSchedule =
        serde_json::from_str(&ok(kc, &["get", "migrationschedule", "sched1", "-n", "test", "-o", "json"]))
            .expect("a MigrationSchedule");
    assert_eq!(single.spec.schedule_policy_name, "sched1");
    let list: Value = serde_saphyr::from_str(&ok(
        kc,
        &["get", "migrationschedules", "-n", "test", "-o", "yaml", "-c", "storagepair"],
    ))
    .expect("yaml");
    assert_eq!((list["kind"].as_str(), list["items"].as_array().map(Vec::len)), (Some("List"), Some(2)));

    // §8.2 item 22: suspend and resume act on every name given (Stork: only the first).
    let suspended = |s: MigrationSchedule| s.spec.suspend;
    assert_eq!(
        ok(kc, &["suspend", "migrationschedules", "sched1", "sched3", "-n", "test"]),
        "MigrationSchedule sched1 suspended successfully\nMigrationSchedule sched3 suspended successfully\n"
    );
    for name in ["sched1", "sched3"] {
        assert_eq!(suspended(test.get(name).await.expect("get")), Some(true), "{name}");
    }
    assert_eq!(suspended(test.get("sched4").await.expect("get")), Some(false), "others untouched");
    assert_eq!(
        ok(kc, &["resume", "migrationschedule", "sched1", "sched3", "-n", "test"]),
        "MigrationSchedule sched1 resumed successfully\nMigrationSchedule sched3 resumed successfully\n"
    );
    for name in ["sched1", "sched3"] {
        assert_eq!(suspended(test.get(name).await.expect("get")), Some(false), "{name}");
    }
    assert_eq!(
        raw_schedule(&client, "test", "sched1").await["metadata"]["annotations"],
        json!({"a": "b", "c": "d"}),
        "a merge patch leaves the rest alone"
    );
    // A missing name changes nothing.
    fails(
        kc,
        &["suspend", "migrationschedules", "sched1", "missing", "-n", "test"],
        "Error from server (NotFound): migrationschedules.stork.libopenstorage.org \"missing\" not found\n",
    );
    assert_eq!(suspended(test.get("sched1").await.expect("get")), Some(false));
    // -c: every schedule of the pair, in name order.
    assert_eq!(
        ok(kc, &["suspend", "migrationschedules", "-c", "storagepair", "-n", "test"]),
        "MigrationSchedule sched3 suspended successfully\nMigrationSchedule sched4 suspended successfully\n"
    );
    assert_eq!(
        ok(kc, &["resume", "migrationschedules", "--clusterPair", "storagepair", "-n", "test"]),
        "MigrationSchedule sched3 resumed successfully\nMigrationSchedule sched4 resumed successfully\n"
    );
    assert_eq!(ok(kc, &["suspend", "migrationschedules", "-c", "nopair", "-n", "test"]), "No resources found.\n");

    // §8.2 item 25: a policy in use is not deleted; every schedule using it is named.
    fails(
        kc,
        &["delete", "schedulepolicy", "testpolicy"],
        "error: cannot delete the schedule policy testpolicy.\n\
         The resource is linked to -> Migration Schedules : adminns/admin2 , test/getmigrationschedulestatustest , \
         test/getmigrationscheduletest , test/sched3 , test/sched4\n",
    );
    fails(
        kc,
        &["delete", "sp", "sched1"],
        "error: cannot delete the schedule policy sched1.\nThe resource is linked to -> Migration Schedules : test/sched1\n",
    );
    assert_eq!(
        ok(kc, &["delete", "migrationschedule", "sched1", "-n", "test"]),
        "MigrationSchedule sched1 deleted successfully\n"
    );
    assert_eq!(ok(kc, &["delete", "sp", "sched1"]), "Schedule policy sched1 deleted successfully\n");
    fails(
        kc,
        &["delete", "migrationschedules", "sched1", "-n", "test"],
        "Error from server (NotFound): migrationschedules.stork.libopenstorage.org \"sched1\" not found\n",
    );
    assert_eq!(
        ok(kc, &["delete", "migrationschedules", "-c", "storagepair", "-n", "test"]),
        "MigrationSchedule sched3 deleted successfully\nMigrationSchedule sched4 deleted successfully\n"
    );
    assert_eq!(ok(kc, &["delete", "migrationschedules", "-c", "storagepair", "-n", "test"]), "No resources found.\n");
    assert_eq!(
        names_in(&ok(kc, &["get", "migrationschedules", "-n", "test"])),
        ["getmigrationschedulestatustest", "getmigrationscheduletest", "sched2"]
    );
}
