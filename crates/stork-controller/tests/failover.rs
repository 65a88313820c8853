//! Failover and failback on real clusters, one controller on each as users run them: the source's runs
//! the schedule (and the last-mile Migration a failover creates there), the destination's runs the
//! Actions. A failover with the source up, the failback after the destination changed a replica count,
//! a failover with the source's API server stopped, and a stage forced to fail at each step rolling both
//! clusters back to where they were.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use jiff::{SignedDuration, Timestamp};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use stork_api::{Action, ActionStage as S, ActionStatus, ActionStatusType as A, MigrationSchedule};
use stork_kube::Cluster;
use stork_migrate::core::activate::Activation;
use testenv::TestCluster;

const APP: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres:16}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue}
"#;

/// A CronJob of the destination's own, suspended: no switch may touch it.
const USERS_OWN: &str = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: mine, namespace: shop}
spec:
  schedule: "0 4 * * *"
  suspend: true
  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}
"#;

const POLICY: &str = r#"
apiVersion: stork.libopenstorage.org/v1alpha1
kind: NamespacedSchedulePolicy
metadata: {name: every-minute, namespace: shop}
policy:
  interval: {intervalMinutes: 1}
"#;

fn schedule_yaml(name: &str) -> String {
    format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: MigrationSchedule\nmetadata: {{name: {name}, namespace: shop}}\n\
         spec:\n  schedulePolicyName: every-minute\n  autoSuspend: true\n  template:\n    spec: {{clusterPair: remotecluster, namespaces: [shop]}}\n"
    )
}

fn apply(cluster: &TestCluster, yaml: &str) {
    let (ok, out) = kubectl_stdin(cluster, &["apply", "-f", "-"], yaml);
    assert!(ok, "{out}");
}

/// The clock file the source's controller reads "now" from, so a test can make its schedule due.
struct Clock(PathBuf);

impl Clock {
    fn start(dir: &Path) -> Self {
        let clock = Self(dir.join("fake-clock"));
        clock.set(Timestamp::now());
        clock
    }

    fn set(&self, at: Timestamp) {
        let whole = Timestamp::from_second(at.as_second()).expect("time");
        std::fs::write(&self.0, whole.to_string()).expect("write clock");
    }

    fn flag(&self) -> String {
        format!("--fake-clock-file={}", self.0.display())
    }
}

/// Two clusters with a controller each, paired both ways in `shop`, the application on the source and
/// its schedule `shop-dr` having copied it once (so the destination holds the static copy).
struct Site {
    source: TestCluster,
    destination: TestCluster,
    clock: Clock,
    src_stork: Stork,
    dst_stork: Stork,
}

impl Site {
    async fn start(destination_flags: &[&str]) -> Self {
        Self::start_with(destination_flags, POLICY).await
    }

