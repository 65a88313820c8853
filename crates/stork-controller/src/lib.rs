//! The stork-rs controller as a library: the ClusterPair, Migration, MigrationSchedule and Action
//! controllers, the runtime around them (flags, HTTP endpoints, metrics, leader election), and [`run`],
//! which the `stork` binary calls.
//! Reconcilers can be driven in-process by tests as well as through the binary.

pub mod action;
pub mod args;
pub mod clock;
pub mod clusterpair;
pub mod context;
pub mod error_kind;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod migration;
pub mod remote;
pub mod schedule;
pub mod storage;
pub mod transformation;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::events::{Recorder, Reporter};
use stork_api::ClusterPair;
use tokio::sync::watch;

use crate::args::Args;
use crate::context::{Context, Settings};
use crate::http::{Phase, Readiness};
use crate::leader::{Leadership, LeaseSettings};
use crate::metrics::Metrics;
use crate::remote::RemoteClients;

/// Logs to stderr, as text or JSON (`--log-format`); `RUST_LOG` filters.
pub fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube_lease_manager=warn"));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the controller until a signal, or until it loses the leader Lease.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let config = load_config(&args).await?;
    let client = build_client(config.clone()).await?;
    // Leader election must notice a cut-off API server within the Lease's duration, not after the
    // request deadline migrations use.
    let lease_client = {
        let mut config = config;
        let bound = Some(Duration::from_secs((args.leader_elect_lease_seconds / 3).max(2)));
        (config.connect_timeout, config.read_timeout, config.write_timeout) = (bound, bound, bound);
        kube::Client::try_from(config).context("cannot build a Kubernetes client")?
    };
    let storage = storage::driver_by_name(args.storage_driver.as_deref()).map_err(anyhow::Error::msg)?;
    let metrics = Metrics::new();
    let readiness = Arc::new(Readiness::default());
    let http = tokio::spawn(http::serve(args.http_address, metrics.clone(), readiness.clone()));

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });

    wait_for_crds(&client, stop_rx.clone()).await?;
    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: Recorder::new(client.clone(), Reporter { controller: "stork-rs".into(), instance: Some(identity()) }),
        metrics: metrics.clone(),
        remotes: RemoteClients::default(),
        storage,
        settings: Settings {
            pair_revalidate_interval: args.pair_revalidate_interval,
            pair_retry_interval: args.pair_retry_interval,
            admin_namespace: args.admin_namespace.clone(),
            controller_namespace: args.leader_elect_namespace.clone(),
            migration_concurrency: args.migration_concurrency,
            request_timeout: args.request_timeout,
            migration_run_timeout: args.migration_timeout,
            migration_retry_timeout: args.migration_retry_timeout,
            schedule_time_zone: args.schedule_time_zone()?,
            schedule_resync_interval: args.schedule_resync_interval,
            action_stage_timeout: args.action_stage_timeout,
        },
        source: stork_kube::Cluster::new(client.clone(), "source", args.request_timeout),
        memory: Default::default(),
        clock: clock::Clock::new(args.fake_clock_file.clone()),
        fence: if args.leader_elect { stork_migrate::Fence::armed() } else { stork_migrate::Fence::default() },
        continuous: Default::default(),
    });

    let controllers = async {
        if !args.leader_elect {
            // The only replica, so the one writing: alerts on "no leader" see it.
            metrics.set_leader(true);
            readiness.set(Phase::Starting);
            run_controllers(ctx.clone(), readiness.clone(), stopped(stop_rx.clone())).await;
            return Ok(());
        }
        let settings = LeaseSettings {
            namespace: args.leader_elect_namespace.clone(),
            name: args.leader_elect_lease.clone(),
            identity: identity(),
            lease_seconds: args.leader_elect_lease_seconds,
        };
        let mut leadership = Leadership::compete(lease_client.clone(), &settings).await?;
        readiness.set(Phase::Standby);
        tracing::info!(lease = %format!("{}/{}", settings.namespace, settings.name), identity = %settings.identity, "waiting to lead");
        tokio::select! {
            acquired = leadership.acquired() => acquired?,
            _ = stopped(stop_rx.clone()) => {
                leadership.release().await;
                return Ok(());
            }
        }
        tracing::info!("became leader");
        metrics.set_leader(true);
        Leadership::publish_version(lease_client.clone(), &settings).await;
        let lost = leadership.lost_signal();
        let guard = Leadership::guard(lease_client.clone(), &settings, ctx.fence.clone());
        let stop = stopped(stop_rx.clone());
        // On loss the controllers are dropped where they are, running reconciles included: waiting for
        // them would let a replica that no longer leads keep writing while another one does.
        let lost_because = tokio::select! {
            () = run_controllers(ctx.clone(), readiness.clone(), stop) => None,
            () = lost => Some("the Lease was taken over or could not be renewed".to_string()),
            why = guard => Some(why),
        };
        metrics.set_leader(false);
        if let Some(why) = lost_because.or_else(|| (!*stop_rx.borrow() && !leadership.is_leading()).then(String::new)) {
            ctx.fence.revoke();
            tracing::error!(reason = %why, "lost the leader Lease: controllers stopped, exiting");
            anyhow::bail!(
                "lost the leader Lease ({why}); stopped at once so that only one replica writes (it restarts as a follower)"
            );
        }
        leadership.release().await;
        Ok(())
    };
    let result: anyhow::Result<()> = tokio::select! {
        result = controllers => result,
        served = http => match served {
            Ok(Ok(())) => Err(anyhow::anyhow!("HTTP endpoint stopped")),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(anyhow::anyhow!("HTTP endpoint failed: {e}")),
        },
    };
    readiness.set(Phase::ShuttingDown);
    result
}

