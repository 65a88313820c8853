//! MigrationSchedules on real clusters, with the controller's clock read from a file the test moves
//! forward: Migrations on time, every seventh full (none with a DisasterRecovery pair), retain, suspend
//! and resume, the static copy on the destination, a window missed while the controller was down firing
//! once, and malformed policies and schedules refused or reported while the controller keeps serving.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use jiff::{SignedDuration, Timestamp};
use kube::api::{Api, Patch, PatchParams};
use stork_api::{Migration, MigrationSchedule, MigrationScheduleStatus, MigrationStage, MigrationStatusType as M};
use testenv::TestCluster;

/// A clock file the controller reads "now" from.
struct FakeClock {
    path: PathBuf,
    now: Timestamp,
}

impl FakeClock {
    fn start(dir: &Path, at: Timestamp) -> Self {
        let clock = Self { path: dir.join("fake-clock"), now: at };
        clock.write();
        clock
    }

    fn write(&self) {
        std::fs::write(&self.path, self.now.to_string()).expect("write clock");
    }

    fn advance(&mut self, by: SignedDuration) {
        self.now = self.now.checked_add(by).expect("time");
        self.write();
    }

    fn set(&mut self, at: Timestamp) {
        self.now = at;
        self.write();
    }

    fn flag(&self) -> String {
        format!("--fake-clock-file={}", self.path.display())
    }
}

fn apply(cluster: &TestCluster, yaml: &str) {
    let (ok, out) = kubectl_stdin(cluster, &["apply", "-f", "-"], yaml);
    assert!(ok, "{out}");
}

async fn schedule_status(source: &TestCluster, namespace: &str, name: &str) -> MigrationScheduleStatus {
    let api: Api<MigrationSchedule> = Api::namespaced(source.client(), namespace);
    api.get(name).await.ok().and_then(|s| s.status).unwrap_or_default()
}

