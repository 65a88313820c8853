//! `storkctl activate|deactivate migrations`, `perform failover|failback` and `get failover|failback`
//! against real kube-apiservers (testenv, Stork CRDs installed). No controller runs: what storkctl
//! changes is read back from the API server, and Action statuses are written by the test through the
//! status subresource, so every line and table is known exactly.

use std::collections::BTreeMap;
use std::fmt::Debug;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stork_api::annotations::{MIGRATED, MIGRATION_NAMESPACE, MIGRATION_REPLICAS, MIGRATION_SUSPEND, STATIC_COPY};
use stork_api::{Action, MigrationSchedule, MigrationScheduleSpec, MigrationSpec, MigrationTemplateSpec};
use testenv::TestCluster;

mod common;

use common::{TZ, fails, ok, rfc822_by_date, storkctl};

fn container_template(app: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
}

fn deployment(name: &str, ns: &str, replicas: i32, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": container_template(name)},
    })
}

fn stateful_set(name: &str, ns: &str, replicas: i32, annotations: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                 "template": container_template(name)},
    })
}

fn cron_job(name: &str, ns: &str, suspend: bool, annotations: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations},
        "spec": {"schedule": "@daily", "suspend": suspend, "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}},
    })
}

async fn create<K>(client: &kube::Client, object: Value) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + Debug
        + Serialize
        + DeserializeOwned,
{
    let ns = object["metadata"]["namespace"].as_str().expect("namespace").to_string();
    let typed: K = serde_json::from_value(object).expect("object");
    Api::<K>::namespaced(client.clone(), &ns).create(&PostParams::default(), &typed).await.expect("create")
}

async fn get<K>(client: &kube::Client, ns: &str, name: &str) -> K
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()> + Clone + Debug + DeserializeOwned,
{
    Api::<K>::namespaced(client.clone(), ns).get(name).await.expect("get")
}

async fn resource_version<K>(client: &kube::Client, ns: &str, name: &str) -> String
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()> + Clone + Debug + DeserializeOwned,
{
    get::<K>(client, ns, name).await.meta().resource_version.clone().expect("resourceVersion")
}

/// A schedule copying `namespaces` through `pair`, a static copy (as kept on a destination) or not.
async fn create_schedule(client: &kube::Client, ns: &str, name: &str, pair: &str, namespaces: &[&str], copy: bool) {
    let mut schedule = MigrationSchedule::new(
        name,
        MigrationScheduleSpec {
            template: MigrationTemplateSpec {
                spec: MigrationSpec {
                    cluster_pair: pair.into(),
                    namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
                    ..Default::default()
                },
            },
            schedule_policy_name: "default-migration-policy".into(),
            suspend: Some(copy),
            auto_suspend: false,
        },
    );
    schedule.metadata.namespace = Some(ns.into());
    if copy {
        schedule.metadata.annotations = Some(BTreeMap::from([(STATIC_COPY.to_string(), "true".to_string())]));
    }
    Api::<MigrationSchedule>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &schedule)
        .await
        .expect("schedule");
}

async fn activated(client: &kube::Client, ns: &str, name: &str) -> bool {
    let schedule: MigrationSchedule = get(client, ns, name).await;
    schedule.status.is_some_and(|s| s.application_activated)
}

async fn schedule_versions(client: &kube::Client) -> Vec<String> {
    let mut out = Vec::new();
    for (ns, name) in [("admin", "copy"), ("admin", "other"), ("shop", "local")] {
        out.push(resource_version::<MigrationSchedule>(client, ns, name).await);
    }
    out
}

