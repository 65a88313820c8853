//! One cluster: etcd + kube-apiserver (+ kube-controller-manager) on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};

use crate::audit::{self, AuditWrite};
use crate::binaries::Binaries;
use crate::kubeconfig;
use crate::pki::Pki;
use crate::process::{Lifetime, Proc, free_port, log_tail};

/// Each cluster of a process gets its own service CIDR (10.96.0.0/16, 10.97.0.0/16, ...), so an object
/// carrying one cluster's cluster IP is rejected by another, as between real clusters.
static NEXT_CIDR: AtomicU32 = AtomicU32::new(0);

const START_ATTEMPTS: usize = 3;

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub name: String,
    /// Run kube-controller-manager with its default controllers (PV binder, PVC protection, garbage
    /// collector, namespace, service accounts, ...), as a real destination has.
    pub controller_manager: bool,
    /// Install the Stork CRDs and wait until they are served.
    pub install_crds: bool,
    /// Added after testenv's own kube-apiserver flags (so they can override them). Note for load
    /// tests: `--max-requests-inflight` and `--max-mutating-requests-inflight` do not apply to
    /// `system:masters`, the admin of [`TestCluster::client`]; use [`TestCluster::user_kubeconfig`].
    pub extra_apiserver_args: Vec<String>,
    /// etcd syncs its WAL to disk as in production. Off by default: tests do not need durability and
    /// fsync makes every write wait for the disk.
    pub fsync: bool,
    /// Record every write request in an audit log, read by [`TestCluster::audit_writes`].
    pub audit: bool,
    /// Keep everything in this directory instead of a temporary one.
    pub dir: Option<PathBuf>,
    /// Processes outlive this one (for `testcluster up`).
    pub detached: bool,
    pub start_timeout: Duration,
}

impl ClusterOptions {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            controller_manager: false,
            install_crds: true,
            extra_apiserver_args: Vec::new(),
            fsync: false,
            audit: false,
            dir: None,
            detached: false,
            start_timeout: Duration::from_secs(90),
        }
    }

    pub fn with_controller_manager(mut self) -> Self {
        self.controller_manager = true;
        self
    }

    /// For benchmarks that should pay for the disk as a real cluster does.
    pub fn with_fsync(mut self) -> Self {
        self.fsync = true;
        self
    }

    pub fn with_audit(mut self) -> Self {
        self.audit = true;
        self
    }
}

/// The processes of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Etcd,
    ApiServer,
    ControllerManager,
}

enum Workdir {
    Temp(tempfile::TempDir),
    Fixed(PathBuf),
}

impl Workdir {
    fn path(&self) -> &Path {
        match self {
            Self::Temp(t) => t.path(),
            Self::Fixed(p) => p,
        }
    }
}

pub struct TestCluster {
    name: String,
    workdir: Option<Workdir>,
    pki: Pki,
    bins: Binaries,
    lifetime: Lifetime,
    etcd: Option<Proc>,
    apiserver: Option<Proc>,
    controller_manager: Option<Proc>,
    apiserver_args: Vec<String>,
    etcd_url: String,
    server_url: String,
    kubeconfig_yaml: String,
    config: kube::Config,
    audit_log: Option<PathBuf>,
}

/// What a successful start attempt produced.
struct Started {
    etcd: Proc,
    apiserver: Proc,
    apiserver_args: Vec<String>,
    etcd_url: String,
    server_url: String,
    kubeconfig_yaml: String,
    config: kube::Config,
}

impl TestCluster {
    /// A cluster named `name` with the Stork CRDs, without a controller manager.
    pub async fn start(name: &str) -> anyhow::Result<Self> {
        Self::start_with(ClusterOptions::new(name)).await
    }

    /// Source (apiserver only) and destination (with kube-controller-manager), started side by side.
    pub async fn start_pair() -> anyhow::Result<(Self, Self)> {
        let (source, destination) = tokio::join!(
            Self::start("source"),
            Self::start_with(ClusterOptions::new("destination").with_controller_manager())
        );
        Ok((source?, destination?))
    }