/// Waits until the schedule has created `count` Migrations and the newest is Final; returns it.
async fn wait_for_run(source: &TestCluster, namespace: &str, schedule: &str, count: u64, stork: &Stork) -> Migration {
    let deadline = Instant::now() + Duration::from_secs(60);
    let migrations: Api<Migration> = Api::namespaced(source.client(), namespace);
    loop {
        let status = schedule_status(source, namespace, schedule).await;
        let newest =
            status.items.values().flatten().max_by_key(|i| i.creation_timestamp.as_ref().map(|t| t.0)).cloned();
        if status.migrations_created == count
            && let Some(item) = newest
            && let Ok(Some(m)) = migrations.get_opt(&item.name).await
            && m.status.as_ref().is_some_and(|s| s.stage == MigrationStage::Final)
        {
            return m;
        }
        assert!(Instant::now() < deadline, "run {count} of {schedule} not done: {status:#?}\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn owned_migrations(source: &TestCluster, namespace: &str, schedule: &str) -> Vec<String> {
    let (ok, out) = kubectl(source, &["get", "migrations", "-n", namespace, "-o", "json"]);
    assert!(ok, "{out}");
    let list: serde_json::Value = serde_json::from_str(&out).expect("json");
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["metadata"]["ownerReferences"][0]["name"] == schedule)
        .filter_map(|m| m["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Now, to the second, so that names and times in the test are stable.
fn whole_second_now() -> Timestamp {
    Timestamp::from_second(Timestamp::now().as_second()).expect("now")
}

const POLICY: &str = r#"
apiVersion: stork.libopenstorage.org/v1alpha1
kind: NamespacedSchedulePolicy
metadata: {name: every-minute, namespace: shop}
policy:
  interval: {intervalMinutes: 1, retain: 3}
"#;

fn schedule_yaml(name: &str, pair: &str) -> String {
    format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: MigrationSchedule\nmetadata: {{name: {name}, namespace: shop, annotations: {{team: shop}}}}\n\
         spec:\n  schedulePolicyName: every-minute\n  autoSuspend: true\n  template:\n    spec: {{clusterPair: {pair}, namespaces: [shop]}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interval_schedule_runs_on_time_every_seventh_full_retains_and_suspends() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let mut clock = FakeClock::start(source.dir(), whole_second_now());
    let stork = Stork::start(&source, &[&clock.flag(), "--schedule-resync-interval=1s", "--schedule-time-zone=UTC"]);
    ready_pair(&source, &destination, "shop", &stork).await;
    // A second pair without a mode: the seed pair says DisasterRecovery, which makes every run incremental.
    let plain = seed_with_admin(&destination)
        .replace("namespace: migrationnamespace", "namespace: shop")
        .replace("name: remotecluster", "name: plain")
        .replace("   options:\n       mode: DisasterRecovery\n", "");
    assert!(kubectl_create(&source, &plain).0);
    let pairs: Api<stork_api::ClusterPair> = Api::namespaced(source.client(), "shop");
    wait_status(&pairs, "plain", Duration::from_secs(30), &stork, |s| {
        s.scheduler_status == stork_api::ClusterPairStatusType::Ready
    })
    .await;
    create_configmaps(&source, "shop", 5).await;
    apply(&source, POLICY);
    apply(&source, &schedule_yaml("nightly", "plain"));
    apply(&source, &schedule_yaml("dr", "remotecluster"));

    let started = clock.now;
    let first = wait_for_run(&source, "shop", "nightly", 1, &stork).await;
    let stamp = started.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y-%m-%d-%H%M%S").to_string();
    assert_eq!(first.metadata.name.as_deref(), Some(format!("nightly-interval-{stamp}").as_str()), "Stork's names");
    assert_eq!(first.metadata.annotations.as_ref().and_then(|a| a.get("team")).map(String::as_str), Some("shop"));
    assert_eq!(
        first
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("stork.libopenstorage.org/migration-schedule-name"))
            .map(String::as_str),
        Some("nightly")
    );
    wait_for_run(&source, "shop", "dr", 1, &stork).await;

    let mut kinds = vec![first.status.clone().expect("status")];
    let mut dr_kinds = Vec::new();
    for run in 2..=8 {
        // Not yet: an interval fires strictly after its minutes have passed.
        clock.advance(SignedDuration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(schedule_status(&source, "shop", "nightly").await.migrations_created, run - 1, "fired early");
        clock.advance(SignedDuration::from_secs(31));
        let m = wait_for_run(&source, "shop", "nightly", run, &stork).await;
        assert_eq!(m.status.as_ref().map(|s| s.status), Some(M::Successful), "{m:#?}");
        kinds.push(m.status.expect("status"));
        dr_kinds.push(wait_for_run(&source, "shop", "dr", run, &stork).await.status.expect("status"));
    }
    let types: Vec<&str> = kinds.iter().map(|s| s.migration_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "Incremental",
            "Incremental",
            "Incremental",
            "Incremental",
            "Incremental",
            "Incremental",
            "Full",
            "Incremental"
        ]
    );
    assert_eq!(kinds[6].migration_type_reason, "Full: 7th of schedule nightly");
    assert_eq!(kinds[7].migration_type_reason, "Incremental: 8th of schedule nightly");
    let counts = kinds[6].resource_counts.clone().expect("counts");
    assert_eq!(counts.updated, counts.total, "a full run rewrites everything: {counts:?}");
    assert!(
        dr_kinds.iter().all(|s| s.migration_type == "Incremental"
            && s.migration_type_reason == "Incremental: pair mode DisasterRecovery")
    );

    // retain 3: three Migrations left, the newest; the status says when protection was last good.
    let status = schedule_status(&source, "shop", "nightly").await;
    assert_eq!(owned_migrations(&source, "shop", "nightly").len(), 3, "{status:#?}");
    assert_eq!(status.items.values().flatten().count(), 3);
    assert_eq!(status.time_zone, "UTC");
    assert!(status.last_success_timestamp.is_some() && status.next_trigger_timestamp.is_some(), "{status:#?}");
    assert_eq!(status.consecutive_failures, 0);
    let (_, metrics) = stork.get("/metrics").expect("metrics");
    assert!(metrics.contains(r#"stork_migration_schedule_rpo_seconds{name="nightly",namespace="shop"}"#), "{metrics}");

    // The static copy on the destination: suspended, marked, the same template.
    let copy = kget(&destination, Some("shop"), "migrationschedule", "nightly").expect("static copy");
    assert_eq!(copy["metadata"]["annotations"]["stork.libopenstorage.org/static-copy"], "true");
    assert_eq!(copy["spec"]["suspend"], true);
    assert_eq!(copy["spec"]["template"]["spec"]["clusterPair"], "plain");

    // Suspended: nothing; resumed: the next window runs.
    let api: Api<MigrationSchedule> = Api::namespaced(source.client(), "shop");
    let suspend = |on: bool| serde_json::json!({"spec": {"suspend": on}});
    api.patch("nightly", &PatchParams::default(), &Patch::Merge(suspend(true))).await.expect("suspend");
    clock.advance(SignedDuration::from_secs(61));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(schedule_status(&source, "shop", "nightly").await.migrations_created, 8, "suspended");
    api.patch("nightly", &PatchParams::default(), &Patch::Merge(suspend(false))).await.expect("resume");
    wait_for_run(&source, "shop", "nightly", 9, &stork).await;

    // The destination reports the applications activated there: autoSuspend stops the schedule.
    let copies: Api<MigrationSchedule> = Api::namespaced(destination.client(), "shop");
    let activated = serde_json::json!({"status": {"applicationActivated": true}});
    copies.patch_status("nightly", &PatchParams::default(), &Patch::Merge(activated)).await.expect("activate");
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.get("nightly").await.expect("get").spec.suspend != Some(true) {
        assert!(Instant::now() < deadline, "not suspended:\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Deleting the schedule takes its Migrations along.
    assert!(kubectl(&source, &["delete", "migrationschedule", "dr", "-n", "shop"]).0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !owned_migrations(&source, "shop", "dr").is_empty() {
        assert!(Instant::now() < deadline, "Migrations of a deleted schedule remain");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_missed_while_the_controller_was_down_fires_once_on_restart() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    // The daily window is half an hour from now (the schedule is created now, before it).
    let start = whole_second_now();
    let window = Timestamp::from_second((start.as_second() / 60 + 30) * 60).expect("time");
    let time = window.to_zoned(jiff::tz::TimeZone::UTC).time();
    let (hour, suffix) = match time.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    let kitchen = format!("{hour}:{:02}{suffix}", time.minute());
    let mut clock = FakeClock::start(source.dir(), start);
    let flags = [clock.flag(), "--schedule-resync-interval=1s".to_string(), "--schedule-time-zone=UTC".to_string()];
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut stork = Stork::start(&source, &flags);
    ready_pair(&source, &destination, "shop", &stork).await;
    create_configmaps(&source, "shop", 3).await;
    apply(
        &source,
        &format!(
            "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: SchedulePolicy\nmetadata: {{name: daily-window}}\npolicy:\n  daily: {{time: \"{kitchen}\"}}\n"
        ),
    );
    apply(
        &source,
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: MigrationSchedule\nmetadata: {name: daily, namespace: shop}\nspec:\n  schedulePolicyName: daily-window\n  template:\n    spec: {clusterPair: remotecluster, namespaces: [shop]}\n",
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = schedule_status(&source, "shop", "daily").await;
    assert_eq!(status.migrations_created, 0, "before its window: {status:#?}");
    assert_eq!(status.next_trigger_timestamp.map(|t| t.0), Some(window));

    clock.set(window);
    wait_for_run(&source, "shop", "daily", 1, &stork).await;
    clock.advance(SignedDuration::from_mins(20));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(schedule_status(&source, "shop", "daily").await.migrations_created, 1, "not twice in one window");

    // Down across the next two windows, back at noon two days later: one run, late, and said so.
    stork.proc.stop(Duration::from_secs(5));
    let next_window = |days: i64| window.checked_add(SignedDuration::from_hours(24 * days)).expect("time");
    clock.set(next_window(2).checked_add(SignedDuration::from_hours(11)).expect("time"));
    let stork = Stork::start(&source, &flags);
    let m = wait_for_run(&source, "shop", "daily", 2, &stork).await;
    assert_eq!(m.status.as_ref().map(|s| s.status), Some(M::Successful));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = schedule_status(&source, "shop", "daily").await;
    assert_eq!(status.migrations_created, 2, "once, not once per missed window: {status:#?}");
    let item =
        status.items.values().flatten().find(|i| Some(i.name.as_str()) == m.metadata.name.as_deref()).expect("item");
    assert_eq!(item.scheduled_timestamp.as_ref().map(|t| t.0), Some(next_window(2)));
    assert!(status.message.contains("late by 11h"), "{}", status.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_policies_and_schedules_are_refused_or_reported_and_the_controller_keeps_serving() {
    let (source, destination) = TestCluster::start_pair().await.expect("clusters");
    let stork = Stork::start(&source, &["--schedule-resync-interval=1s"]);
    ready_pair(&source, &destination, "shop", &stork).await;
    let policy = |name: &str, body: &str| {
        format!(
            "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: SchedulePolicy\nmetadata: {{name: {name}}}\npolicy:\n{body}\n"
        )
    };
    let refused = [
        ("zero", "  interval: {intervalMinutes: 0}", "intervalMinutes"),
        ("negative", "  interval: {intervalMinutes: -15}", "intervalMinutes"),
        ("hour", "  daily: {time: \"13:15PM\"}", "time"),
        ("minute", "  daily: {time: \"12:75PM\"}", "time"),
        ("digits", "  daily: {time: \"1215\"}", "time"),
        ("words", "  daily: {time: noon}", "time"),
        ("twentyfour", "  daily: {time: \"23:00\"}", "time"),
        ("funday", "  weekly: {day: funday, time: \"1:00AM\"}", "day"),
        ("shouting", "  weekly: {day: SUNDAY, time: \"1:00AM\"}", "day"),
        ("weekly-time", "  weekly: {day: Sun, time: \"1:00 AM\"}", "time"),
        ("date-zero", "  monthly: {date: 0, time: \"1:00AM\"}", "date"),
        ("date-32", "  monthly: {date: 32, time: \"1:00AM\"}", "date"),
        ("full-day", "  daily: {time: \"1:00AM\", forceFullSnapshotDay: someday}", "forceFullSnapshotDay"),
        ("text-minutes", "  interval: {intervalMinutes: often}", "intervalMinutes"),
    ];
    for (name, body, field) in refused {
        let (ok, out) = kubectl_create(&source, &policy(name, body));
        assert!(!ok && out.contains(field), "{name} must be refused naming {field}: {out}");
    }
    let template = "  template:\n    spec: {clusterPair: remotecluster, namespaces: [shop]}";
    let schedule = |name: &str, spec: &str| {
        format!(
            "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: MigrationSchedule\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{spec}\n"
        )
    };
    for (name, spec, expected) in [
        ("no-template", "  schedulePolicyName: default-interval-policy".to_string(), "template"),
        ("unknown-field", format!("  schedulePolicyName: default-interval-policy\n{template}\n    bogus: 1"), "bogus"),
        (
            "bad-suspend",
            format!("  schedulePolicyName: default-interval-policy\n  suspend: maybe\n{template}"),
            "suspend",
        ),
    ] {
        let (ok, out) = kubectl_create(&source, &schedule(name, &spec));
        assert!(!ok && out.contains(expected), "{name}: {out}");
    }

    // What admission cannot tell is reported on the schedule, with Stork's message where it has one.
    for (name, body) in [
        ("empty", "  {}"),
        ("no-time", "  daily: {retain: 3}"),
        ("no-day", "  weekly: {time: \"1:00AM\"}"),
        ("no-date-time", "  monthly: {date: 3}"),
        ("no-minutes", "  interval: {retain: 3}"),
    ] {
        let (ok, out) = kubectl_create(&source, &policy(name, body));
        assert!(ok, "{name}: {out}");
    }
    let reported = [
        ("missing-policy", "nope", "schedule policy \"nope\" not found"),
        ("empty-policy", "empty", "sets none of interval, daily, weekly, monthly or continuous"),
        (
            "daily-no-time",
            "no-time",
            "Invalid time () in Daily policy: parsing time \"\" as \"3:04pm\": cannot parse \"\" as \"3\"",
        ),
        ("weekly-no-day", "no-day", "Invalid day of the week () in Weekly policy"),
        ("monthly-no-time", "no-date-time", "Invalid time () in Monthly policy"),
        ("interval-no-minutes", "no-minutes", "Invalid intervalMinutes (0) in Interval policy"),
    ];
    for (name, policy_name, _) in &reported {
        assert!(
            kubectl_create(&source, &schedule(name, &format!("  schedulePolicyName: {policy_name}\n{template}"))).0
        );
    }
    // A NamespacedSchedulePolicy of another namespace is not this schedule's.
    let _ = kubectl(&source, &["create", "namespace", "other"]);
    apply(
        &source,
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: NamespacedSchedulePolicy\nmetadata: {name: elsewhere, namespace: other}\npolicy:\n  interval: {intervalMinutes: 5}\n",
    );
    assert!(
        kubectl_create(&source, &schedule("other-namespace", &format!("  schedulePolicyName: elsewhere\n{template}")))
            .0
    );
    for (name, _, expected) in
        reported.iter().chain([&("other-namespace", "", "schedule policy \"elsewhere\" not found")])
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let status = schedule_status(&source, "shop", name).await;
            if status.message.contains(expected) {
                assert_eq!(status.migrations_created, 0, "{name}");
                break;
            }
            assert!(Instant::now() < deadline, "{name}: {status:#?}\n{}", stork.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Stork's default policies exist, and a valid schedule still runs at once.
    for default in [
        "default-migration-policy",
        "default-interval-policy",
        "default-daily-policy",
        "default-weekly-policy",
        "default-monthly-policy",
    ] {
        assert!(kget(&source, None, "schedulepolicy", default).is_some(), "{default}");
    }
    assert!(
        kubectl_create(
            &source,
            &schedule("fine", &format!("  schedulePolicyName: default-interval-policy\n{template}"))
        )
        .0
    );
    let m = wait_for_run(&source, "shop", "fine", 1, &stork).await;
    assert_eq!(m.status.map(|s| s.status), Some(M::Successful));
}