#[tokio::test]
async fn activate_and_deactivate_only_what_was_migrated() {
    let cluster = TestCluster::start("storkctl-activate").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let kc = kc.as_path();
    let client = cluster.client();
    for ns in ["shop", "alpha", "admin"] {
        testenv::ensure_namespace(&client, ns).await.expect("namespace");
    }
    // A standby copy as a migration leaves it: idle, the source's replicas remembered, and the namespace
    // its Migration ran in (the admin namespace) recorded.
    let copy = json!({MIGRATED: "true", MIGRATION_REPLICAS: "3", MIGRATION_NAMESPACE: "admin"});
    create::<Deployment>(&client, deployment("web", "shop", 0, copy)).await;
    create::<CronJob>(
        &client,
        cron_job("nightly", "shop", true, json!({MIGRATED: "true", MIGRATION_SUSPEND: "false"})),
    )
    .await;
    // The user's own objects, which Stork would flip (every CronJob of the namespace) and stork-rs never.
    create::<CronJob>(&client, cron_job("mine", "shop", true, json!({}))).await;
    create::<Deployment>(&client, deployment("own", "shop", 1, json!({}))).await;
    create::<StatefulSet>(&client, stateful_set("db", "alpha", 0, json!({MIGRATED: "true", MIGRATION_REPLICAS: "2"})))
        .await;
    // Stork looks for schedules where the copies' Migration ran (admin): `copy` migrates shop, `other`
    // does not, and shop's own `local` is not where the copies point.
    create_schedule(&client, "admin", "copy", "remotecluster", &["shop"], true).await;
    create_schedule(&client, "admin", "other", "remotecluster", &["elsewhere"], false).await;
    create_schedule(&client, "shop", "local", "remotecluster", &["shop"], false).await;

    // A dry run says what would change, each change checked by the API server, and writes nothing.
    let before = (
        resource_version::<Deployment>(&client, "shop", "web").await,
        resource_version::<CronJob>(&client, "shop", "nightly").await,
        schedule_versions(&client).await,
    );
    assert_eq!(
        ok(kc, &["activate", "migrations", "-n", "shop", "--dry-run"]),
        "Would update replicas for deployment shop/web from 0 to 3\n\
         Would update suspend option for cronjob shop/nightly from true to false\n\
         Would set the ApplicationActivated status in the MigrationSchedule admin/copy to true\n"
    );
    let after = (
        resource_version::<Deployment>(&client, "shop", "web").await,
        resource_version::<CronJob>(&client, "shop", "nightly").await,
        schedule_versions(&client).await,
    );
    assert_eq!(before, after, "a dry run writes nothing");

    let mine_before = resource_version::<CronJob>(&client, "shop", "mine").await;
    let own_before = resource_version::<Deployment>(&client, "shop", "own").await;
    assert_eq!(
        ok(kc, &["activate", "migrations", "-n", "shop"]),
        "Updated replicas for deployment shop/web to 3\n\
         Updated suspend option for cronjob shop/nightly to false\n\
         Setting the ApplicationActivated status in the MigrationSchedule admin/copy to true\n"
    );
    let web: Deployment = get(&client, "shop", "web").await;
    assert_eq!(web.spec.and_then(|s| s.replicas), Some(3));
    let nightly: CronJob = get(&client, "shop", "nightly").await;
    assert_eq!(nightly.spec.and_then(|s| s.suspend), Some(false));
    assert_eq!(resource_version::<CronJob>(&client, "shop", "mine").await, mine_before, "the user's CronJob");
    assert_eq!(resource_version::<Deployment>(&client, "shop", "own").await, own_before, "the user's Deployment");
    assert!(activated(&client, "admin", "copy").await);
    assert!(!activated(&client, "admin", "other").await, "migrates another namespace");
    assert!(!activated(&client, "shop", "local").await, "not where the copies' Migration ran");
    // Nothing left to change: nothing printed but the schedule.
    assert_eq!(
        ok(kc, &["activate", "migration", "-n", "shop"]),
        "Setting the ApplicationActivated status in the MigrationSchedule admin/copy to true\n"
    );

    assert_eq!(
        ok(kc, &["deactivate", "migrations", "-n", "shop"]),
        "Updated replicas for deployment shop/web to 0\n\
         Updated suspend option for cronjob shop/nightly to true\n\
         Setting the ApplicationActivated status in the MigrationSchedule admin/copy to false\n"
    );
    let web: Deployment = get(&client, "shop", "web").await;
    assert_eq!(web.spec.and_then(|s| s.replicas), Some(0));
    assert_eq!(web.metadata.annotations.expect("annotations")[MIGRATION_REPLICAS], "3", "remembered for later");
    assert!(!activated(&client, "admin", "copy").await);
    let mine: CronJob = get(&client, "shop", "mine").await;
    assert_eq!(mine.spec.and_then(|s| s.suspend), Some(true));

    // -a: namespaces in name order, then every schedule migrating any of them (deactivate: static copies
    // only).
    assert_eq!(
        ok(kc, &["activate", "migrations", "-a"]),
        "Updated replicas for statefulset alpha/db to 2\n\
         Updated replicas for deployment shop/web to 3\n\
         Updated suspend option for cronjob shop/nightly to false\n\
         Setting the ApplicationActivated status in the MigrationSchedule admin/copy to true\n\
         Setting the ApplicationActivated status in the MigrationSchedule shop/local to true\n"
    );
    assert!(activated(&client, "shop", "local").await);
    assert_eq!(
        ok(kc, &["deactivate", "migrations", "--all-namespaces", "--dry-run"]),
        "Would update replicas for statefulset alpha/db from 2 to 0\n\
         Would update replicas for deployment shop/web from 3 to 0\n\
         Would update suspend option for cronjob shop/nightly from false to true\n\
         Would set the ApplicationActivated status in the MigrationSchedule admin/copy to false\n"
    );
    let db: StatefulSet = get(&client, "alpha", "db").await;
    assert_eq!(db.spec.and_then(|s| s.replicas), Some(2), "the dry run changed nothing");
}

