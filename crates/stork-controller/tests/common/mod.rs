//! Shared by the controller's end-to-end tests: the `stork` binary run as users run it, the seed
//! ClusterPair of Stork's documentation, and waiting on status.

#![allow(dead_code)]

pub mod promql;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use kube::api::Api;
use stork_api::{ClusterPair, ClusterPairStatus};
use testenv::TestCluster;
use testenv::process::{Lifetime, Proc};

/// A running `stork` controller process.
pub struct Stork {
    pub proc: Proc,
    pub http: String,
}

impl Stork {
    /// Starts `stork --kubeconfig <cluster>` with short check intervals so tests see transitions quickly.
    pub fn start(cluster: &TestCluster, extra: &[&str]) -> Self {
        let mut args = vec![format!("--kubeconfig={}", cluster.kubeconfig_path().display())];
        args.extend(extra.iter().map(|a| a.to_string()));
        Self::spawn(cluster, Command::new(env!("CARGO_BIN_EXE_stork")), &args)
    }

    /// Runs `program` (the stork binary, or a wrapper that execs it) with test-friendly intervals,
    /// an HTTP port of its own and `args`.
    pub fn spawn(cluster: &TestCluster, mut program: Command, args: &[String]) -> Self {
        let port = testenv::process::free_port().expect("free port");
        let log = cluster.dir().join(format!("logs/stork-{port}.log"));
        program
            .arg(format!("--http-address=127.0.0.1:{port}"))
            .args(["--pair-revalidate-interval=2s", "--pair-retry-interval=1s", "--leader-elect-lease-seconds=3"])
            .args(args)
            .env("RUST_LOG", "info,stork=debug");
        let proc = Proc::spawn("stork", program, &log, Lifetime::WithParent).expect("start stork");
        Self { proc, http: format!("127.0.0.1:{port}") }
    }

    /// Runs the controller as a pod would: `args` exactly as given (plus an HTTP port of its own), the
    /// token of ServiceAccount `namespace/service_account` mounted where Kubernetes mounts it, the
    /// `KUBERNETES_SERVICE_*` environment, and no kubeconfig. A private mount namespace puts the token at
    /// /var/run/secrets/kubernetes.io/serviceaccount for this process only.
    pub fn in_cluster(
        cluster: &TestCluster,
        namespace: &str,
        service_account: &str,
        pod: &str,
        args: &[String],
    ) -> Self {
        let (ok, token) = kubectl(cluster, &["create", "token", service_account, "-n", namespace, "--duration=1h"]);
        assert!(ok, "{token}");
        let sa_dir = cluster.dir().join(format!("serviceaccount-{pod}"));
        std::fs::create_dir_all(&sa_dir).expect("dir");
        write_file(&sa_dir, "token", token.trim());
        write_file(&sa_dir, "ca.crt", &cluster.pki().serving_ca_pem);
        write_file(&sa_dir, "namespace", namespace);
        let port = cluster.server_url().rsplit(':').next().expect("port").to_string();
        let mut wrapper = Command::new("unshare");
        wrapper
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount -t tmpfs none /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$SA_DIR"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$STORK" "$@""#)
            .arg("stork")
            .env("SA_DIR", &sa_dir)
            .env("STORK", env!("CARGO_BIN_EXE_stork"))
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", &port)
            .env("POD_NAME", pod)
            .env("POD_NAMESPACE", namespace)
            .env_remove("KUBECONFIG")
            .env("HOME", cluster.dir());
        let http_port = testenv::process::free_port().expect("free port");
        let log = cluster.dir().join(format!("logs/stork-{http_port}.log"));
        wrapper.arg(format!("--http-address=127.0.0.1:{http_port}")).args(args).env("RUST_LOG", "info,stork=debug");
        let proc = Proc::spawn("stork", wrapper, &log, Lifetime::WithParent).expect("start stork");
        Self { proc, http: format!("127.0.0.1:{http_port}") }
    }

