//! storkctl as a process, without a cluster: argument validation with Stork's exact messages, and
//! `generate clusterpair` from kubeconfig files written here.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use base64::Engine as _;
use stork_api::{ClusterPair, ClusterPairStatusType};

/// A storkctl that sees no kubeconfig unless a test gives one: empty HOME, no KUBECONFIG, not in a pod.
fn storkctl(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("storkctl").expect("storkctl binary");
    cmd.env("HOME", home).env_remove("KUBECONFIG").env_remove("KUBERNETES_SERVICE_HOST");
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_in(home: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = storkctl(home);
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run storkctl");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Run {
    let home = tempfile::tempdir().expect("home");
    run_in(home.path(), args, &[])
}

/// Stork's CheckErr contract: `error: <msg>` and a newline on stderr, nothing on stdout, exit code 1.
fn assert_error(args: &[&str], message: &str) {
    let r = run(args);
    assert_eq!(r.stderr, format!("error: {message}\n"), "stderr of {args:?}");
    assert_eq!(r.code, Some(1), "exit code of {args:?}");
    assert_eq!(r.stdout, "", "stdout of {args:?}");
}

const NAME_MSG: &str = "the Name \"pair_test\" is not valid: [a lowercase RFC 1123 subdomain must consist of lower \
                        case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
                        character (e.g. 'example.com', regex used for validation is \
                        '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')]";
const NAMESPACE_MSG: &str = "the Namespace \"test_namespace\" is not valid: [a lowercase RFC 1123 label must consist \
                             of lower case alphanumeric characters or '-', and must start and end with an \
                             alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is \
                             '[a-z0-9]([-a-z0-9]*[a-z0-9])?')]";

#[test]
fn generate_rejects_invalid_name() {
    assert_error(&["generate", "clusterpair", "pair_test", "-n", "test"], NAME_MSG);
}

#[test]
fn generate_rejects_invalid_namespace_with_the_label_message() {
    assert_error(&["generate", "clusterpair", "pair-test", "-n", "test_namespace"], NAMESPACE_MSG);
    assert!(NAMESPACE_MSG.contains("'my-name',  or '123-abc'"), "the double space is part of the message");
}

#[test]
fn generate_needs_exactly_one_name() {
    assert_error(
        &["generate", "clusterpair", "-n", "test"],
        "exactly one name needs to be provided for clusterpair name",
    );
    assert_error(&["generate", "clusterpair", "a", "b"], "exactly one name needs to be provided for clusterpair name");
}

#[test]
fn create_requires_src_kube_file() {
    assert_error(
        &["create", "clusterpair", "uni-pair1", "-n", "test", "--unidirectional"],
        "missing parameter \"src-kube-file\" - Kubeconfig file missing for source cluster",
    );
}

#[test]
fn create_requires_dest_kube_file() {
    assert_error(
        &["create", "clusterpair", "uni-pair1", "-n", "test", "--src-kube-file", "/nonexistent/src"],
        "missing parameter \"dest-kube-file\" - Kubeconfig file missing for destination cluster",
    );
}

#[test]
fn create_rejects_invalid_mode() {
    assert_error(
        &["create", "clusterpair", "uni-pair1", "-n", "test", "--mode", "xyz"],
        "invalid mode xyz, mode value should either be async-dr, sync-dr or migration",
    );
}

#[test]
fn create_validates_in_stork_order() {
    // name, namespace, mode, src file, dest file: each error hides the ones after it.
    let base = ["create", "clusterpair"];
    assert_error(&[&base[..], &["pair_test", "-n", "test_namespace", "--mode", "xyz"]].concat(), NAME_MSG);
    assert_error(&[&base[..], &["pair-test", "-n", "test_namespace", "--mode", "xyz"]].concat(), NAMESPACE_MSG);
    assert_error(
        &[&base[..], &["pair-test", "-n", "test", "--mode", "xyz", "--dest-kube-file", "x"]].concat(),
        "invalid mode xyz, mode value should either be async-dr, sync-dr or migration",
    );
    assert_error(
        &[&base[..], &["pair-test", "-n", "test", "--mode", "migration", "--dest-kube-file", "x"]].concat(),
        "missing parameter \"src-kube-file\" - Kubeconfig file missing for source cluster",
    );
    assert_error(&[&base[..], &["-n", "test"]].concat(), "exactly one name needs to be provided for clusterpair name");
}

