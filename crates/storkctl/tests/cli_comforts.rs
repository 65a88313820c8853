//! Shell completion (the bash script loaded in a real bash and asked to complete), `storkctl version`
//! against a real API server, and `-o wide` on the gets that had no wide form.

mod common;

use std::process::Command as Process;

use common::*;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use stork_api::ClusterPair;
use testenv::TestCluster;

fn completion(shell: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("storkctl")
        .expect("storkctl")
        .args(["completion", shell])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What bash offers for `line` (the words typed so far, the last one being completed), with the
/// script sourced into a fresh non-interactive bash.
fn bash_complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let program = format!(
        r#"source "$1" || exit 3
complete -p storkctl >/dev/null || exit 4
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="{line}"
COMP_POINT=${{#COMP_LINE}}
_storkctl storkctl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        cword = words.len() - 1,
        line = words.join(" "),
    );
    let out = Process::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(script)
        .output()
        .expect("bash");
    assert!(out.status.success(), "bash exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn the_bash_completion_completes_storkctl_get_c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("storkctl.bash");
    std::fs::write(&script, completion("bash")).expect("write");
    let offered = bash_complete(&script, &["storkctl", "get", "c"]);
    assert!(offered.contains(&"clusterpair".to_string()), "{offered:?}");
    assert!(offered.iter().all(|w| w.starts_with('c')), "only words starting with c: {offered:?}");
    let commands = bash_complete(&script, &["storkctl", "per"]);
    assert_eq!(commands, ["perform"]);
    let flags = bash_complete(&script, &["storkctl", "create", "migration", "--wa"]);
    assert!(flags.contains(&"--wait".to_string()), "{flags:?}");

    for shell in ["zsh", "fish"] {
        let text = completion(shell);
        assert!(text.contains("storkctl") && text.contains("clusterpair"), "{shell}:\n{text}");
    }
    let out = assert_cmd::Command::cargo_bin("storkctl")
        .expect("storkctl")
        .args(["completion", "tcsh"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'tcsh'"));
}

#[tokio::test]
async fn version_shows_the_leading_controllers_version() {
    let cluster = TestCluster::start("storkctl-version").await.expect("cluster");
    let kc = cluster.kubeconfig_path();
    let client_line = format!("Client Version: {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(ok(&kc, &["version", "--client"]), client_line);
    assert_eq!(
        ok(&kc, &["version"]),
        format!(
            "{client_line}Controller Version: unknown (no stork-rs leader Lease found: is the controller running, with --leader-elect=true?)\n"
        )
    );

    testenv::ensure_namespace(&cluster.client(), "stork-system").await.expect("namespace");
    let leases: Api<Lease> = Api::namespaced(cluster.client(), "stork-system");
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some("stork-rs-controller".into()),
            labels: Some([("app.kubernetes.io/name".to_string(), "stork-rs".to_string())].into()),
            annotations: Some([("stork-rs.io/controller-version".to_string(), "9.8.7".to_string())].into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("stork-7d9f-x2".into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(jiff::Timestamp::now())),
            ..Default::default()
        }),
    };
    leases.create(&PostParams::default(), &lease).await.expect("lease");
    assert_eq!(
        ok(&kc, &["version"]),
        format!(
            "{client_line}Controller Version: 9.8.7 (leader stork-7d9f-x2, Lease stork-system/stork-rs-controller)\n"
        )
    );

    // A cluster that does not answer: the client's version, and why the controller's is unknown.
    let dead = cluster.dir().join("dead.kubeconfig");
    std::fs::write(&dead, cluster.kubeconfig_via("https://127.0.0.1:1")).expect("write");
    let out = ok(&dead, &["version"]);
    assert!(out.starts_with(&client_line) && out.contains("Controller Version: unknown ("), "{out}");
}

#[tokio::test]
async fn wide_adds_columns_to_every_get() {
    let cluster = TestCluster::start("storkctl-wide").await.expect("cluster");
    let kc = cluster.kubeconfig_path();
    let client = cluster.client();
    testenv::ensure_namespace(&client, "shop").await.expect("namespace");
    let mut pair = minimal_pair("remote");
    pair.spec.options.insert("mode".into(), "DisasterRecovery".into());
    let pairs: Api<ClusterPair> = Api::namespaced(client.clone(), "shop");
    pairs.create(&PostParams::default(), &pair).await.expect("pair");
    let status = json!({"status": {"schedulerStatus": "Error", "storageStatus": "NotProvided", "remoteStorageId": "",
        "conditions": [{"type": "SchedulerReady", "status": "False", "reason": "Unreachable", "message": "connection refused",
                        "lastTransitionTime": "2026-12-01T10:00:00Z"}]}});
    pairs.patch_status("remote", &PatchParams::default(), &Patch::Merge(&status)).await.expect("status");

    let table = ok(&kc, &["get", "clusterpair", "-n", "shop", "-o", "wide"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(words(lines[0]).ends_with(&["CREATED", "MODE", "MESSAGE"]), "{table}");
    assert!(words(lines[1]).ends_with(&["async-dr", "connection", "refused"]), "{table}");
    let narrow = ok(&kc, &["get", "clusterpair", "-n", "shop"]);
    assert!(narrow.lines().next().expect("header").ends_with("CREATED"), "the default table is Stork's: {narrow}");

    let migration = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {name: first, namespace: shop}\nspec: {clusterPair: remote, namespaces: [shop, shop-db]}\n";
    let (ok_created, out) = testenv_kubectl(&cluster, migration);
    assert!(ok_created, "{out}");
    let table = ok(&kc, &["get", "migrations", "-n", "shop", "-o", "wide"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(words(lines[0]).ends_with(&["TRANSFERRED", "NAMESPACES", "TYPE", "SCHEDULE", "REASON"]), "{table}");
    assert!(words(lines[1]).contains(&"shop,shop-db"), "{table}");

    let policy = "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: SchedulePolicy\nmetadata: {name: every-15}\npolicy: {interval: {intervalMinutes: 15}}\n";
    let (ok_created, out) = testenv_kubectl(&cluster, policy);
    assert!(ok_created, "{out}");
    let table = ok(&kc, &["get", "schedulepolicy", "every-15", "-o", "wide"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(words(lines[0]).ends_with(&["MONTHLY", "CREATED"]), "{table}");
    assert!(words(lines[1]).starts_with(&["every-15", "15", "N/A"]), "{table}");
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn testenv_kubectl(cluster: &TestCluster, yaml: &str) -> (bool, String) {
    use std::io::Write as _;
    let kubectl = testenv::Binaries::locate().expect("binaries").kubectl();
    let mut child = Process::new(kubectl)
        .args(["--kubeconfig", &cluster.kubeconfig_path().display().to_string(), "create", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl");
    child.stdin.take().expect("stdin").write_all(yaml.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("kubectl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
