//! `storkctl create|get|delete migration(s)` against a real kube-apiserver (testenv). No controller runs:
//! as in Stork's own tests, statuses are written by the test (merge patches of the status subresource),
//! so every table and every `--wait` line is known exactly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::ApiResource;
use serde_json::{Value, json};
use stork_api::{ClusterPair, Migration};
use testenv::TestCluster;

mod common;

use common::{fails, minimal_pair, ok, rfc822_by_date, storkctl};

const NO_SUMMARY: &str = "Available with stork v2.9.0+";

fn migrations(client: &kube::Client, ns: &str) -> Api<Migration> {
    Api::namespaced(client.clone(), ns)
}

async fn creation_time(api: &Api<Migration>, name: &str) -> Timestamp {
    api.get(name).await.expect("get migration").metadata.creation_timestamp.expect("apiserver sets it").0
}

async fn patch_status(api: &Api<Migration>, name: &str, status: Value) {
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&json!({ "status": status })))
        .await
        .expect("patch status");
}

/// Final/Successful, finished `seconds` after creation, with an empty volume list (§8.2 item 14).
async fn finish(api: &Api<Migration>, name: &str, seconds: i64) -> String {
    let created = creation_time(api, name).await;
    let finished = Timestamp::from_second(created.as_second() + seconds).expect("time");
    patch_status(
        api,
        name,
        json!({"stage": "Final", "status": "Successful", "finishTimestamp": finished.to_string(), "volumes": []}),
    )
    .await;
    rfc822_by_date(created.as_second())
}

/// Go's `Duration.String()` of a short elapsed time, parsed back to seconds (`850.5ms`, `12.3s`, `1m2.5s`).
fn short_go_duration_secs(text: &str) -> Option<f64> {
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.parse::<f64>().ok().map(|v| v / 1000.0);
    }
    let text = text.strip_suffix('s')?;
    match text.split_once('m') {
        Some((m, s)) => Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?),
        None => text.parse().ok(),
    }
}