async fn run_controllers(
    ctx: Arc<Context>,
    readiness: Arc<Readiness>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let ready = readiness.clone();
    // Stork's default policies exist once a controller leads (never overwriting a user's edits).
    if let Err(e) = schedule::ensure_defaults(&ctx.source).await {
        tracing::warn!(error = %e, "cannot create the default schedule policies");
    }
    // The controllers stop on the same signal.
    let (stop_tx, stop_rx) = watch::channel(false);
    let forward = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    tokio::join!(
        clusterpair::run(ctx.clone(), stopped(stop_rx.clone()), move || {
            tracing::info!("ClusterPair cache synced; controllers running");
            ready.set(Phase::Leading);
        }),
        migration::controller::run(ctx.clone(), stopped(stop_rx.clone())),
        schedule::controller::run(ctx.clone(), stopped(stop_rx.clone())),
        action::controller::run(ctx.clone(), stopped(stop_rx.clone())),
        transformation::controller::run(ctx, stopped(stop_rx)),
    );
    forward.abort();
}

async fn load_config(args: &Args) -> anyhow::Result<kube::Config> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            let options = KubeConfigOptions { context: args.context.clone(), ..Default::default() };
            kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .with_context(|| format!("kubeconfig {} cannot be used", path.display()))?
        }
        None if args.context.is_some() => {
            let options = KubeConfigOptions { context: args.context.clone(), ..Default::default() };
            kube::Config::from_kubeconfig(&options).await.context("cannot load the local kubeconfig")?
        }
        None => kube::Config::infer().await.context(
            "no cluster to run against: not in a pod and no kubeconfig found; pass --kubeconfig or set KUBECONFIG",
        )?,
    };
    Ok(config)
}

async fn build_client(config: kube::Config) -> anyhow::Result<kube::Client> {
    let server = config.cluster_url.clone();
    let client = kube::Client::try_from(config).context("cannot build a Kubernetes client")?;
    let version = client
        .apiserver_version()
        .await
        .with_context(|| format!("cannot reach the Kubernetes API server at {server}"))?;
    tracing::info!(%server, version = %version.git_version, "connected");
    Ok(client)
}

/// Waits (instead of crashing) until the ClusterPair CRD is served, telling the user how to install it.
async fn wait_for_crds(client: &kube::Client, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let api: Api<ClusterPair> = Api::all(client.clone());
    let mut warned = false;
    loop {
        match api.list(&ListParams::default().limit(1)).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => {
                if !warned {
                    tracing::warn!(
                        "the Stork CRDs are not installed; waiting for them (kubectl apply -f deploy/crds/)"
                    );
                    warned = true;
                }
            }
            Err(e) => {
                tracing::warn!(error = %stork_kube::error_chain(&e), "cannot list ClusterPairs; retrying")
            }
        }
        if *stop.borrow() {
            anyhow::bail!("stopped before the Stork CRDs were installed");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// `$POD_NAME`, else `<hostname>-<pid>`: unique among replicas.
fn identity() -> String {
    std::env::var("POD_NAME").unwrap_or_else(|_| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "stork".into());
        format!("{}-{}", host.trim(), std::process::id())
    })
}