// ---------------------------------------------------------------------------------------------------------
// perform failover|failback, get failover|failback

fn actions(client: &kube::Client, ns: &str) -> Api<Action> {
    Api::namespaced(client.clone(), ns)
}

async fn action_names(client: &kube::Client, ns: &str) -> Vec<String> {
    let list = actions(client, ns).list(&Default::default()).await.expect("list actions");
    list.items.into_iter().filter_map(|a| a.metadata.name).collect()
}

async fn raw_action(client: &kube::Client, ns: &str, name: &str) -> Value {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ApiResource::erase::<Action>(&()));
    serde_json::to_value(api.get(name).await.expect("get action")).expect("json")
}

/// Stork's two lines; returns the Action's name after checking it is `<type>-<schedule>-<local time>`
/// of about now.
fn started(stdout: &str, kind: &str, ns: &str, schedule: &str) -> String {
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("Started {kind} for MigrationSchedule {ns}/{schedule}").as_str()),
        "{stdout}"
    );
    let second = lines.next().expect("second line");
    let prefix = format!("To check {kind} status use the command : `storkctl get {kind} ");
    let name = second
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix(&format!(" -n {ns}`")))
        .unwrap_or_else(|| panic!("second line: {second}"))
        .to_string();
    assert_eq!(lines.next(), None, "{stdout}");
    let stamp = name.strip_prefix(&format!("{kind}-{schedule}-")).unwrap_or_else(|| panic!("name {name}"));
    let local = DateTime::strptime("%Y-%m-%d-%H%M%S", stamp).expect("YYYY-MM-DD-HHMMSS");
    let at = local.to_zoned(TimeZone::get(TZ).expect("tz")).expect("local time").timestamp();
    let age = Timestamp::now().as_second() - at.as_second();
    assert!((0..120).contains(&age), "{name} is {age}s from now: not in storkctl's local time");
    name
}

/// What a dry run must leave alone: the application on the source, its copy here, and the ConfigMap the
/// last mile would create here.
async fn versions(src: &kube::Client, dst: &kube::Client) -> (String, String, bool) {
    (
        resource_version::<Deployment>(src, "shop", "web").await,
        resource_version::<Deployment>(dst, "shop", "web").await,
        Api::<ConfigMap>::namespaced(dst.clone(), "shop").get_opt("settings").await.expect("get").is_none(),
    )
}