#[tokio::test]
async fn create_get_and_delete_migrations_on_a_real_apiserver() {
    let cluster = TestCluster::start("storkctl-migration").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let kc = kc.as_path();
    let client = cluster.client();
    for ns in ["test", "ns1", "del"] {
        testenv::ensure_namespace(&client, ns).await.expect("namespace");
    }
    let test = migrations(&client, "test");

    assert_eq!(ok(kc, &["get", "migrations", "-n", "test"]), "No resources found.\n");

    // §8.2 item 10: creation with the CLI's defaults, read back from the API server.
    assert_eq!(
        ok(
            kc,
            &[
                "create",
                "migrations",
                "-n",
                "test",
                "-c",
                "clusterpair1",
                "--namespaces",
                "namespace1",
                "getmigrationtest"
            ]
        ),
        "Migration getmigrationtest created successfully\n"
    );
    let created = test.get("getmigrationtest").await.expect("created");
    assert_eq!(created.spec.cluster_pair, "clusterpair1");
    assert_eq!(created.spec.namespaces, ["namespace1"]);
    assert_eq!(created.spec.include_resources, Some(true));
    assert_eq!(created.spec.include_volumes, Some(true));
    assert_eq!(created.spec.start_applications, Some(true), "the CLI default is true, unlike the CRD's");
    assert_eq!((created.spec.pre_exec_rule.as_str(), created.spec.post_exec_rule.as_str()), ("", ""));
    assert!(created.status.is_none(), "storkctl writes no status");
    let raw = Api::<DynamicObject>::namespaced_with(client.clone(), "test", &ApiResource::erase::<Migration>(&()))
        .get("getmigrationtest")
        .await
        .expect("raw");
    assert_eq!(raw.data["spec"]["startApplications"], json!(true), "stored explicitly, not left to the default");

    // Every flag, in cobra's forms.
    ok(
        kc,
        &[
            "create",
            "migration",
            "flags",
            "-n",
            "test",
            "--clusterPair=clusterpair2",
            "--namespaces",
            "a,b",
            "--namespaces=c",
            "-r=false",
            "--includeVolumes=false",
            "-a=false",
            "--preExecRule",
            "pre",
            "--postExecRule=post",
        ],
    );
    let flags = test.get("flags").await.expect("flags").spec;
    assert_eq!(flags.cluster_pair, "clusterpair2");
    assert_eq!(flags.namespaces, ["a", "b", "c"]);
    assert_eq!(
        (flags.include_resources, flags.include_volumes, flags.start_applications),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!((flags.pre_exec_rule.as_str(), flags.post_exec_rule.as_str()), ("pre", "post"));

    // Duplicate: the API server's AlreadyExists, verbatim, and the object untouched.
    fails(
        kc,
        &["create", "migrations", "-n", "test", "-c", "other", "--namespaces", "namespace1", "getmigrationtest"],
        "Error from server (AlreadyExists): migrations.stork.libopenstorage.org \"getmigrationtest\" already exists\n",
    );
    assert_eq!(test.get("getmigrationtest").await.expect("get").spec.cluster_pair, "clusterpair1");

    // §8.2 item 12 / G4 on a real server: the creation time is set, so CREATED is filled and ELAPSED
    // is the (short) time since creation; the rest is G4.
    let t1 = rfc822_by_date(creation_time(&test, "getmigrationtest").await.as_second());
    let out = ok(kc, &["get", "migrations", "getmigrationtest", "-n", "test"]);
    let row = out.lines().nth(1).expect("a row");
    let elapsed = row
        .strip_prefix(&format!("getmigrationtest   clusterpair1                    0/0       0/0         {t1}   "))
        .and_then(|rest| rest.strip_suffix(NO_SUMMARY))
        .unwrap_or_else(|| panic!("G4 row: {out:?}"));
    let elapsed_cell = elapsed.trim_end();
    let secs = short_go_duration_secs(elapsed_cell).unwrap_or_else(|| panic!("Go duration: {elapsed_cell:?}"));
    assert!((0.0..120.0).contains(&secs), "{elapsed_cell}");
    let width = elapsed_cell.len().max("ELAPSED".len()) + 3;
    assert_eq!(elapsed.len(), width, "ELAPSED padded to its widest cell + 3");
    assert_eq!(
        out.lines().next(),
        Some(
            format!(
                "NAME               CLUSTERPAIR    STAGE   STATUS   VOLUMES   RESOURCES   CREATED               {:<width$}TOTAL BYTES TRANSFERRED",
                "ELAPSED"
            )
            .as_str()
        )
    );

    // §8.2 item 14 / G5.
    let t1 = finish(&test, "getmigrationtest", 300).await;
    let g5 = format!(
        "NAME               CLUSTERPAIR    STAGE   STATUS       VOLUMES   RESOURCES   CREATED               ELAPSED   TOTAL BYTES TRANSFERRED\n\
         getmigrationtest   clusterpair1   Final   Successful   0/0       0/0         {t1}   5m0s      {NO_SUMMARY}\n"
    );
    assert_eq!(ok(kc, &["get", "migrations", "getmigrationtest", "-n", "test"]), g5);
    assert_eq!(ok(kc, &["get", "migration", "-n", "test", "-c", "clusterpair1"]), g5, "-c filters by pair");

    // §8.2 item 13: an excluded kind is N/A (here both, on the "flags" migration).
    let t2 = finish(&test, "flags", 61).await;
    assert_eq!(
        ok(kc, &["get", "migrations", "flags", "-n", "test"]),
        format!(
            "NAME    CLUSTERPAIR    STAGE   STATUS       VOLUMES   RESOURCES   CREATED               ELAPSED   TOTAL BYTES TRANSFERRED\n\
             flags   clusterpair2   Final   Successful   N/A       N/A         {t2}   1m1s      {NO_SUMMARY}\n"
        )
    );

    // §8.2 item 15 / G6: the summary replaces the computed cells.
    ok(
        kc,
        &["create", "migrations", "-n", "test", "-c", "clusterpair1", "--namespaces", "n", "getmigrationstatustest"],
    );
    let t3 = finish(&test, "getmigrationstatustest", 300).await;
    patch_status(
        &test,
        "getmigrationstatustest",
        json!({"summary": {"totalNumberOfVolumes": 5, "numOfMigratedVolumes": 5, "totalNumberOfResources": 6,
                           "numOfMigratedResources": 6, "totalBytesMigrated": 12345,
                           "elapsedTimeForVolumeMigration": "5m0s", "elapsedTimeForResourceMigration": "1m0s"}}),
    )
    .await;
    let g6 = format!(
        "NAME                     CLUSTERPAIR    STAGE   STATUS       VOLUMES   RESOURCES   CREATED               ELAPSED                           TOTAL BYTES TRANSFERRED\n\
         getmigrationstatustest   clusterpair1   Final   Successful   5/5       6/6         {t3}   Volumes (5m0s) Resources (1m0s)   12345\n"
    );
    assert_eq!(ok(kc, &["get", "migrations", "getmigrationstatustest", "-n", "test"]), g6);

    // A listing is sorted by name; -c keeps only that pair's; names print in the order given.
    let listing = ok(kc, &["get", "migrations", "-n", "test", "-c", "clusterpair1"]);
    let names: Vec<&str> = listing.lines().skip(1).filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(names, ["getmigrationstatustest", "getmigrationtest"]);
    let named = ok(kc, &["get", "migrations", "getmigrationtest", "flags", "-n", "test"]);
    let names: Vec<&str> = named.lines().skip(1).filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(names, ["getmigrationtest", "flags"]);
    assert_eq!(ok(kc, &["get", "migrations", "-n", "test", "-c", "nopair"]), "No resources found.\n");
    fails(
        kc,
        &["get", "migrations", "nope", "-n", "test"],
        "Error from server (NotFound): migrations.stork.libopenstorage.org \"nope\" not found\n",
    );

    // --all-namespaces: a NAMESPACE column, namespaces in order.
    ok(kc, &["create", "migrations", "-n", "ns1", "-c", "clusterpair2", "--namespaces", "ns1", "getmigrationtest21"]);
    let t4 = finish(&migrations(&client, "ns1"), "getmigrationtest21", 300).await;
    let all = ok(kc, &["get", "migrations", "--all-namespaces", "-c", "clusterpair2"]);
    assert_eq!(
        all,
        format!(
            "NAMESPACE   NAME                 CLUSTERPAIR    STAGE   STATUS       VOLUMES   RESOURCES   CREATED               ELAPSED   TOTAL BYTES TRANSFERRED\n\
             ns1         getmigrationtest21   clusterpair2   Final   Successful   0/0       0/0         {t4}   5m0s      {NO_SUMMARY}\n\
             test        flags                clusterpair2   Final   Successful   N/A       N/A         {t2}   1m1s      {NO_SUMMARY}\n"
        )
    );

    // -o json|yaml: the object itself for one name, else a List.
    let single: Migration =
        serde_json::from_str(&ok(kc, &["get", "migrations", "getmigrationstatustest", "-n", "test", "-o", "json"]))
            .expect("a Migration");
    assert_eq!(single.status.and_then(|s| s.summary).map(|s| s.total_bytes_migrated), Some(12345));
    let list: Value =
        serde_saphyr::from_str(&ok(kc, &["get", "migrations", "-n", "test", "-o", "yaml"])).expect("yaml");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(list["items"][0]["kind"], "Migration");

    // §8.2 item 16: delete by name, NotFound afterwards, then every migration of one pair.
    let del = migrations(&client, "del");
    for (name, pair) in [
        ("deletemigration", "clusterpair1"),
        ("dm-b", "clusterpair1"),
        ("dm-a", "clusterpair1"),
        ("dm-other", "clusterpair2"),
    ] {
        ok(kc, &["create", "migrations", "-n", "del", "-c", pair, "--namespaces", "del", name]);
    }
    assert_eq!(
        ok(kc, &["delete", "migrations", "deletemigration", "-n", "del"]),
        "Migration deletemigration deleted successfully\n"
    );
    fails(
        kc,
        &["delete", "migrations", "deletemigration", "-n", "del"],
        "Error from server (NotFound): migrations.stork.libopenstorage.org \"deletemigration\" not found\n",
    );
    assert_eq!(
        ok(kc, &["delete", "migration", "-c", "clusterpair1", "-n", "del"]),
        "Migration dm-a deleted successfully\nMigration dm-b deleted successfully\n"
    );
    assert_eq!(ok(kc, &["delete", "migrations", "-c", "clusterpair1", "-n", "del"]), "No resources found.\n");
    let left: Vec<String> =
        del.list(&Default::default()).await.expect("list").items.into_iter().filter_map(|m| m.metadata.name).collect();
    assert_eq!(left, ["dm-other"], "the other pair's migration stays");
    // Several names: one line each, in order; the first missing one stops the command.
    ok(kc, &["create", "migrations", "-n", "del", "-c", "cp", "--namespaces", "del", "dm-x"]);
    let r = storkctl(kc, &["delete", "migrations", "dm-x", "missing", "dm-other", "-n", "del"]);
    assert_eq!(r.stdout, "Migration dm-x deleted successfully\n");
    assert_eq!(r.stderr, "Error from server (NotFound): migrations.stork.libopenstorage.org \"missing\" not found\n");
    assert_eq!(r.code, Some(1));
    assert!(del.get_opt("dm-other").await.expect("get").is_some());
}

#[tokio::test]
async fn dry_run_and_file_validate_without_creating() {
    let cluster = TestCluster::start("storkctl-dryrun").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let kc = kc.as_path();
    let client = cluster.client();
    testenv::ensure_namespace(&client, "app").await.expect("namespace");
    let pairs: Api<ClusterPair> = Api::namespaced(client.clone(), "app");
    for name in ["ready", "notready"] {
        pairs.create(&PostParams::default(), &minimal_pair(name)).await.expect("pair");
    }
    // stork-rs pairs without storage options are NotProvided/Ready and can migrate.
    for (name, storage, scheduler) in [("ready", "NotProvided", "Ready"), ("notready", "NotProvided", "Error")] {
        let patch = json!({"status": {"storageStatus": storage, "schedulerStatus": scheduler}});
        pairs.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("status");
    }
    let app = migrations(&client, "app");

    assert_eq!(
        ok(kc, &["create", "migration", "m", "-n", "app", "-c", "ready", "--namespaces", "app", "--dry-run"]),
        "[Optional] Checking Migration Namespaces....Ok\n\
         [Required] Checking ClusterPair Status....Ok\n\
         [Optional] Checking PreExec Rule....NotConfigured\n\
         [Optional] Checking PostExec Rule....NotConfigured\n\
         All Ready!!\n"
    );
    assert_eq!(
        ok(
            kc,
            &[
                "create",
                "migration",
                "m",
                "-n",
                "app",
                "-c",
                "notready",
                "--namespaces",
                "app,gone",
                "--preExecRule",
                "r1",
                "--dry-run",
            ]
        ),
        "[Optional] Checking Migration Namespaces....Missing namespace gone\n\
         [Required] Checking ClusterPair Status....NotReady\n\
         [Optional] Checking PreExec Rule....NotFound\n\
         [Optional] Checking PostExec Rule....NotConfigured\n\
         All Ready!!\n"
    );
    // A missing pair is the one required check: the API error ends the command.
    let r =
        storkctl(kc, &["create", "migration", "m", "-n", "app", "-c", "nopair", "--namespaces", "app", "--dry-run"]);
    assert_eq!(r.stdout, "[Optional] Checking Migration Namespaces....Ok\n[Required] Checking ClusterPair Status....");
    assert_eq!(r.stderr, "Error from server (NotFound): clusterpairs.stork.libopenstorage.org \"nopair\" not found\n");
    assert_eq!(r.code, Some(1));
    assert!(app.list(&Default::default()).await.expect("list").items.is_empty(), "--dry-run creates nothing");

    // -f: the file's namespace wins over -n; nothing is created either.
    let dir = tempfile::tempdir().expect("dir");
    let file: PathBuf = dir.path().join("migration.yaml");
    std::fs::write(
        &file,
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata:\n  name: fromfile\n  namespace: app\n\
         spec:\n  clusterPair: ready\n  namespaces:\n  - app\n  - gone1\n  - gone2\n  postExecRule: r2\n",
    )
    .expect("write");
    let file = file.to_str().expect("utf-8");
    assert_eq!(
        ok(kc, &["create", "migration", "-f", file, "-n", "default"]),
        "[Optional] Checking Migration Namespaces....Missing namespaces gone1, gone2\n\
         [Required] Checking ClusterPair Status....Ok\n\
         [Optional] Checking PreExec Rule....NotConfigured\n\
         [Optional] Checking PostExec Rule....NotFound\n\
         All Ready!!\n"
    );
    assert!(app.get_opt("fromfile").await.expect("get").is_none(), "-f only validates, as in Stork");
}

// ---------------------------------------------------------------------------------------------------------
// --wait

/// A running storkctl whose output is collected as it comes, so the test can advance the Migration's
/// status exactly between two reads.
struct Running {
    child: Child,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// Copies a pipe into a buffer on a thread (blocking reads; the thread ends at EOF).
fn collect(mut pipe: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let sink = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().expect("lock").extend_from_slice(&chunk[..n]);
        }
    });
    buf
}