    /// GET on the controller's HTTP endpoint: (status code, body).
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.http).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.http).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let code = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Some((code, body))
    }

    pub fn log(&self) -> String {
        self.proc.log_tail(60)
    }
}

impl Drop for Stork {
    fn drop(&mut self) {
        self.proc.stop(Duration::from_secs(5));
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// The ClusterPair of Stork's "Pair Clusters" documentation, verbatim (with `options:` aligned to
/// `config:` so that it is YAML, and the placeholder line deleted as the documentation says), with the
/// destination's real server and credentials.
pub fn seed_pair_yaml(destination: &TestCluster, cert_pem: &str, key_pem: &str) -> String {
    format!(
        r#"apiVersion: stork.libopenstorage.org/v1alpha1
kind: ClusterPair
metadata:
    creationTimestamp: null
    name: remotecluster
    namespace: migrationnamespace
spec:
   config:
      clusters:
         kubernetes:
            LocationOfOrigin: /etc/kubernetes/admin.conf
            certificate-authority-data: {ca}
            server: {server}
      contexts:
         kubernetes-admin@kubernetes:
            LocationOfOrigin: /etc/kubernetes/admin.conf
            cluster: kubernetes
            user: kubernetes-admin
      current-context: kubernetes-admin@kubernetes
      preferences: {{}}
      users:
         kubernetes-admin:
            LocationOfOrigin: /etc/kubernetes/admin.conf
            client-certificate-data: {cert}
            client-key-data: {key}
   options:
       mode: DisasterRecovery
status:
  remoteStorageId: ""
  schedulerStatus: ""
  storageStatus: ""
"#,
        ca = b64(&destination.pki().serving_ca_pem),
        server = destination.server_url(),
        cert = b64(cert_pem),
        key = b64(key_pem),
    )
}

/// The seed with the destination's admin credentials.
pub fn seed_with_admin(destination: &TestCluster) -> String {
    seed_pair_yaml(destination, &destination.pki().admin_cert_pem, &destination.pki().admin_key_pem)
}

/// `kubectl create -f -` with `yaml` on stdin: (success, stdout + stderr).
pub fn kubectl_create(cluster: &TestCluster, yaml: &str) -> (bool, String) {
    kubectl_stdin(cluster, &["create", "-f", "-"], yaml)
}

pub fn kubectl_stdin(cluster: &TestCluster, args: &[&str], stdin: &str) -> (bool, String) {
    let out = cluster.kubectl_with_stdin(args, stdin).expect("run kubectl");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

pub fn kubectl(cluster: &TestCluster, args: &[&str]) -> (bool, String) {
    let out = cluster.kubectl().args(args).output().expect("run kubectl");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Waits until the pair's status satisfies `done`, failing with the last status and the controller log.
pub async fn wait_status(
    api: &Api<ClusterPair>,
    name: &str,
    timeout: Duration,
    stork: &Stork,
    done: impl Fn(&ClusterPairStatus) -> bool,
) -> ClusterPairStatus {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Ok(pair) = api.get(name).await
            && let Some(status) = pair.status
        {
            if done(&status) {
                return status;
            }
            last = Some(status);
        }
        if Instant::now() > deadline {
            panic!(
                "ClusterPair {name}: status not reached within {timeout:?}; last: {last:#?}\ncontroller log:\n{}",
                stork.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The message of the SchedulerReady condition.
pub fn scheduler_message(status: &ClusterPairStatus) -> String {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == stork_api::CONDITION_SCHEDULER_READY)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

pub fn storage_message(status: &ClusterPairStatus) -> String {
    status
        .conditions
        .iter()
        .find(|c| c.type_ == stork_api::CONDITION_STORAGE_READY)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

pub fn write_file(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write file");
    path
}

/// `kubectl get <kind> <name> [-n ns] -o json`, or None when absent.
pub fn kget(cluster: &TestCluster, namespace: Option<&str>, kind: &str, name: &str) -> Option<serde_json::Value> {
    let mut args = vec!["get", kind, name, "-o", "json", "--ignore-not-found"];
    if let Some(ns) = namespace {
        args.extend(["-n", ns]);
    }
    let (ok, out) = kubectl(cluster, &args);
    assert!(ok, "kubectl get {kind} {name}: {out}");
    if out.trim().is_empty() { None } else { serde_json::from_str(&out).ok() }
}

/// Creates the seed pair (admin credentials of `destination`) in `namespace` and waits until Ready.
pub async fn ready_pair(source: &TestCluster, destination: &TestCluster, namespace: &str, stork: &Stork) {
    let _ = kubectl(source, &["create", "namespace", namespace]);
    let yaml =
        seed_with_admin(destination).replace("namespace: migrationnamespace", &format!("namespace: {namespace}"));
    let (ok, out) = kubectl_create(source, &yaml);
    assert!(ok, "{out}");
    let pairs: Api<ClusterPair> = Api::namespaced(source.client(), namespace);
    wait_status(&pairs, "remotecluster", Duration::from_secs(30), stork, |s| {
        s.scheduler_status == stork_api::ClusterPairStatusType::Ready
    })
    .await;
}

/// Creates a Migration from `spec_yaml` (the body under `spec:`) and waits until it is Final.
pub async fn migrate(
    source: &TestCluster,
    namespace: &str,
    name: &str,
    spec_yaml: &str,
    stork: &Stork,
) -> stork_api::MigrationStatus {
    let yaml = format!(
        "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec_yaml}\n"
    );
    let (ok, out) = kubectl_create(source, &yaml);
    assert!(ok, "{out}");
    wait_migration(source, namespace, name, Duration::from_secs(120), stork).await
}

pub async fn wait_migration(
    source: &TestCluster,
    namespace: &str,
    name: &str,
    timeout: Duration,
    stork: &Stork,
) -> stork_api::MigrationStatus {
    let api: Api<stork_api::Migration> = Api::namespaced(source.client(), namespace);
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(m) = api.get(name).await
            && let Some(status) = m.status
            && status.stage == stork_api::MigrationStage::Final
        {
            return status;
        }
        assert!(Instant::now() < deadline, "Migration {name} not Final within {timeout:?}\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// `Kind/name` → `field` of every object of `kinds` in `namespace` on `cluster`, where `field` reads one
/// value from the object.
pub fn snapshot(
    cluster: &TestCluster,
    namespace: &str,
    kinds: &str,
    field: impl Fn(&serde_json::Value) -> String,
) -> std::collections::BTreeMap<String, String> {
    let (ok, out) = kubectl(cluster, &["get", kinds, "-n", namespace, "-o", "json"]);
    assert!(ok, "{out}");
    let list: serde_json::Value = serde_json::from_str(&out).expect("json");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or_default(),
                    o["metadata"]["name"].as_str().unwrap_or_default()
                ),
                field(o),
            )
        })
        .collect()
}

/// `Kind/name` → resourceVersion. Any write changes it, including a controller's status update.
pub fn versions(cluster: &TestCluster, namespace: &str, kinds: &str) -> std::collections::BTreeMap<String, String> {
    snapshot(cluster, namespace, kinds, |o| o["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string())
}

/// `Kind/name` → the Migration that last wrote the object (every write of ours sets a new name), so
/// "did we write it" is told apart from the destination's controllers updating status.
pub fn written_by(cluster: &TestCluster, namespace: &str, kinds: &str) -> std::collections::BTreeMap<String, String> {
    snapshot(cluster, namespace, kinds, |o| {
        o["metadata"]["annotations"]["stork.libopenstorage.org/migrationName"].as_str().unwrap_or_default().to_string()
    })
}

/// Creates ConfigMaps `cm-0000`.. in `namespace` (which must exist), ten creates at a time.
pub async fn create_configmaps(cluster: &TestCluster, namespace: &str, count: usize) {
    use kube::api::PostParams;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(cluster.client(), namespace);
    let bodies: Vec<k8s_openapi::api::core::v1::ConfigMap> = (0..count)
        .map(|i| {
            serde_json::from_value(
                serde_json::json!({"metadata": {"name": format!("cm-{i:04}")}, "data": {"i": i.to_string()}}),
            )
            .expect("cm")
        })
        .collect();
    futures::future::try_join_all(bodies.chunks(count.div_ceil(10).max(1)).map(|chunk| {
        let cms = cms.clone();
        async move {
            for cm in chunk {
                cms.create(&PostParams::default(), cm).await?;
            }
            Ok::<_, kube::Error>(())
        }
    }))
    .await
    .expect("create source objects");
}

/// Objects of `plural` in `namespace`, counted from one metadata-only list.
pub async fn count(cluster: &TestCluster, namespace: &str, resource: &kube::api::ApiResource) -> usize {
    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(cluster.client(), namespace, resource);
    api.list_metadata(&Default::default()).await.map(|l| l.items.len()).unwrap_or(0)
}

/// Waits until the Migration's status satisfies `done`, failing with the last status and the log.
pub async fn wait_migration_status(
    source: &TestCluster,
    namespace: &str,
    name: &str,
    timeout: Duration,
    stork: &Stork,
    done: impl Fn(&stork_api::MigrationStatus) -> bool,
) -> stork_api::MigrationStatus {
    let api: Api<stork_api::Migration> = Api::namespaced(source.client(), namespace);
    let deadline = Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Ok(m) = api.get(name).await
            && let Some(status) = m.status
        {
            if done(&status) {
                return status;
            }
            last = Some(status);
        }
        assert!(
            Instant::now() < deadline,
            "Migration {name}: not reached within {timeout:?}; last: {last:#?}\n{}",
            stork.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the source's volume binder would do (no controller-manager runs there): the volume's claim
/// reference gets the claim's uid and the claim turns Bound.
pub async fn bind_claim(cluster: &TestCluster, namespace: &str, claim: &str, volume: &str) {
    use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
    use kube::api::{Patch, PatchParams};
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(cluster.client(), namespace);
    let uid = claims.get(claim).await.expect("claim").metadata.uid.expect("uid");
    let volumes: Api<PersistentVolume> = Api::all(cluster.client());
    let patch = serde_json::json!({"spec": {"claimRef": {"uid": uid}}});
    volumes.patch(volume, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("volume");
    let bound = serde_json::json!({"status": {"phase": "Bound"}});
    claims.patch_status(claim, &PatchParams::default(), &Patch::Merge(&bound)).await.expect("claim status");
}

/// A source and a destination that both run kube-controller-manager (for what only its controllers do
/// on a real cluster, like filling aggregated ClusterRoles).
pub async fn clusters_with_controller_managers() -> (TestCluster, TestCluster) {
    use testenv::ClusterOptions;
    let (source, destination) = tokio::join!(
        TestCluster::start_with(ClusterOptions::new("source").with_controller_manager()),
        TestCluster::start_with(ClusterOptions::new("destination").with_controller_manager())
    );
    (source.expect("source"), destination.expect("destination"))
}

/// Waits until `user` may `verb` `resource` (RBAC changes, and aggregation, take a moment).
pub async fn wait_until_allowed(cluster: &TestCluster, user: &str, verb: &str, resource: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !kubectl(cluster, &["auth", "can-i", verb, resource, &format!("--as={user}")]).0 {
        assert!(Instant::now() < deadline, "{user} never got to {verb} {resource}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `kubectl args` that must succeed.
pub fn must(cluster: &TestCluster, args: &[&str]) {
    let (ok, out) = kubectl(cluster, args);
    assert!(ok, "kubectl {args:?}: {out}");
}

/// Waits until the controller's `/readyz` answers 200 with `body` in it (`leading`, `standby`).
pub async fn wait_readyz(stork: &Stork, body: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((200, text)) = stork.get("/readyz")
            && text.contains(body)
        {
            return;
        }
        assert!(Instant::now() < deadline, "/readyz never said {body:?}:\n{}", stork.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