    pub async fn start_with(opts: ClusterOptions) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        let bins = Binaries::locate()?;
        let workdir = match &opts.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                Workdir::Fixed(dir.canonicalize()?)
            }
            None => Workdir::Temp(tempfile::Builder::new().prefix(&format!("stork-{}-", opts.name)).tempdir()?),
        };
        let dir = workdir.path().to_path_buf();
        for sub in ["pki", "logs", "etcd"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let pki = Pki::generate(&opts.name)?;
        pki.write(&dir.join("pki"))?;
        let lifetime = if opts.detached { Lifetime::Detached } else { Lifetime::WithParent };
        let cidr = NEXT_CIDR.fetch_add(1, Ordering::Relaxed) % 100;

        let mut last_error = None;
        for attempt in 1..=START_ATTEMPTS {
            match Self::try_start(&opts, &bins, &dir, &pki, lifetime, cidr).await {
                Ok(started) => {
                    let mut cluster = Self {
                        name: opts.name.clone(),
                        workdir: Some(workdir),
                        pki,
                        bins,
                        lifetime,
                        etcd: Some(started.etcd),
                        apiserver: Some(started.apiserver),
                        controller_manager: None,
                        apiserver_args: started.apiserver_args,
                        etcd_url: started.etcd_url,
                        server_url: started.server_url,
                        kubeconfig_yaml: started.kubeconfig_yaml,
                        config: started.config,
                        audit_log: opts.audit.then(|| audit::log_path(&dir)),
                    };
                    cluster.after_ready(&opts).await?;
                    return Ok(cluster);
                }
                Err(e) => {
                    eprintln!("cluster {} start attempt {attempt}/{START_ATTEMPTS} failed: {e:#}", opts.name);
                    last_error = Some(e);
                    let _ = std::fs::remove_dir_all(dir.join("etcd"));
                    std::fs::create_dir_all(dir.join("etcd"))?;
                    // Its events are about the data just thrown away.
                    let _ = std::fs::remove_file(audit::log_path(&dir));
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no start attempt made")))
            .with_context(|| format!("cluster {} did not start; logs in {}", opts.name, dir.join("logs").display()))
    }

    async fn try_start(
        opts: &ClusterOptions,
        bins: &Binaries,
        dir: &Path,
        pki: &Pki,
        lifetime: Lifetime,
        cidr: u32,
    ) -> anyhow::Result<Started> {
        let (etcd_port, peer_port, api_port) = (free_port()?, free_port()?, free_port()?);
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let mut etcd_cmd = Command::new(bins.etcd());
        etcd_cmd.args([
            "--name=c".to_string(),
            format!("--data-dir={}", dir.join("etcd").display()),
            format!("--listen-client-urls={etcd_url}"),
            format!("--advertise-client-urls={etcd_url}"),
            format!("--listen-peer-urls={peer_url}"),
            format!("--initial-advertise-peer-urls={peer_url}"),
            format!("--initial-cluster=c={peer_url}"),
            "--log-level=warn".to_string(),
        ]);
        if !opts.fsync {
            etcd_cmd.arg("--unsafe-no-fsync=true");
        }
        let mut etcd = Proc::spawn("etcd", etcd_cmd, &dir.join("logs/etcd.log"), lifetime)?;
        let deadline = Instant::now() + opts.start_timeout;
        while std::net::TcpStream::connect(("127.0.0.1", etcd_port)).is_err() {
            if let Some(status) = etcd.exited() {
                bail!("etcd exited ({status}):\n{}", etcd.log_tail(20));
            }
            if Instant::now() > deadline {
                etcd.stop(Duration::ZERO);
                bail!("etcd did not listen within {:?}", opts.start_timeout);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let pki_dir = dir.join("pki");
        let server_url = format!("https://127.0.0.1:{api_port}");
        let mut args = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".to_string(),
            format!("--secure-port={api_port}"),
            "--advertise-address=127.0.0.1".to_string(),
            "--endpoint-reconciler-type=none".to_string(),
            format!("--tls-cert-file={}", pki_dir.join("serving.crt").display()),
            format!("--tls-private-key-file={}", pki_dir.join("serving.key").display()),
            format!("--client-ca-file={}", pki_dir.join("client-ca.crt").display()),
            "--authorization-mode=RBAC".to_string(),
            format!("--service-account-issuer={server_url}"),
            format!("--service-account-key-file={}", pki_dir.join("sa.pub").display()),
            format!("--service-account-signing-key-file={}", pki_dir.join("sa.key").display()),
            format!("--service-cluster-ip-range=10.{}.0.0/16", 96 + cidr),
            "--allow-privileged=true".to_string(),
            "--v=1".to_string(),
        ];
        if !opts.controller_manager {
            // Without the controller manager nobody creates the default ServiceAccount.
            args.push("--disable-admission-plugins=ServiceAccount".to_string());
        }
        if opts.audit {
            args.extend(audit::apiserver_args(dir)?);
        }
        args.extend(opts.extra_apiserver_args.iter().cloned());
        let apiserver = Self::spawn_apiserver(bins, dir, &args, lifetime)?;

        let kubeconfig_yaml = kubeconfig::render(
            &opts.name,
            &server_url,
            &pki.serving_ca_pem,
            "admin",
            &pki.admin_cert_pem,
            &pki.admin_key_pem,
        );
        let config = config_from_yaml(&kubeconfig_yaml).await?;
        let mut procs = (etcd, apiserver);
        if let Err(e) = wait_ready(&config, &mut procs.1, &mut procs.0, deadline).await {
            procs.1.stop(Duration::ZERO);
            procs.0.stop(Duration::ZERO);
            return Err(e);
        }
        Ok(Started {
            etcd: procs.0,
            apiserver: procs.1,
            apiserver_args: args,
            etcd_url,
            server_url,
            kubeconfig_yaml,
            config,
        })
    }

    fn spawn_apiserver(bins: &Binaries, dir: &Path, args: &[String], lifetime: Lifetime) -> anyhow::Result<Proc> {
        let mut cmd = Command::new(bins.apiserver());
        cmd.args(args);
        Proc::spawn("kube-apiserver", cmd, &dir.join("logs/kube-apiserver.log"), lifetime)
    }

    async fn after_ready(&mut self, opts: &ClusterOptions) -> anyhow::Result<()> {
        std::fs::write(self.kubeconfig_path(), &self.kubeconfig_yaml)?;
        let client = self.client();
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let deadline = Instant::now() + opts.start_timeout;
        while namespaces.get_opt("default").await?.is_none() {
            if Instant::now() > deadline {
                bail!("namespace default was not created within {:?}", opts.start_timeout);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if opts.install_crds {
            self.install_crds(&stork_api::crds::all()).await?;
        }
        if opts.controller_manager {
            self.start_controller_manager()?;
        }
        self.write_pids()?;
        Ok(())
    }

    fn start_controller_manager(&mut self) -> anyhow::Result<()> {
        let dir = self.dir().to_path_buf();
        let mut cmd = Command::new(self.bins.controller_manager());
        cmd.args([
            format!("--kubeconfig={}", self.kubeconfig_path().display()),
            "--controllers=*".to_string(),
            "--leader-elect=false".to_string(),
            "--secure-port=0".to_string(),
            format!("--service-account-private-key-file={}", dir.join("pki/sa.key").display()),
            format!("--root-ca-file={}", dir.join("pki/serving-ca.crt").display()),
            "--v=1".to_string(),
        ]);
        let proc =
            Proc::spawn("kube-controller-manager", cmd, &dir.join("logs/kube-controller-manager.log"), self.lifetime)?;
        self.controller_manager = Some(proc);
        Ok(())
    }

    /// Server-side applies `crds`, then waits until each is Established and listed by discovery.
    pub async fn install_crds(&self, crds: &[CustomResourceDefinition]) -> anyhow::Result<()> {
        let client = self.client();
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        let params = PatchParams::apply("testenv").force();
        for crd in crds {
            let name = crd.metadata.name.clone().context("CRD without a name")?;
            let mut body = serde_json::to_value(crd)?;
            body["apiVersion"] = "apiextensions.k8s.io/v1".into();
            body["kind"] = "CustomResourceDefinition".into();
            api.patch(&name, &params, &Patch::Apply(body)).await.with_context(|| format!("apply CRD {name}"))?;
        }
        for crd in crds {
            let name = crd.metadata.name.clone().unwrap_or_default();
            tokio::time::timeout(
                Duration::from_secs(30),
                await_condition(api.clone(), &name, conditions::is_crd_established()),
            )
            .await
            .with_context(|| format!("CRD {name} not Established within 30 s"))??;
            let group_version = format!("{}/{}", crd.spec.group, crd.spec.versions[0].name);
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let served = client
                    .list_api_group_resources(&group_version)
                    .await
                    .map(|list| list.resources.iter().any(|r| r.name == crd.spec.names.plural))
                    .unwrap_or(false);
                if served {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("{} not in discovery of {group_version} within 30 s", crd.spec.names.plural);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Directory holding `kubeconfig`, `pki/`, `logs/` and `etcd/`.
    pub fn dir(&self) -> &Path {
        self.workdir.as_ref().map(Workdir::path).unwrap_or_else(|| Path::new("."))
    }

    /// An admin (`system:masters`) client; a new one per call so each test runtime owns its connections.
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(self.config.clone()).unwrap_or_else(|e| panic!("client for {}: {e}", self.name))
    }

    pub fn config(&self) -> &kube::Config {
        &self.config
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.dir().join("kubeconfig")
    }

    pub fn kubeconfig_yaml(&self) -> &str {
        &self.kubeconfig_yaml
    }

    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// The API server's address, for putting a proxy in front of it.
    pub fn apiserver_addr(&self) -> anyhow::Result<SocketAddr> {
        let authority = self.server_url.strip_prefix("https://").unwrap_or(&self.server_url);
        authority.parse().with_context(|| format!("API server address in {}", self.server_url))
    }

    /// etcd's client URL (plain HTTP), e.g. for its `/metrics`.
    pub fn etcd_url(&self) -> &str {
        &self.etcd_url
    }

    /// Compacts etcd's history up to its current revision (as the API server's own compaction does, only
    /// now): a watch resuming from an older resourceVersion then gets `410 Gone`. Returns the revision.
    pub fn compact_etcd(&self) -> anyhow::Result<u64> {
        let header = etcd_post(&self.etcd_url, "/v3/kv/range", r#"{"key":"AA=="}"#)?;
        let revision: u64 = header["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .with_context(|| format!("no revision in etcd's answer {header}"))?;
        etcd_post(&self.etcd_url, "/v3/kv/compaction", &format!(r#"{{"revision":"{revision}","physical":true}}"#))?;
        Ok(revision)
    }

    /// The admin kubeconfig (same CA, same admin certificate) with another server URL, e.g. a proxy's.
    /// The serving certificate is for 127.0.0.1, so TLS still verifies through a proxy on loopback.
    pub fn kubeconfig_via(&self, server_url: &str) -> String {
        kubeconfig::render(
            &self.name,
            server_url,
            &self.pki.serving_ca_pem,
            "admin",
            &self.pki.admin_cert_pem,
            &self.pki.admin_key_pem,
        )
    }

    /// Every completed write request so far, oldest first (also across API server restarts). Needs
    /// [`ClusterOptions::with_audit`].
    pub fn audit_writes(&self) -> anyhow::Result<Vec<AuditWrite>> {
        let Some(path) = &self.audit_log else {
            bail!("cluster {} was started without an audit log; start it with ClusterOptions::with_audit()", self.name);
        };
        audit::read_writes(path)
    }

    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// Kubeconfig (YAML) of a user with a client certificate of this cluster and no roles.
    pub fn user_kubeconfig(&self, user: &str, groups: &[&str]) -> anyhow::Result<String> {
        let cert = self.pki.client_cert(user, groups)?;
        Ok(kubeconfig::render(
            &self.name,
            &self.server_url,
            &self.pki.serving_ca_pem,
            user,
            &cert.cert_pem,
            &cert.key_pem,
        ))
    }

    /// The upstream kubectl of the same version, pointed at this cluster with its own discovery cache.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(self.bins.kubectl());
        cmd.arg(format!("--kubeconfig={}", self.kubeconfig_path().display()))
            .arg(format!("--cache-dir={}", self.dir().join("kubectl-cache").display()));
        cmd
    }

    /// Runs this cluster's kubectl with `args`, writing `stdin` to it (e.g. `create -f -`).
    pub fn kubectl_with_stdin(&self, args: &[&str], stdin: &str) -> std::io::Result<std::process::Output> {
        use std::io::Write as _;
        use std::process::Stdio;
        let mut child =
            self.kubectl().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        child.wait_with_output()
    }

    pub fn binaries(&self) -> &Binaries {
        &self.bins
    }

    fn proc(&self, component: Component) -> Option<&Proc> {
        match component {
            Component::Etcd => self.etcd.as_ref(),
            Component::ApiServer => self.apiserver.as_ref(),
            Component::ControllerManager => self.controller_manager.as_ref(),
        }
    }

    pub fn rss_kib(&self, component: Component) -> Option<u64> {
        self.proc(component).and_then(Proc::rss_kib)
    }

    pub fn log_tail(&self, component: Component, lines: usize) -> String {
        let file = match component {
            Component::Etcd => "etcd.log",
            Component::ApiServer => "kube-apiserver.log",
            Component::ControllerManager => "kube-controller-manager.log",
        };
        log_tail(&self.dir().join("logs").join(file), lines)
    }

    /// Freezes the API server (SIGSTOP): connections hang, as with a destination that stopped answering.
    pub fn pause_apiserver(&self) {
        if let Some(p) = &self.apiserver {
            p.signal(libc::SIGSTOP);
        }
    }

    pub fn resume_apiserver(&self) {
        if let Some(p) = &self.apiserver {
            p.signal(libc::SIGCONT);
        }
    }

    /// Kills the API server: connections are refused, as with a destination that went away.
    pub fn stop_apiserver(&mut self) {
        if let Some(mut p) = self.apiserver.take() {
            p.stop(Duration::ZERO);
        }
    }

    /// Starts the API server again on the same port and data, and waits until it is ready.
    pub async fn start_apiserver(&mut self) -> anyhow::Result<()> {
        if self.apiserver.is_some() {
            return Ok(());
        }
        let mut apiserver = Self::spawn_apiserver(&self.bins, self.dir(), &self.apiserver_args, self.lifetime)?;
        let mut etcd = self.etcd.take().context("etcd is not running")?;
        let result =
            wait_ready(&self.config, &mut apiserver, &mut etcd, Instant::now() + Duration::from_secs(90)).await;
        self.etcd = Some(etcd);
        self.apiserver = Some(apiserver);
        self.write_pids()?;
        result
    }

    fn write_pids(&self) -> anyhow::Result<()> {
        let pids: Vec<String> = [&self.controller_manager, &self.apiserver, &self.etcd]
            .into_iter()
            .flatten()
            .map(|p| p.pid().to_string())
            .collect();
        std::fs::write(self.dir().join("pids"), pids.join("\n") + "\n")?;
        Ok(())
    }

    /// Leaves the processes running and the directory in place (for `testcluster up`); returns the pids.
    pub fn detach(mut self) -> Vec<u32> {
        self.workdir = None;
        [self.controller_manager.take(), self.apiserver.take(), self.etcd.take()]
            .into_iter()
            .flatten()
            .map(Proc::detach)
            .collect()
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for proc in [&mut self.controller_manager, &mut self.apiserver, &mut self.etcd].into_iter().flatten() {
            proc.stop(Duration::ZERO);
        }
        let keep = std::thread::panicking() || std::env::var_os("STORK_TEST_KEEP").is_some();
        if let Some(Workdir::Temp(dir)) = self.workdir.take()
            && keep
        {
            let path = dir.keep();
            eprintln!("cluster {}: kept logs and data in {}", self.name, path.display());
        }
    }
}

async fn config_from_yaml(yaml: &str) -> anyhow::Result<kube::Config> {
    let kubeconfig = Kubeconfig::from_yaml(yaml)?;
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    config.connect_timeout = Some(Duration::from_secs(5));
    config.read_timeout = Some(Duration::from_secs(30));
    Ok(config)
}

/// Polls `/readyz` with admin credentials (anonymous access is forbidden until RBAC is bootstrapped).
async fn wait_ready(
    config: &kube::Config,
    apiserver: &mut Proc,
    etcd: &mut Proc,
    deadline: Instant,
) -> anyhow::Result<()> {
    let client = kube::Client::try_from(config.clone())?;
    let started = Instant::now();
    loop {
        if let Some(status) = apiserver.exited() {
            bail!("kube-apiserver exited ({status}):\n{}", apiserver.log_tail(30));
        }
        if let Some(status) = etcd.exited() {
            bail!("etcd exited ({status}):\n{}", etcd.log_tail(20));
        }
        let request = http::Request::get("/readyz").body(Vec::new())?;
        if let Ok(text) = client.request_text(request).await
            && text.trim() == "ok"
        {
            tracing_ready(started.elapsed());
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("kube-apiserver not ready within {:?}:\n{}", deadline - started, apiserver.log_tail(30));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn tracing_ready(elapsed: Duration) {
    if std::env::var_os("STORK_TEST_TIMINGS").is_some() {
        eprintln!("kube-apiserver ready after {:.2} s", elapsed.as_secs_f64());
    }
}

/// Creates a namespace (ignoring AlreadyExists).
pub async fn ensure_namespace(client: &kube::Client, name: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))?;
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// One POST to etcd's JSON gateway (plain HTTP on loopback), its answer parsed.
fn etcd_post(etcd_url: &str, path: &str, body: &str) -> anyhow::Result<serde_json::Value> {
    use std::io::{Read, Write};
    let authority = etcd_url.strip_prefix("http://").unwrap_or(etcd_url);
    let mut stream =
        std::net::TcpStream::connect(authority).with_context(|| format!("connecting to etcd at {etcd_url}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, payload) = answer.split_once("\r\n\r\n").with_context(|| format!("etcd answered {answer:?}"))?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("etcd {path}: {head}");
    }
    // Chunked or not, the JSON object is the payload's outermost braces.
    let json = payload.find('{').zip(payload.rfind('}')).map(|(a, b)| &payload[a..=b]).unwrap_or(payload);
    serde_json::from_str(json).with_context(|| format!("etcd {path} answered {payload:?}"))
}