impl Running {
    fn spawn(mut cmd: Command) -> Self {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        Self { child, stdout, stderr }
    }

    fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8_lossy(&buf.lock().expect("lock")).into_owned()
    }

    /// Waits until stdout satisfies `done`, or fails the test after 60 s with what was printed.
    async fn until(&mut self, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&Self::text(&self.stdout)) {
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "no {what} within 60 s; stdout {:?}, stderr {:?}",
                    Self::text(&self.stdout),
                    Self::text(&self.stderr)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finish(mut self) -> (Option<i32>, String, String) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("storkctl still running after 60 s; stdout {:?}", Self::text(&self.stdout));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The collectors reach EOF right after exit.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status.code(), Self::text(&self.stdout), Self::text(&self.stderr))
    }
}

fn storkctl_command(kubeconfig: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_storkctl"));
    cmd.arg("--kubeconfig").arg(kubeconfig).args(args).env("TZ", common::TZ).env_remove("KUBECONFIG");
    cmd
}

fn wait_args<'a>(name: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["create", "migrations", "-n", "waitns", "-c", "cp", "--namespaces", "waitns", name, "--wait"];
    args.extend_from_slice(extra);
    args
}

#[tokio::test]
async fn wait_follows_a_status_advanced_by_hand() {
    let cluster = TestCluster::start("storkctl-wait").await.expect("start cluster");
    let kc = cluster.kubeconfig_path();
    let client = cluster.client();
    testenv::ensure_namespace(&client, "waitns").await.expect("namespace");
    let api = migrations(&client, "waitns");
    // First read right away (Stork waits 5 s), then every 2 s: ample time to write a status between reads.
    let fast = ["--wait-initial-delay=0", "--wait-poll-interval=2s"];

    // §8.2 item 17: stdout is a pipe, so Stork's plain lines.
    let mut run = Running::spawn(storkctl_command(&kc, &wait_args("dummy-name", &fast)));
    run.until("first status line", |out| out.lines().count() >= 2).await;
    patch_status(&api, "dummy-name", json!({"stage": "Volumes", "status": "Successful"})).await;
    let (code, stdout, stderr) = run.finish().await;
    assert_eq!(
        stdout,
        "STAGE\t\tSTATUS              \n\t\t                    \nVolumes\t\tSuccessful          \nMigration dummy-name completed successfully\n"
    );
    assert_eq!((code, stderr.as_str()), (Some(0), ""));

    // Failed: Stork's last line, then the reason on stderr and exit code 1.
    let mut run = Running::spawn(storkctl_command(&kc, &wait_args("dummy-fail", &fast)));
    run.until("first status line", |out| out.lines().count() >= 2).await;
    patch_status(
        &api,
        "dummy-fail",
        json!({"stage": "Final", "status": "Failed", "reason": "cluster pair cp is not Ready"}),
    )
    .await;
    let (code, stdout, stderr) = run.finish().await;
    assert_eq!(
        stdout,
        "STAGE\t\tSTATUS              \n\t\t                    \nFinal\t\tFailed              \nMigration dummy-fail failed\n"
    );
    assert_eq!(stderr, "error: migration dummy-fail failed: cluster pair cp is not Ready\n");
    assert_eq!(code, Some(1));

    // Deleted while waiting: the API's NotFound ends the wait, as in Stork.
    let mut run = Running::spawn(storkctl_command(&kc, &wait_args("dummy-gone", &fast)));
    run.until("first status line", |out| out.lines().count() >= 2).await;
    api.delete("dummy-gone", &Default::default()).await.expect("delete");
    let (code, stdout, stderr) = run.finish().await;
    assert_eq!(stdout, "STAGE\t\tSTATUS              \n\t\t                    \n");
    assert_eq!(stderr, "Error from server (NotFound): migrations.stork.libopenstorage.org \"dummy-gone\" not found\n");
    assert_eq!(code, Some(1));

    // On a terminal (a pty from util-linux `script`): one live line with the object counts, no plain lines.
    let script = Path::new("/usr/bin/script");
    assert!(script.exists(), "this test needs util-linux `script` to give storkctl a terminal");
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let command_line = [env!("CARGO_BIN_EXE_storkctl"), "--kubeconfig", kc.to_str().expect("utf-8")]
        .into_iter()
        .chain(wait_args("live-name", &["--wait-poll-interval=100ms"]))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(script);
    cmd.args(["-qefc", &command_line, "/dev/null"]).env("TZ", common::TZ).env_remove("KUBECONFIG");
    let mut run = Running::spawn(cmd);
    run.until("the waiting line", |out| out.contains("Migration live-name: waiting for the controller to start it"))
        .await;
    patch_status(
        &api,
        "live-name",
        json!({"stage": "Applications", "status": "InProgress", "resourceCounts": {"total": 10, "processed": 4}}),
    )
    .await;
    run.until("the progress line", |out| out.contains("stage Applications, status InProgress, 4/10 objects")).await;
    patch_status(
        &api,
        "live-name",
        json!({"stage": "Final", "status": "Successful", "resourceCounts": {"total": 10, "processed": 10, "created": 10}}),
    )
    .await;
    let (code, stdout, _) = run.finish().await;
    assert_eq!(code, Some(0), "{stdout:?}");
    assert!(
        stdout.contains("\r\x1b[2KMigration live-name: stage Final, status Successful, 10/10 objects ("),
        "{stdout:?}"
    );
    assert!(stdout.ends_with("Migration live-name completed successfully\r\n"), "{stdout:?}");
    assert!(!stdout.contains("STAGE\t\t"), "no plain lines on a terminal: {stdout:?}");
    assert_eq!(stdout.matches('\n').count(), 2, "one updating line, then the result: {stdout:?}");
}