#[test]
fn create_rejects_the_same_kube_file_twice() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("kubeconfig");
    std::fs::write(&file, "apiVersion: v1\n").expect("write");
    let f = file.to_str().expect("utf-8 path");
    assert_error(
        &["create", "clusterpair", "uni-pair1", "-n", "test", "--src-kube-file", f, "--dest-kube-file", f],
        "source kubeconfig file and destination kubeconfig file should be different",
    );
}

#[test]
fn create_rejects_identical_kube_file_contents() {
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "apiVersion: v1\nkind: Config\n").expect("write a");
    std::fs::write(&b, "apiVersion: v1\nkind: Config\n").expect("write b");
    assert_error(
        &[
            "create",
            "clusterpair",
            "uni-pair1",
            "-n",
            "test",
            "--src-kube-file",
            a.to_str().expect("utf-8"),
            "--dest-kube-file",
            b.to_str().expect("utf-8"),
        ],
        "source kubeconfig and destination kubeconfig file should be different",
    );
}

#[test]
fn create_reports_an_unreadable_kube_file() {
    let dir = tempfile::tempdir().expect("dir");
    let a = dir.path().join("a");
    std::fs::write(&a, "apiVersion: v1\n").expect("write");
    let missing = dir.path().join("missing");
    let r = run(&[
        "create",
        "clusterpair",
        "p",
        "--src-kube-file",
        a.to_str().expect("utf-8"),
        "--dest-kube-file",
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr.starts_with(&format!("error: unable to read destination kubeconfig file {}: ", missing.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn create_refuses_storage_driver_flags_instead_of_ignoring_them() {
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "apiVersion: v1\n# a\n").expect("write a");
    std::fs::write(&b, "apiVersion: v1\n# b\n").expect("write b");
    let files = ["--src-kube-file", a.to_str().expect("utf-8"), "--dest-kube-file", b.to_str().expect("utf-8")];
    assert_error(
        &[
            &["create", "clusterpair", "p", "--mode", "async-dr"][..],
            &files,
            &["--src-ep", "10.0.0.1:9001", "--dest-token", "t"],
        ]
        .concat(),
        "--src-ep, --dest-token set up storage-driver (Portworx) pairing, which this storkctl does not have; remove \
         them to pair the clusters for Kubernetes resources (the mode is still recorded)",
    );
    // Object-store flags and the deprecated endpoint flags are refused the same way (Stork silently did
    // nothing when --src-ip was given).
    for (extra, named) in [
        (&["-p", "s3", "--bucket", "b", "--s3-access-key", "k"][..], "--provider, --bucket, --s3-access-key"),
        (&["--use-existing-objectstorelocation", "bl"], "--use-existing-objectstorelocation"),
        (&["--src-ip", "10.0.0.1"], "--src-ip"),
        (&["--disable-ssl"], "--disable-ssl"),
    ] {
        let r = run(&[&["create", "clusterpair", "p"][..], &files, extra].concat());
        assert_eq!(r.code, Some(1), "{extra:?}");
        assert!(
            r.stderr.starts_with(&format!("error: {named} set up storage-driver (Portworx) pairing")),
            "{extra:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn get_rejects_unsupported_output_type() {
    assert_error(&["get", "clusterpair", "-o", "name"], "unsupported output type name");
    // wide is known (get migrationschedule has one); elsewhere it is the table, so a cluster is needed.
    assert_error(&["get", "clusterpair", "-o", "wide"], NO_KUBECONFIG);
}

#[test]
fn get_by_name_across_all_namespaces_is_refused() {
    assert_error(
        &["get", "clusterpair", "p", "--all-namespaces"],
        "a resource cannot be retrieved by name across all namespaces",
    );
}

#[test]
fn delete_needs_a_name() {
    assert_error(&["delete", "clusterpair"], "at least one argument needs to be provided for clusterpair name");
}

#[test]
fn commands_need_a_kubeconfig() {
    assert_error(
        &["get", "clusterpair"],
        "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config (or run inside a cluster)",
    );
    assert_error(
        &["generate", "clusterpair", "p"],
        "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config (or run inside a cluster)",
    );
}

#[test]
fn usage_errors_exit_1() {
    let r = run(&["get", "clusterpair", "--bogus"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.starts_with("error: unexpected argument '--bogus'"), "{}", r.stderr);
    let r = run(&["--help"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("generate"), "{}", r.stdout);
}

// ---------------------------------------------------------------------------------------------------------
// migrations (§8.2 item 11 and 16): argument errors come before any cluster is needed

const NO_KUBECONFIG: &str =
    "no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config (or run inside a cluster)";

#[test]
fn create_migration_needs_exactly_one_name() {
    assert_error(&["create", "migrations"], "exactly one name needs to be provided for migration name");
    assert_error(
        &["create", "migration", "a", "b", "-c", "cp", "--namespaces", "ns"],
        "exactly one name needs to be provided for migration name",
    );
}

#[test]
fn create_migration_needs_a_cluster_pair() {
    assert_error(&["create", "migrations", "migration1"], "ClusterPair name needs to be provided for migration");
    assert_error(
        &["create", "migrations", "migration1", "--namespaces", "ns", "-c="],
        "ClusterPair name needs to be provided for migration",
    );
}

#[test]
fn create_migration_needs_a_namespace() {
    assert_error(
        &["create", "migrations", "-c", "clusterPair1", "migration1"],
        "need to provide atleast one namespace to migrate",
    );
    assert_error(
        &["create", "migrations", "-c", "clusterPair1", "migration1", "--namespaces", ""],
        "need to provide atleast one namespace to migrate",
    );
}

#[test]
fn create_migration_validates_in_stork_order() {
    // Name count before the pair, the pair before the namespaces, all before the kubeconfig.
    assert_error(&["create", "migrations", "a", "b"], "exactly one name needs to be provided for migration name");
    assert_error(
        &["create", "migrations", "m", "--namespaces", "ns"],
        "ClusterPair name needs to be provided for migration",
    );
    assert_error(&["create", "migrations", "m", "-c", "cp", "--namespaces", "ns"], NO_KUBECONFIG);
    assert_error(&["create", "migrations", "m", "-c", "cp", "--namespaces", "ns", "--dry-run"], NO_KUBECONFIG);
    // A cobra bool takes its value only with "=": "false" here is a second name.
    assert_error(
        &["create", "migrations", "m", "-c", "cp", "--namespaces", "ns", "--includeVolumes", "false"],
        "exactly one name needs to be provided for migration name",
    );
}

#[test]
fn create_migration_from_a_file_skips_the_other_checks() {
    let home = tempfile::tempdir().expect("home");
    let missing = home.path().join("missing.yaml");
    let missing = missing.to_str().expect("utf-8");
    // No name, no pair, no namespaces: -f is looked at first, as in Stork.
    let r = run_in(home.path(), &["create", "migration", "-f", missing], &[]);
    assert_eq!(r.stderr, format!("error: error opening file {missing}: open {missing}: no such file or directory\n"));
    assert_eq!((r.code, r.stdout.as_str()), (Some(1), ""));

    let file = home.path().join("m.yaml");
    std::fs::write(&file, "metadata:\n  name: m\nspec:\n  clusterPair: cp\n").expect("write");
    let file = file.to_str().expect("utf-8");
    let r = run_in(home.path(), &["create", "migration", "--file", file, "-n", ""], &[]);
    assert_eq!(r.stderr, "error: empty namespace given\n");
    let r = run_in(home.path(), &["create", "migration", "-f", file], &[]);
    assert_eq!(r.stderr, format!("error: {NO_KUBECONFIG}\n"), "a readable spec then needs the cluster");
}

#[test]
fn get_migration_argument_errors() {
    assert_error(&["get", "migrations", "-o", "name"], "unsupported output type name");
    assert_error(
        &["get", "migration", "m", "--all-namespaces"],
        "a resource cannot be retrieved by name across all namespaces",
    );
    assert_error(&["get", "migrations", "-c", "cp"], NO_KUBECONFIG);
}

#[test]
fn delete_migration_needs_a_name_or_a_pair() {
    assert_error(&["delete", "migrations"], "at least one argument needs to be provided for migration name");
    assert_error(&["delete", "migration", "-c="], "at least one argument needs to be provided for migration name");
    assert_error(&["delete", "migrations", "-c", "cp"], NO_KUBECONFIG);
}

#[test]
fn migration_usage_errors_exit_1() {
    let r = run(&["create", "migration", "m", "--includeResources=maybe"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("strconv.ParseBool: parsing \"maybe\": invalid syntax"), "{}", r.stderr);
    let r = run(&["create", "migrations", "--help"]);
    assert_eq!(r.code, Some(0));
    for flag in ["--clusterPair", "--namespaces", "--includeResources", "--startApplications", "--wait", "--dry-run"] {
        assert!(r.stdout.contains(flag), "{flag} in {}", r.stdout);
    }
    assert!(!r.stdout.contains("wait-poll-interval"), "test-only flags stay hidden");
}

// ---------------------------------------------------------------------------------------------------------
// schedule policies and migration schedules (§8.2 items 20, 22, 24): what is decided before a cluster is
// needed

#[test]
fn create_schedule_policy_validates_offline_with_storks_messages() {
    assert_error(&["create", "schedulepolicy"], "exactly one name needs to be provided for schedule policy name");
    assert_error(&["create", "sp", "a", "b"], "exactly one name needs to be provided for schedule policy name");
    // §8.2 item 24.
    assert_error(
        &["create", "schedulepolicy", "test-policy", "--interval-minutes", "0"],
        "Invalid intervalMinutes (0) in Interval policy",
    );
    assert_error(
        &["create", "sp", "test-policy", "-t", "Daily", "--time", "12:75PM"],
        "Invalid time (12:75PM) in Daily policy: parsing time \"12:75PM\": minute out of range",
    );
    assert_error(
        &["create", "sp", "test-policy", "--policy-type", "weekly", "--day-of-week", "FUNDAY"],
        "Invalid day of the week (funday) in Weekly policy",
    );
    assert_error(
        &["create", "sp", "test-policy", "-t", "MONTHLY", "--date-of-month", "32"],
        "Invalid date of the month (32) in Monthly policy",
    );
    assert_error(&["create", "sp", "p", "-i", "-5"], "Invalid intervalMinutes (-5) in Interval policy");
    assert_error(
        &["create", "sp", "p", "--retain", "0"],
        "need to provide a valid value for retain. It should be a positive integer",
    );
    assert_error(
        &["create", "sp", "p", "-t", "hourly"],
        "need to provide a valid schedule policy type. Valid schedule types are Interval, Daily, Weekly and Monthly",
    );
    assert_error(
        &["create", "sp", "p", "--time", "1:00PM"],
        "for an Interval SchedulePolicy you can only provide values for --interval-minutes and --retain flags",
    );
    assert_error(
        &["create", "sp", "p", "-t", "daily", "-i", "5"],
        "for a Daily SchedulePolicy you can only provide values for --time, --retain and --force-full-snapshot-day flags",
    );
    assert_error(
        &["create", "sp", "p", "-t", "weekly", "--date-of-month", "5"],
        "for a Weekly SchedulePolicy you can only provide values for --time, --day-of-week and --retain flags",
    );
    assert_error(
        &["create", "sp", "p", "-t", "monthly", "--day-of-week", "Sun"],
        "for a Monthly SchedulePolicy you can only provide values for --time, --date-of-month and --retain flags",
    );
    assert_error(
        &["create", "sp", "p", "-t", "daily", "--force-full-snapshot-day", "Caturday"],
        "invalid day of the week (caturday) in policy.daily.forceFullSnapshotDay",
    );
    // A valid policy then needs the cluster.
    assert_error(&["create", "sp", "p", "-t", "Weekly", "--day-of-week", "Thurs", "--time", "3:04pm"], NO_KUBECONFIG);
}

#[test]
fn schedule_policy_get_and_delete_arguments() {
    assert_error(&["delete", "schedulepolicy"], "at least one argument needs to be provided for schedule policy name");
    assert_error(&["get", "sp", "-o", "name"], "unsupported output type name");
    assert_error(&["get", "schedulepolicy", "-o", "wide"], NO_KUBECONFIG);
    assert_error(&["delete", "sp", "p"], NO_KUBECONFIG);
}

#[test]
fn create_migration_schedule_checks_name_and_pair_first() {
    assert_error(
        &["create", "migrationschedules"],
        "exactly one name needs to be provided for migration schedule name",
    );
    assert_error(
        &["create", "migrationschedule", "a", "b", "-c", "cp"],
        "exactly one name needs to be provided for migration schedule name",
    );
    // §8.2 item 20's first message.
    assert_error(
        &["create", "migrationschedule", "s", "--namespaces", "ns"],
        "ClusterPair name needs to be provided for migration schedule",
    );
    assert_error(
        &["create", "migrationschedule", "s", "-c", "cp", "--namespaces", "ns", "-i", "5", "-s", "p"],
        NO_KUBECONFIG,
    );
    let r = run(&["create", "migrationschedule", "s", "-c", "cp", "--annotations", "novalue"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("novalue must be formatted as key=value"), "{}", r.stderr);
}

#[test]
fn schedule_targets_need_a_name_or_a_pair() {
    const NO_NAMES: &str =
        "at least one argument needs to be provided for migration schedule name if cluster pair isn't provided";
    for verb in ["delete", "suspend", "resume"] {
        assert_error(&[verb, "migrationschedules"], NO_NAMES);
        assert_error(&[verb, "migrationschedule", "-c="], NO_NAMES);
        assert_error(&[verb, "migrationschedules", "a", "b"], NO_KUBECONFIG);
        assert_error(&[verb, "migrationschedules", "--clusterPair", "cp"], NO_KUBECONFIG);
    }
    assert_error(
        &["get", "migrationschedules", "s", "--all-namespaces"],
        "a resource cannot be retrieved by name across all namespaces",
    );
    assert_error(&["get", "migrationschedules", "-o", "wide"], NO_KUBECONFIG);
}

// ---------------------------------------------------------------------------------------------------------
// generate clusterpair

/// A kubeconfig whose credentials live in files referenced by relative paths (as kubeadm's and many
/// cloud kubeconfigs do), plus a token-file user in a second context.
struct Fixture {
    dir: tempfile::TempDir,
    ca: String,
    cert: String,
    key: String,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("pki")).expect("pki dir");
        // Long enough that a folding YAML emitter would break the base64 over several lines.
        let pem = |kind: &str, seed: &str| {
            format!("-----BEGIN {kind}-----\n{}\n-----END {kind}-----\n", seed.repeat(40).as_str())
        };
        let ca = pem("CERTIFICATE", "Q0FjZXJ0aWZpY2F0ZQ");
        let cert = pem("CERTIFICATE", "Y2xpZW50Y2VydA");
        let key = pem("PRIVATE KEY", "a2V5a2V5a2V5");
        std::fs::write(dir.path().join("pki/ca.crt"), &ca).expect("ca");
        std::fs::write(dir.path().join("pki/admin.crt"), &cert).expect("cert");
        std::fs::write(dir.path().join("pki/admin.key"), &key).expect("key");
        std::fs::write(dir.path().join("robot.token"), "s3cr3t-token\n").expect("token");
        std::fs::write(
            dir.path().join("kubeconfig"),
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: prod\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority: pki/ca.crt\n\
             - name: lab\n  cluster:\n    server: https://10.0.0.2:6443\n    insecure-skip-tls-verify: true\n\
             users:\n\
             - name: admin\n  user:\n    client-certificate: pki/admin.crt\n    client-key: pki/admin.key\n\
             - name: robot\n  user:\n    tokenFile: robot.token\n\
             contexts:\n\
             - name: admin@prod\n  context:\n    cluster: prod\n    user: admin\n\
             - name: robot@lab\n  context:\n    cluster: lab\n    user: robot\n    namespace: apps\n\
             current-context: admin@prod\n\
             preferences: {}\n",
        )
        .expect("kubeconfig");
        Self { dir, ca, cert, key }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn generate(&self, extra: &[&str]) -> Run {
        let kubeconfig = self.kubeconfig();
        let args = [
            &["generate", "clusterpair", "remotecluster", "-n", "migrationnamespace", "--kubeconfig"][..],
            &[kubeconfig.to_str().expect("utf-8")],
            extra,
        ]
        .concat();
        run_in(self.dir.path(), &args, &[])
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

fn parse_pair(yaml: &str) -> ClusterPair {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("generate output is not a ClusterPair: {e}\n{yaml}"))
}

#[test]
fn generate_prunes_to_the_current_context_and_inlines_files() {
    let fx = Fixture::new();
    let r = fx.generate(&[]);
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    assert_eq!(r.stderr, "", "a usable config gives no warning");

    let pair = parse_pair(&r.stdout);
    assert_eq!(pair.metadata.name.as_deref(), Some("remotecluster"));
    assert_eq!(pair.metadata.namespace.as_deref(), Some("migrationnamespace"));
    let config = &pair.spec.config;
    assert_eq!(config.current_context, "admin@prod");
    assert_eq!(config.clusters.keys().collect::<Vec<_>>(), ["prod"]);
    assert_eq!(config.users.keys().collect::<Vec<_>>(), ["admin"]);
    assert_eq!(config.contexts.keys().collect::<Vec<_>>(), ["admin@prod"]);

    let cluster = &config.clusters["prod"];
    assert_eq!(cluster.server, "https://10.0.0.1:6443");
    assert_eq!(cluster.certificate_authority, None, "the path is replaced by the data");
    assert_eq!(cluster.certificate_authority_data.as_deref(), Some(b64(&fx.ca).as_str()));
    let user = &config.users["admin"];
    assert_eq!((user.client_certificate.as_deref(), user.client_key.as_deref()), (None, None));
    assert_eq!(user.client_certificate_data.as_deref(), Some(b64(&fx.cert).as_str()));
    assert_eq!(user.client_key_data.as_deref(), Some(b64(&fx.key).as_str()));
    let origin = fx.kubeconfig().display().to_string();
    assert_eq!(cluster.location_of_origin.as_deref(), Some(origin.as_str()));
    assert_eq!(config.contexts["admin@prod"].location_of_origin.as_deref(), Some(origin.as_str()));
    assert_eq!(config.contexts["admin@prod"].user, "admin");

    assert_eq!(pair.spec.options.len(), 1);
    assert_eq!(pair.spec.options["insert_storage_options_here"], "");
    assert_eq!(pair.spec.platform_options, None);
    let status = pair.status.expect("status is printed");
    assert_eq!(status.scheduler_status, ClusterPairStatusType::Initial);
    assert_eq!(status.storage_status, ClusterPairStatusType::Initial);
    assert_eq!(status.remote_storage_id, "");

    // Shape of the text itself, as Stork prints it.
    let text = &r.stdout;
    assert!(text.starts_with("apiVersion: stork.libopenstorage.org/v1alpha1\nkind: ClusterPair\nmetadata:\n  creationTimestamp: null\n  name: remotecluster\n  namespace: migrationnamespace\nspec:\n"), "{text}");
    assert!(
        text.ends_with("status:\n  remoteStorageId: \"\"\n  schedulerStatus: \"\"\n  storageStatus: \"\"\n"),
        "{text}"
    );
    assert!(text.contains("\n    preferences: {}\n"), "{text}");
    assert!(
        text.contains(&format!("\n        certificate-authority-data: {}\n", b64(&fx.ca))),
        "base64 on one line: {text}"
    );
    assert!(text.contains("\n  options:\n    insert_storage_options_here: \"\"\n"), "{text}");
}

#[test]
fn generate_with_context_inlines_the_token_file_and_takes_options() {
    let fx = Fixture::new();
    let r = fx.generate(&[
        "--context",
        "robot@lab",
        "-s",
        "mode=DisasterRecovery,token=abc=",
        "--project-mappings",
        "p-1=p-2",
    ]);
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    let pair = parse_pair(&r.stdout);
    let config = &pair.spec.config;
    assert_eq!(config.current_context, "robot@lab");
    assert_eq!(config.clusters.keys().collect::<Vec<_>>(), ["lab"]);
    assert_eq!(config.clusters["lab"].insecure_skip_tls_verify, Some(true));
    let robot = &config.users["robot"];
    assert_eq!(robot.token.as_deref(), Some("s3cr3t-token"));
    assert_eq!(robot.token_file, None);
    assert_eq!(config.contexts["robot@lab"].namespace.as_deref(), Some("apps"));
    assert_eq!(pair.spec.options.len(), 2);
    assert_eq!(pair.spec.options["mode"], "DisasterRecovery");
    assert_eq!(pair.spec.options["token"], "abc=");
    let mappings = pair.spec.platform_options.and_then(|p| p.rancher).expect("rancher options").project_mappings;
    assert_eq!(mappings.get("p-1").map(String::as_str), Some("p-2"));
}

#[test]
fn generate_reads_kubeconfig_env_and_records_the_file_of_the_context() {
    let fx = Fixture::new();
    let other = fx.dir.path().join("other");
    std::fs::write(
        &other,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster:\n    server: https://10.9.9.9:6443\n",
    )
    .expect("other");
    // A listed file that does not exist is skipped, as client-go does.
    let missing = fx.dir.path().join("missing");
    let list = std::env::join_paths([&missing, &other, &fx.kubeconfig()]).expect("join");
    let r = run_in(
        fx.dir.path(),
        &["generate", "clusterpair", "p", "-n", "ns"],
        &[("KUBECONFIG", list.to_str().expect("utf-8"))],
    );
    assert_eq!(r.code, Some(0), "stderr: {}", r.stderr);
    let pair = parse_pair(&r.stdout);
    assert_eq!(pair.spec.config.current_context, "admin@prod");
    let origin = fx.kubeconfig().display().to_string();
    assert_eq!(pair.spec.config.clusters["prod"].location_of_origin.as_deref(), Some(origin.as_str()));
}

#[test]
fn generate_warns_when_the_controller_could_not_use_the_credentials() {
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443\n\
         users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n\
         contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n",
    )
    .expect("write");
    let r =
        run_in(dir.path(), &["generate", "clusterpair", "p", "--kubeconfig", kubeconfig.to_str().expect("utf-8")], &[]);
    assert_eq!(r.code, Some(0), "a warning, not an error: {}", r.stderr);
    assert!(
        r.stderr.starts_with("warning: the stork controller will not be able to use this ClusterPair: spec.config.users.u.exec is refused"),
        "{}",
        r.stderr
    );
    assert_eq!(
        parse_pair(&r.stdout).spec.config.users["u"].exec.as_ref().map(|e| e["command"].clone()),
        Some("aws".into())
    );
}

#[test]
fn generate_rejects_malformed_storage_options() {
    let fx = Fixture::new();
    let r = fx.generate(&["-s", "mode=DisasterRecovery,token"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stderr, "error: invalid --storageoptions entry \"token\": expected key=value\n");
    assert_eq!(r.stdout, "");
}

#[test]
fn generate_reports_an_unknown_context() {
    let fx = Fixture::new();
    let r = fx.generate(&["--context", "nope"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot build the ClusterPair config from {}: context \"nope\" not found in the kubeconfig\n",
            fx.kubeconfig().display()
        )
    );
}

#[test]
fn perform_needs_a_migration_reference_before_any_cluster() {
    assert_error(&["perform", "failover"], "reference MigrationSchedule name needs to be provided for failover");
    assert_error(
        &["perform", "failover", "--dry-run", "-n", "kube-system"],
        "reference MigrationSchedule name needs to be provided for failover",
    );
    assert_error(&["perform", "failback"], "reference MigrationSchedule name needs to be provided for failback");
}