/// The table of `get failover|failback` for one Action, laid out as Go's tabwriter does.
fn table(cells: [&str; 5]) -> String {
    let header = ["NAME", "CREATED", "STAGE", "STATUS", "MORE INFO"];
    let widths: Vec<usize> = (0..4).map(|i| header[i].len().max(cells[i].len()) + 3).collect();
    let line = |row: [&str; 5]| {
        let mut text = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i < 4 { text.push_str(&format!("{cell:<width$}", width = widths[i])) } else { text.push_str(cell) }
        }
        text + "\n"
    };
    line(header) + &line(cells)
}

#[tokio::test]
async fn perform_failover_and_failback_and_read_their_status() {
    let (source, destination) =
        tokio::join!(TestCluster::start("storkctl-fo-source"), TestCluster::start("storkctl-fo-dest"));
    let (source, destination) = (source.expect("source"), destination.expect("destination"));
    let kc = destination.kubeconfig_path();
    let kc = kc.as_path();
    let dst = destination.client();
    let src = source.client();
    for ns in ["admin", "shop", "alpha"] {
        testenv::ensure_namespace(&dst, ns).await.expect("namespace");
    }
    testenv::ensure_namespace(&src, "shop").await.expect("namespace");

    // The application on the source, and its idle copy here.
    create::<Deployment>(&src, deployment("web", "shop", 3, json!({}))).await;
    create::<ConfigMap>(
        &src,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "1"}}),
    )
    .await;
    let copy = json!({MIGRATED: "true", MIGRATION_REPLICAS: "3", MIGRATION_NAMESPACE: "admin"});
    create::<Deployment>(&dst, deployment("web", "shop", 0, copy)).await;

    // The reverse pair on this cluster points to the source.
    let pair_yaml = ok(&source.kubeconfig_path(), &["generate", "clusterpair", "remotecluster", "-n", "admin"]);
    let applied = destination.kubectl_with_stdin(&["apply", "-f", "-"], &pair_yaml).expect("kubectl");
    assert!(applied.status.success(), "{}", String::from_utf8_lossy(&applied.stderr));
    create_schedule(&dst, "admin", "copy", "remotecluster", &["shop"], true).await;
    create_schedule(&dst, "admin", "plain", "remotecluster", &["shop"], false).await;
    create_schedule(&dst, "admin", "nopair", "clusterPair1", &["shop", "alpha"], true).await;

    // §8.2 item 27, in Stork's order.
    fails(
        kc,
        &["perform", "failover", "-n", "admin"],
        "error: reference MigrationSchedule name needs to be provided for failover\n",
    );
    fails(
        kc,
        &["perform", "failover", "-m", "invalid-migr-sched"],
        "error: unable to find the reference MigrationSchedule invalid-migr-sched in the default namespace\n",
    );
    fails(
        kc,
        &["perform", "failover", "-m", "plain", "-n", "admin"],
        "error: ensure that `storkctl perform failover` is run in the cluster you want to failover to\n",
    );
    fails(
        kc,
        &["perform", "failover", "-m", "nopair", "-n", "admin"],
        "error: unable to find the ClusterPair clusterPair1 in the admin namespace\n",
    );
    fails(
        kc,
        &[
            "perform",
            "failover",
            "-m",
            "copy",
            "-n",
            "admin",
            "--include-namespaces",
            "shop",
            "--exclude-namespaces=alpha",
        ],
        "error: can provide only one of --include-namespaces or --exclude-namespaces values at once\n",
    );
    fails(
        kc,
        &["perform", "failover", "-m", "copy", "-n", "admin", "--include-namespaces", "shop,ns3"],
        "error: provided namespaces [ns3] are not a subset of the namespaces being migrated by the given MigrationSchedule\n",
    );
    fails(
        kc,
        &["perform", "failover", "-m", "copy", "-n", "admin", "--exclude-namespaces", "shop"],
        "error: no namespace left to failover: the MigrationSchedule migrates none, or all are excluded\n",
    );
    fails(
        kc,
        &["perform", "failback", "-n", "admin"],
        "error: reference MigrationSchedule name needs to be provided for failback\n",
    );
    assert!(action_names(&dst, "admin").await.is_empty(), "no Action after a refusal");

    // The dry run reaches the source through the pair and changes nothing on either cluster.
    let before = versions(&src, &dst).await;
    let report = ok(kc, &["perform", "failover", "-m", "copy", "-n", "admin", "--dry-run"]);
    assert!(
        report.starts_with(
            "Dry run: failover of MigrationSchedule admin/copy to this cluster (namespaces: shop)\n\
         Source: reached through ClusterPair remotecluster\n\
         Blockers: none\n"
        ),
        "{report}"
    );
    assert!(report.contains("Scale down on the source:\n  deployment shop/web: replicas 3 -> 0\n"), "{report}");
    assert!(report.contains("\n  ConfigMap shop/settings: create\n"), "{report}");
    assert!(report.contains("Scale up on this cluster:\n  deployment shop/web: replicas 0 -> 3\n"), "{report}");
    assert!(report.ends_with("\nNothing was changed.\n"), "{report}");
    assert_eq!(versions(&src, &dst).await, before, "the dry run wrote nothing");
    // Without the source (as the user asked), the report says so and still shows this cluster's side.
    let report =
        ok(kc, &["perform", "failover", "-m", "nopair", "-n", "admin", "--skip-source-operations", "--dry-run"]);
    assert!(report.contains("Source: out of reach (not contacted: --skip-source-operations)\n"), "{report}");
    assert!(report.contains("Scale down on the source: skipped (the source is out of reach)\n"), "{report}");
    assert!(report.contains("Scale up on this cluster:\n  deployment shop/web: replicas 0 -> 3\n"), "{report}");
    // A failback goes the other way: from this cluster to the source.
    let report = ok(kc, &["perform", "failback", "-m", "plain", "-n", "admin", "--dry-run"]);
    assert!(report.starts_with("Dry run: failback of MigrationSchedule admin/plain (namespaces: shop)\n"), "{report}");
    assert!(report.ends_with("\nNothing was changed.\n"), "{report}");
    assert_eq!(versions(&src, &dst).await, before, "the failback dry run wrote nothing");
    assert!(action_names(&dst, "admin").await.is_empty(), "a dry run creates no Action");

    // §8.2 item 28: the preflight passes (warnings on stderr), then the Action and Stork's two lines.
    let run = storkctl(kc, &["perform", "failover", "-m", "copy", "-n", "admin"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.lines().all(|l| l.starts_with("warning: ")), "{}", run.stderr);
    let name = started(&run.stdout, "failover", "admin", "copy");
    let action = raw_action(&dst, "admin", &name).await;
    assert_eq!(action["spec"]["actionType"], "failover");
    assert_eq!(
        action["spec"]["actionParameter"],
        json!({"failoverParameter": {"failoverNamespaces": ["shop"], "migrationScheduleReference": "copy",
                                     "skipSourceOperations": false}}),
        "Stork's parameters; force only when asked for"
    );
    // Skipping the source needs no pair; forced, without a preflight.
    let out = ok(
        kc,
        &[
            "perform",
            "failover",
            "-m",
            "nopair",
            "-n",
            "admin",
            "--skip-source-operations",
            "--force",
            "--exclude-namespaces",
            "alpha",
        ],
    );
    let forced = started(&out, "failover", "admin", "nopair");
    assert_eq!(
        raw_action(&dst, "admin", &forced).await["spec"]["actionParameter"]["failoverParameter"],
        json!({"failoverNamespaces": ["shop"], "migrationScheduleReference": "nopair", "skipSourceOperations": true,
               "force": true})
    );
    let out = ok(kc, &["perform", "failback", "-m", "plain", "-n", "admin", "--force"]);
    let back = started(&out, "failback", "admin", "plain");
    assert_eq!(
        raw_action(&dst, "admin", &back).await["spec"]["actionParameter"],
        json!({"failbackParameter": {"failbackNamespaces": ["shop"], "migrationScheduleReference": "plain", "force": true}})
    );

    // §8.2 item 29 on real objects: a fresh Action, then statuses the test writes.
    let created = |name: &str| {
        let api = actions(&dst, "admin");
        let name = name.to_string();
        async move {
            let a = api.get(&name).await.expect("action");
            rfc822_by_date(a.metadata.creation_timestamp.expect("created").0.as_second())
        }
    };
    let when = created(&name).await;
    assert_eq!(ok(kc, &["get", "failover", &name, "-n", "admin"]), table([&name, &when, "Validations", "", ""]));
    let patch_status = |status: Value| {
        let api = actions(&dst, "admin");
        let name = name.clone();
        async move {
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&json!({"status": status})))
                .await
                .expect("status");
        }
    };
    patch_status(json!({"stage": "Final", "status": "Successful", "summary": {"failoverSummary": [
        {"namespace": "ns1", "status": "Successful", "reason": "ok"},
        {"namespace": "ns2", "status": "Successful", "reason": "ok"}]}}))
    .await;
    assert_eq!(
        ok(kc, &["get", "failover", &name, "-n", "admin"]),
        table([&name, &when, "Completed", "Successful", "Scaled up Apps in : 2/2 namespaces"])
    );
    patch_status(
        json!({"stage": "ScaleUpSource", "status": "Successful", "reason": "R", "summary": {"failoverSummary": [
        {"namespace": "ns1", "status": "RollbackSuccessful", "reason": "ok"},
        {"namespace": "ns2", "status": "RollbackSuccessful", "reason": "ok"}]},
        "stages": [{"stage": "", "status": "Successful"}, {"stage": "ScaleUpSource", "status": "Successful"}]}),
    )
    .await;
    assert_eq!(
        ok(kc, &["get", "failover", &name, "-n", "admin"]),
        table([
            &name,
            &when,
            "Rolling Back Scale Down (on source)",
            "Successful",
            "Rolled back Apps in : 2/2 namespaces ; R"
        ])
    );
    let wide = ok(kc, &["get", "failover", &name, "-n", "admin", "-o", "wide"]);
    assert!(wide.lines().next().is_some_and(|l| l.ends_with("   STAGES")), "{wide}");
    assert!(wide.ends_with("   Validations=Successful,ScaleUpSource=Successful\n"), "{wide}");
    // Both failovers, by name; the failback is not one of them.
    let listed = ok(kc, &["get", "failover", "-n", "admin"]);
    let names: Vec<&str> = listed.lines().skip(1).filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(names, [name.as_str(), forced.as_str()]);
    let listed = ok(kc, &["get", "failback", "-n", "admin"]);
    assert!(listed.lines().nth(1).is_some_and(|l| l.starts_with(&back) && l.contains("   Validations   ")), "{listed}");
    assert_eq!(ok(kc, &["get", "failback", &name, "-n", "admin"]), "No resources found.\n", "a failover by name");
    assert_eq!(ok(kc, &["get", "failover", "-n", "shop", "-o", "yaml"]), "No resources found.\n");
    let json_out: Action =
        serde_json::from_str(&ok(kc, &["get", "failover", &name, "-n", "admin", "-o", "json"])).expect("json");
    assert_eq!(json_out.metadata.name.as_deref(), Some(name.as_str()));
    fails(
        kc,
        &["get", "failover", "nope", "-n", "admin"],
        "Error from server (NotFound): actions.stork.libopenstorage.org \"nope\" not found\n",
    );
}