    async fn start_with(destination_flags: &[&str], policy: &str) -> Self {
        let (source, destination) = TestCluster::start_pair().await.expect("clusters");
        let clock = Clock::start(source.dir());
        let src_stork =
            Stork::start(&source, &[&clock.flag(), "--schedule-resync-interval=1s", "--schedule-time-zone=UTC"]);
        let mut flags = vec!["--schedule-resync-interval=1s", "--schedule-time-zone=UTC"];
        flags.extend(destination_flags);
        let dst_stork = Stork::start(&destination, &flags);
        let site = Self { source, destination, clock, src_stork, dst_stork };
        ready_pair(&site.source, &site.destination, "shop", &site.src_stork).await;
        ready_pair(&site.destination, &site.source, "shop", &site.dst_stork).await;
        apply(&site.source, APP);
        apply(&site.destination, USERS_OWN);
        apply(&site.source, policy);
        apply(&site.source, &schedule_yaml("shop-dr"));
        site.wait_runs(&site.source, "shop-dr", 1).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        while kget(&site.destination, Some("shop"), "migrationschedule", "shop-dr").is_none() {
            assert!(Instant::now() < deadline, "no static copy\n{}", site.src_stork.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        site
    }

    fn log(&self) -> String {
        format!("source controller:\n{}\ndestination controller:\n{}", self.src_stork.log(), self.dst_stork.log())
    }

    /// Waits until `schedule` on `cluster` has created `count` Migrations, the newest one Successful.
    async fn wait_runs(&self, cluster: &TestCluster, schedule: &str, count: u64) {
        let api: Api<MigrationSchedule> = Api::namespaced(cluster.client(), "shop");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = api.get(schedule).await.ok().and_then(|s| s.status).unwrap_or_default();
            let newest = status.items.values().flatten().max_by_key(|i| i.creation_timestamp.as_ref().map(|t| t.0));
            if status.migrations_created >= count
                && newest.is_some_and(|i| i.status == stork_api::MigrationStatusType::Successful)
            {
                return;
            }
            assert!(Instant::now() < deadline, "{schedule}: run {count} not successful: {status:#?}\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Creates an Action on the destination and waits until it is Final.
    async fn act(&self, name: &str, kind: &str, parameter: Value) -> (Action, Duration) {
        let key = if kind == "failover" { "failoverParameter" } else { "failbackParameter" };
        let action = json!({
            "apiVersion": "stork.libopenstorage.org/v1alpha1", "kind": "Action",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"actionType": kind, "actionParameter": {key: parameter}},
        });
        let started = Instant::now();
        let (ok, out) = kubectl_create(&self.destination, &action.to_string());
        assert!(ok, "{out}");
        let api: Api<Action> = Api::namespaced(self.destination.client(), "shop");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let action = api.get(name).await.expect("get action");
            if action.status.as_ref().is_some_and(|s| s.stage == S::Final) {
                return (action, started.elapsed());
            }
            assert!(Instant::now() < deadline, "Action {name} not Final: {:#?}\n{}", action.status, self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn status(action: &Action) -> ActionStatus {
    action.status.clone().unwrap_or_default()
}

/// `(stage, status)` of each stage record, skipped ones marked.
fn stages(status: &ActionStatus) -> Vec<(S, A, bool)> {
    status.stages.iter().map(|r| (r.stage, r.status, r.skipped)).collect()
}

/// What a switch changes and a rollback must restore, per cluster: workloads' replicas, CronJobs'
/// suspension, and the schedules' suspension and activation marks.
fn state(cluster: &TestCluster) -> BTreeMap<String, String> {
    snapshot(cluster, "shop", "deployments,statefulsets,cronjobs,migrationschedules", |o| match o["kind"].as_str() {
        Some("CronJob") => format!("suspend={}", o["spec"]["suspend"].as_bool().unwrap_or(false)),
        Some("MigrationSchedule") => format!(
            "suspend={} activated={} by={}",
            o["spec"]["suspend"].as_bool().unwrap_or(false),
            o["status"]["applicationActivated"],
            o["metadata"]["annotations"]["stork.libopenstorage.org/suspended-by-failover"]
        ),
        _ => format!("replicas={}", o["spec"]["replicas"]),
    })
}

fn replicas(cluster: &TestCluster, kind: &str, name: &str) -> i64 {
    kget(cluster, Some("shop"), kind, name).expect(name)["spec"]["replicas"].as_i64().expect("replicas")
}

fn suspended(cluster: &TestCluster, kind: &str, name: &str) -> bool {
    kget(cluster, Some("shop"), kind, name).expect(name)["spec"]["suspend"] == true
}

/// `(kind, name)` → `(generation, annotations)`: a dry run must change neither.
fn specs(cluster: &TestCluster) -> BTreeMap<String, String> {
    snapshot(cluster, "shop", "deployments,statefulsets,cronjobs,configmaps", |o| {
        format!("{} {} {}", o["metadata"]["generation"], o["metadata"]["annotations"], o["data"])
    })
}

/// `kind ns/name field from -> to` lines of a listing.
fn listing<'a>(changes: impl IntoIterator<Item = (&'a stork_migrate::ObjectId, &'a Activation)>) -> Vec<String> {
    changes
        .into_iter()
        .map(|(id, a)| {
            format!("{} {}/{} {} {} -> {}", id.key.kind.to_lowercase(), id.namespace, id.name, a.field, a.from, a.to)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_and_failback_with_the_source_up_then_a_failover_with_the_source_stopped() {
    let mut site = Site::start(&[]).await;
    let (source, destination) = (&site.source, &site.destination);
    // Written after the last copy: only the last mile brings it over.
    assert!(
        kubectl(source, &["patch", "configmap", "settings", "-n", "shop", "-p", r#"{"data":{"color":"green"}}"#]).0
    );

    // The preflight and dry run, through the engine the controller uses: it lists what the failover
    // will do and changes nothing on either cluster.
    let before = (specs(source), specs(destination));
    let src = Cluster::new(source.client(), "source", Duration::from_secs(5));
    let dst = Cluster::new(destination.client(), "destination", Duration::from_secs(5));
    let copy: MigrationSchedule = Api::namespaced(destination.client(), "shop").get("shop-dr").await.expect("copy");
    let original: MigrationSchedule = Api::namespaced(source.client(), "shop").get("shop-dr").await.expect("schedule");
    let namespaces = BTreeSet::from(["shop".to_string()]);
    let mile =
        stork_migrate::io::preflight::LastMile { template: &copy.spec.template.spec, namespace: "shop", admin: false };
    let plan =
        stork_migrate::io::preflight::switch(Ok(&src), &dst, mile, Some(&original), &namespaces, Timestamp::now())
            .await
            .expect("preflight");
    assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    let down = listing(plan.scale_down.iter().map(|(id, a)| (id, a)));
    assert_eq!(
        down,
        [
            "statefulset shop/db replicas 2 -> 0",
            "deployment shop/web replicas 3 -> 0",
            "cronjob shop/nightly suspend false -> true"
        ]
    );
    let up = listing(plan.scale_up.iter().map(|c| (&c.id, &c.activation)));
    assert_eq!(
        up,
        [
            "statefulset shop/db replicas 0 -> 2",
            "deployment shop/web replicas 0 -> 3",
            "cronjob shop/nightly suspend true -> false"
        ]
    );
    assert!(
        plan.scale_up.iter().all(|c| c.result.is_ok()),
        "the destination accepts the scale-up: {:?}",
        plan.scale_up
    );
    let last_mile = plan.last_mile.as_ref().expect("last mile planned");
    let updated: Vec<String> = last_mile
        .entries
        .iter()
        .filter(|e| e.result == stork_migrate::EntryResult::Updated)
        .map(|e| e.id.to_string())
        .collect();
    assert!(updated.iter().any(|id| id.contains("settings")), "the changed ConfigMap is in the last mile: {updated:?}");
    assert_eq!((specs(source), specs(destination)), before, "the dry run changed something");

    // Failover with the source up.
    let (failover, took) = site.act("failover-1", "failover", json!({"migrationScheduleReference": "shop-dr"})).await;
    let fo = status(&failover);
    assert_eq!(fo.status, A::Successful, "{fo:#?}\n{}", site.log());
    assert_eq!(
        stages(&fo),
        [
            (S::Initial, A::Successful, false),
            (S::ScaleDownSource, A::Successful, false),
            (S::WaitAfterScaleDown, A::Successful, false),
            (S::LastMileMigration, A::Successful, false),
            (S::ScaleUpDestination, A::Successful, false)
        ]
    );
    assert!(fo.stages.iter().all(|r| r.start_timestamp.is_some() && r.finish_timestamp.is_some()), "{fo:#?}");
    assert!(fo.finish_timestamp.is_some() && fo.preflight.is_some());
    let summary = fo.summary.clone().expect("summary").failover_summary;
    assert_eq!(summary.len(), 1);
    assert_eq!((summary[0].namespace.as_str(), summary[0].status), ("shop", A::Successful));
    assert_eq!(summary[0].reason, "scaling up apps in namespace shop successful");
    eprintln!("failover with the source up took {took:?}");

    // Item 30: the source idled and its schedule suspended, the destination at the source's replicas.
    assert_eq!((replicas(source, "deployment", "web"), replicas(source, "statefulset", "db")), (0, 0));
    assert!(suspended(source, "cronjob", "nightly"));
    assert!(suspended(source, "migrationschedule", "shop-dr"));
    assert_eq!((replicas(destination, "deployment", "web"), replicas(destination, "statefulset", "db")), (3, 2));
    assert!(!suspended(destination, "cronjob", "nightly"));
    assert!(suspended(destination, "cronjob", "mine"), "the destination's own CronJob is not ours to touch");
    let settings = kget(destination, Some("shop"), "configmap", "settings").expect("settings");
    assert_eq!(settings["data"]["color"], "green", "the last mile copied what changed");
    let uid = failover.metadata.uid.clone().expect("uid");
    let last_mile = format!("shop-dr-lastmile-failover-{}", &uid[..7]);
    let lm = kget(source, Some("shop"), "migration", &last_mile).expect("last mile Migration on the source");
    assert_eq!(lm["status"]["status"], "Successful");
    assert_eq!(lm["spec"]["startApplications"], false);
    assert_eq!(lm["metadata"]["annotations"]["stork.libopenstorage.org/lastmile-migration-schedule-name"], "shop-dr");
    let copy = kget(destination, Some("shop"), "migrationschedule", "shop-dr").expect("copy");
    assert_eq!(copy["status"]["applicationActivated"], true);
    // Every change the dry run listed was made.
    assert_eq!(
        up.iter().map(|l| l.rsplit(' ').next().unwrap_or_default().to_string()).collect::<Vec<_>>(),
        ["2", "3", "false"]
    );

    // Failback after the destination scaled web to 5: the source gets 5, its schedule runs again.
    assert!(kubectl(destination, &["scale", "deployment", "web", "-n", "shop", "--replicas=5"]).0);
    apply(destination, POLICY);
    apply(destination, &schedule_yaml("shop-back"));
    site.wait_runs(destination, "shop-back", 1).await;
    let (failback, took) = site.act("failback-1", "failback", json!({"migrationScheduleReference": "shop-back"})).await;
    let fb = status(&failback);
    assert_eq!(fb.status, A::Successful, "{fb:#?}\n{}", site.log());
    assert_eq!(
        stages(&fb).iter().map(|(s, ..)| *s).collect::<Vec<_>>(),
        [S::Initial, S::ScaleDownDestination, S::WaitAfterScaleDown, S::LastMileMigration, S::ScaleUpSource]
    );
    eprintln!("failback took {took:?}");
    assert_eq!((replicas(source, "deployment", "web"), replicas(source, "statefulset", "db")), (5, 2));
    assert!(!suspended(source, "cronjob", "nightly"));
    assert_eq!((replicas(destination, "deployment", "web"), replicas(destination, "statefulset", "db")), (0, 0));
    assert!(suspended(destination, "cronjob", "nightly"));
    assert!(suspended(destination, "migrationschedule", "shop-back"), "the way back is paused again");
    let schedule = kget(source, Some("shop"), "migrationschedule", "shop-dr").expect("schedule");
    assert_eq!(schedule["spec"]["suspend"], false, "resumed");
    assert!(schedule["metadata"]["annotations"]["stork.libopenstorage.org/suspended-by-failover"].is_null());
    let copy = kget(destination, Some("shop"), "migrationschedule", "shop-dr").expect("copy");
    assert_eq!(copy["status"]["applicationActivated"], false, "the destination no longer runs it");
    let runs = original.status.as_ref().map(|s| s.migrations_created).unwrap_or_default();
    site.clock.set(Timestamp::now().checked_add(SignedDuration::from_mins(2)).expect("time"));
    site.wait_runs(source, "shop-dr", runs + 1).await;
    let after_resume = replicas(destination, "deployment", "web");
    assert_eq!(after_resume, 0, "the copy stays idle");
    let copy = kget(destination, Some("shop"), "deployment", "web").expect("web");
    assert_eq!(copy["metadata"]["annotations"]["stork.libopenstorage.org/migrationReplicas"], "5");

    // A disaster: the source's API server is gone. The failover gives up on it within seconds, says so,
    // and brings the destination up with what it has.
    site.source.stop_apiserver();
    let (disaster, took) = site.act("failover-2", "failover", json!({"migrationScheduleReference": "shop-dr"})).await;
    let (source, destination) = (&site.source, &site.destination);
    let _ = source;
    let ds = status(&disaster);
    assert_eq!(ds.status, A::Successful, "{ds:#?}\n{}", site.log());
    assert_eq!(
        stages(&ds),
        [
            (S::Initial, A::Successful, false),
            (S::ScaleDownSource, A::Initial, true),
            (S::WaitAfterScaleDown, A::Initial, true),
            (S::LastMileMigration, A::Initial, true),
            (S::ScaleUpDestination, A::Successful, false)
        ]
    );
    assert!(ds.stages[1].reason.contains("out of reach"), "{:?}", ds.stages[1].reason);
    assert!(ds.reason.starts_with("source steps skipped: the source is out of reach"), "{}", ds.reason);
    assert!(took < Duration::from_secs(30), "the source was given up on in {took:?}");
    assert_eq!((replicas(destination, "deployment", "web"), replicas(destination, "statefulset", "db")), (5, 2));
    assert!(
        !suspended(destination, "migrationschedule", "shop-back"),
        "the way back runs again, as after any failover"
    );
}

/// A ValidatingAdmissionPolicy refusing updates of `resource` in `shop` unless `expression` holds, in
/// force once a dry-run update of `probe` is refused.
/// A continuous policy under the name the schedule uses.
const CONTINUOUS_POLICY: &str = r#"
apiVersion: stork.libopenstorage.org/v1alpha1
kind: NamespacedSchedulePolicy
metadata: {name: every-minute, namespace: shop}
policy:
  continuous: {fullSyncIntervalMinutes: 60}
"#;

fn continuous_state(cluster: &TestCluster) -> String {
    kget(cluster, Some("shop"), "migrationschedule", "shop-dr")
        .and_then(|s| s["status"]["continuous"]["state"].as_str().map(String::from))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_of_a_continuous_schedule_drains_its_sync_instead_of_a_last_mile_migration() {
    let site = Site::start_with(&[], CONTINUOUS_POLICY).await;
    let (source, destination) = (&site.source, &site.destination);
    let deadline = Instant::now() + Duration::from_secs(60);
    while continuous_state(source) != "Watching" {
        assert!(Instant::now() < deadline, "the sync is not watching\n{}", site.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Changed just before the failover: the sync carries it, not a Migration.
    assert!(kubectl(source, &["patch", "configmap", "settings", "-n", "shop", "-p", r#"{"data":{"color":"red"}}"#]).0);
    let (failover, _took) = site.act("failover-c", "failover", json!({"migrationScheduleReference": "shop-dr"})).await;
    let fo = status(&failover);
    assert_eq!(fo.status, A::Successful, "{fo:#?}\n{}", site.log());
    let last_mile = fo.stages.iter().find(|r| r.stage == S::LastMileMigration).expect("last mile stage");
    assert!(last_mile.reason.contains("continuous sync of MigrationSchedule shop/shop-dr drained"), "{last_mile:?}");
    let uid = failover.metadata.uid.clone().unwrap_or_default();
    let migration = format!("shop-dr-lastmile-failover-{}", &uid[..7]);
    assert!(kget(source, Some("shop"), "migration", &migration).is_none(), "a last-mile Migration ran");
    let settings = kget(destination, Some("shop"), "configmap", "settings").expect("settings");
    assert_eq!(settings["data"]["color"], "red", "the change made just before the failover");
    assert_eq!(replicas(destination, "deployment", "web"), 3, "up on the destination");
    assert_eq!(replicas(source, "deployment", "web"), 0, "idle on the source");
    assert_eq!(continuous_state(source), "Drained");
    let schedule = kget(source, Some("shop"), "migrationschedule", "shop-dr").expect("schedule");
    assert_eq!(schedule["spec"]["suspend"], true, "the sync stays stopped after the failover");
    // Stopped for good: activating the copies is not drift it corrects.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(replicas(destination, "deployment", "web"), 3, "the destination stays up");
}

async fn refuse(cluster: &TestCluster, name: &str, resource: &str, expression: &str, probe: (&str, Value)) {
    let (group, plural) = resource.split_once('/').expect("group/resource");
    let policy = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [{"apiGroups": [group], "apiVersions": ["*"], "operations": ["UPDATE"], "resources": [plural]}]},
            "validations": [{"expression": expression, "message": format!("refused by test policy {name}")}],
        },
    });
    let binding = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}},
    });
    apply(cluster, &format!("{policy}\n---\n{binding}"));
    until_probe(cluster, name, probe, false).await;
}

/// Removes the policy, and waits until the API server no longer enforces it.
async fn allow(cluster: &TestCluster, name: &str, probe: (&str, Value)) {
    for kind in ["validatingadmissionpolicybinding", "validatingadmissionpolicy"] {
        assert!(kubectl(cluster, &["delete", kind, name]).0);
    }
    until_probe(cluster, name, probe, true).await;
}

/// Waits until a server-side dry run of the probe patch is admitted (`admitted`) or refused.
async fn until_probe(cluster: &TestCluster, name: &str, (kind, patch): (&str, Value), admitted: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (ok, _) = kubectl(
            cluster,
            &["patch", kind, "-n", "shop", "--dry-run=server", "--type=merge", "-p", &patch.to_string()],
        );
        if ok == admitted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "policy {name} still {}",
            if admitted { "in force" } else { "not in force" }
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_forced_to_fail_rolls_back_both_clusters() {
    let mut site = Site::start(&["--action-stage-timeout=4s"]).await;
    let baseline = (state(&site.source), state(&site.destination));
    assert_eq!(baseline.0["Deployment/web"], "replicas=3");
    assert_eq!(baseline.1["Deployment/web"], "replicas=0");
    let as_before = |site: &Site, what: &str| {
        assert_eq!(
            (state(&site.source), state(&site.destination)),
            baseline,
            "{what}: not rolled back\n{}",
            site.log()
        );
    };
    let failover = json!({"migrationScheduleReference": "shop-dr"});

    // Validation: a schedule that does not exist, and one that is not a static copy.
    let (action, _) = site.act("no-schedule", "failover", json!({"migrationScheduleReference": "nope"})).await;
    assert_eq!(
        (status(&action).status, status(&action).reason.as_str()),
        (A::Failed, "MigrationSchedule shop/nope not found on this cluster")
    );
    apply(&site.destination, POLICY);
    // Suspended and pointing nowhere, so that it neither runs nor keeps a copy on the source.
    let not_a_copy = schedule_yaml("not-a-copy")
        .replace("autoSuspend: true", "suspend: true")
        .replace("clusterPair: remotecluster", "clusterPair: nowhere");
    apply(&site.destination, &not_a_copy);
    let (action, _) = site.act("not-a-copy", "failover", json!({"migrationScheduleReference": "not-a-copy"})).await;
    assert_eq!(status(&action).status, A::Failed);
    assert!(status(&action).reason.contains("is not generated by Stork"), "{}", status(&action).reason);
    assert!(kubectl(&site.destination, &["delete", "migrationschedule", "not-a-copy", "-n", "shop"]).0);
    as_before(&site, "validation");

    // The destination refuses to scale up: the preflight sees it and the failover does not start ...
    let probe = ("deployment/web", json!({"spec": {"replicas": 3}}));
    refuse(&site.destination, "no-scale-up", "apps/deployments", "object.spec.replicas == 0", probe.clone()).await;
    let (action, _) = site.act("preflight-blocks", "failover", failover.clone()).await;
    let st = status(&action);
    assert_eq!(stages(&st), [(S::Initial, A::Failed, false)], "{st:#?}");
    assert!(
        st.reason.starts_with("the preflight found 1 blocker(s): the destination cluster would refuse to bring up"),
        "{}",
        st.reason
    );
    assert_eq!(st.preflight.as_ref().map(|p| p.blockers.len()), Some(1));
    as_before(&site, "preflight");

    // ... unless forced: then the scale-up fails, and the rollback idles the destination again and
    // brings the source back.
    let mut forced = failover.clone();
    forced["force"] = json!(true);
    let (action, _) = site.act("scale-up-fails", "failover", forced).await;
    let st = status(&action);
    assert_eq!(st.status, A::RollbackSuccessful, "{st:#?}\n{}", site.log());
    assert_eq!(
        stages(&st).iter().map(|(s, a, _)| (*s, *a)).collect::<Vec<_>>(),
        [
            (S::Initial, A::Successful),
            (S::ScaleDownSource, A::Successful),
            (S::WaitAfterScaleDown, A::Successful),
            (S::LastMileMigration, A::Successful),
            (S::ScaleUpDestination, A::Failed),
            (S::ScaleDownDestination, A::RollbackSuccessful),
            (S::ScaleUpSource, A::RollbackSuccessful)
        ]
    );
    assert!(st.reason.contains("refused by test policy no-scale-up"), "{}", st.reason);
    let summary = st.summary.clone().expect("summary").failover_summary;
    assert_eq!(summary[0].status, A::RollbackSuccessful);
    allow(&site.destination, "no-scale-up", probe).await;
    as_before(&site, "scale up");

    // The source refuses to be idled.
    let probe = ("deployment/web", json!({"spec": {"replicas": 0}}));
    refuse(&site.source, "no-idle", "apps/deployments", "object.spec.replicas > 0", probe.clone()).await;
    let (action, _) = site.act("scale-down-fails", "failover", failover.clone()).await;
    let st = status(&action);
    assert_eq!(st.status, A::RollbackSuccessful, "{st:#?}\n{}", site.log());
    assert_eq!(
        stages(&st).iter().map(|(s, a, _)| (*s, *a)).collect::<Vec<_>>(),
        [(S::Initial, A::Successful), (S::ScaleDownSource, A::Failed), (S::ScaleUpSource, A::RollbackSuccessful)]
    );
    assert!(st.reason.contains("deployment shop/web") && st.reason.contains("no-idle"), "{}", st.reason);
    allow(&site.source, "no-idle", probe).await;
    as_before(&site, "scale down");

    // The source's workloads never stop (their pods are counted by hand, as no controller runs there).
    // Only a workload whose pods mount claims is waited for: the database.
    let pods = json!({"status": {"replicas": 2}});
    let stateful: Api<k8s_openapi::api::apps::v1::StatefulSet> = Api::namespaced(site.source.client(), "shop");
    stateful.patch_status("db", &PatchParams::default(), &Patch::Merge(&pods)).await.expect("status");
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(site.source.client(), "shop");
    deployments
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&json!({"status": {"replicas": 3}})))
        .await
        .expect("status");
    let (action, _) = site.act("wait-fails", "failover", failover.clone()).await;
    let st = status(&action);
    assert_eq!(st.status, A::RollbackSuccessful, "{st:#?}\n{}", site.log());
    assert_eq!(
        stages(&st).iter().map(|(s, a, _)| (*s, *a)).collect::<Vec<_>>(),
        [
            (S::Initial, A::Successful),
            (S::ScaleDownSource, A::Successful),
            (S::WaitAfterScaleDown, A::Failed),
            (S::ScaleUpSource, A::RollbackSuccessful)
        ]
    );
    assert!(st.reason.contains("statefulset shop/db") && st.reason.contains("gave up after 4s"), "{}", st.reason);
    assert!(!st.reason.contains("deployment shop/web"), "web mounts no claims: {}", st.reason);
    let none = json!({"status": {"replicas": 0}});
    stateful.patch_status("db", &PatchParams::default(), &Patch::Merge(&none)).await.expect("status");
    deployments.patch_status("web", &PatchParams::default(), &Patch::Merge(&none)).await.expect("status");
    as_before(&site, "wait");

    // The source's controller is down: the last-mile Migration never runs; the rollback deletes it so
    // that it cannot run later.
    site.src_stork.proc.stop(Duration::from_secs(5));
    let (action, _) = site.act("last-mile-fails", "failover", failover.clone()).await;
    let st = status(&action);
    assert_eq!(st.status, A::RollbackSuccessful, "{st:#?}\n{}", site.log());
    assert_eq!(
        stages(&st).iter().map(|(s, a, _)| (*s, *a)).collect::<Vec<_>>(),
        [
            (S::Initial, A::Successful),
            (S::ScaleDownSource, A::Successful),
            (S::WaitAfterScaleDown, A::Successful),
            (S::LastMileMigration, A::Failed),
            (S::ScaleUpSource, A::RollbackSuccessful)
        ]
    );
    assert!(st.reason.contains("waiting for the last mile migration"), "{}", st.reason);
    assert!(
        st.stages.last().is_some_and(|r| r.reason.contains("deleted the unfinished last mile migration")),
        "{st:#?}"
    );
    as_before(&site, "last mile");
    let _ = &mut site;
}
