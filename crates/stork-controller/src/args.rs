//! Command-line flags of the `stork` controller.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "stork",
    version,
    about = "stork-rs controller: pairs clusters and migrates applications between them"
)]
pub struct Args {
    /// Kubeconfig of the cluster to run against (default: in-cluster service account, then $KUBECONFIG,
    /// then ~/.kube/config).
    #[arg(long, env = "STORK_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Context of --kubeconfig to use (default: its current-context).
    #[arg(long)]
    pub context: Option<String>,

    /// Address of the HTTP endpoint serving /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:9090", env = "STORK_HTTP_ADDRESS")]
    pub http_address: SocketAddr,

    /// Elect a leader through a coordination.k8s.io Lease so that only one replica writes.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub leader_elect: bool,

    /// Namespace of the leader-election Lease (default: $POD_NAMESPACE, else kube-system).
    #[arg(long, env = "POD_NAMESPACE", default_value = "kube-system")]
    pub leader_elect_namespace: String,

    /// Name of the leader-election Lease.
    #[arg(long, default_value = "stork-rs-controller")]
    pub leader_elect_lease: String,

    /// Seconds a leader's Lease stays valid without renewal.
    #[arg(long, default_value_t = 15)]
    pub leader_elect_lease_seconds: u64,

    /// How often a Ready ClusterPair's destination is checked again, e.g. `60s`, `5m`.
    #[arg(long, default_value = "60s", value_parser = parse_positive)]
    pub pair_revalidate_interval: Duration,

    /// How often a ClusterPair in Error is retried, e.g. `10s`.
    #[arg(long, default_value = "10s", value_parser = parse_positive)]
    pub pair_retry_interval: Duration,

    /// Deadline of every request to either cluster: a destination that accepts connections but never
    /// answers, or trickles bytes, fails the request instead of holding a migration forever.
    #[arg(long, default_value = "60s", value_parser = parse_positive)]
    pub request_timeout: Duration,

    /// Deadline of one migration run; a run that passes it is tried again (incrementally) like one whose
    /// cluster was unreachable.
    #[arg(long, default_value = "30m", value_parser = parse_positive)]
    pub migration_timeout: Duration,

    /// How long a Migration whose runs fail for reasons that may pass (a cluster unreachable, busy or
    /// timing out) is tried again, with capped exponential backoff, before it ends Failed.
    #[arg(long, default_value = "5m", value_parser = parse_positive)]
    pub migration_retry_timeout: Duration,

    /// Namespace whose Migrations may migrate other namespaces (Stork's --admin-namespace).
    #[arg(long, default_value = "kube-system")]
    pub admin_namespace: String,

    /// Objects applied at once on a destination during a migration.
    #[arg(long, default_value_t = 32)]
    pub migration_concurrency: usize,

    /// Storage driver used for storage pairing options (`token`, `ip`, ...). None is built in yet, so
    /// pairs with storage options end in Error saying so; pairs without them are `NotProvided`.
    #[arg(long)]
    pub storage_driver: Option<String>,

    /// Time zone the schedule policies' times are read in, e.g. `Europe/Berlin` or `UTC` (default: the
    /// controller's local zone, as Stork).
    #[arg(long, env = "STORK_SCHEDULE_TIME_ZONE")]
    pub schedule_time_zone: Option<String>,

    /// How often a MigrationSchedule is looked at again at the latest.
    #[arg(long, default_value = "60s", value_parser = parse_positive)]
    pub schedule_resync_interval: Duration,

    /// How long one stage of a failover or failback may wait (for pods to stop, for the last-mile
    /// migration, for a busy or unreachable cluster) before it fails and what was done is rolled back.
    #[arg(long, default_value = "10m", value_parser = parse_positive)]
    pub action_stage_timeout: Duration,

    /// Tests only: read "now" for schedules from this file (an RFC 3339 time), instead of the clock.
    #[arg(long, hide = true)]
    pub fake_clock_file: Option<PathBuf>,

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text")]
    pub log_format: String,
}

use stork_kube::duration::parse_positive;

impl Args {
    /// The zone of `--schedule-time-zone`, or the system's.
    pub fn schedule_time_zone(&self) -> anyhow::Result<jiff::tz::TimeZone> {
        match &self.schedule_time_zone {
            Some(name) => jiff::tz::TimeZone::get(name)
                .map_err(|e| anyhow::anyhow!("--schedule-time-zone {name:?} is not a time zone: {e}")),
            None => Ok(jiff::tz::TimeZone::system()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_flags_take_go_durations() {
        let args = Args::try_parse_from(["stork", "--pair-revalidate-interval=1m30s", "--request-timeout=2.5s"])
            .expect("valid flags");
        assert_eq!(args.pair_revalidate_interval, Duration::from_secs(90));
        assert_eq!(args.request_timeout, Duration::from_millis(2500));
        assert_eq!(args.migration_retry_timeout, Duration::from_secs(300));
        for bad in ["--pair-retry-interval=0s", "--pair-retry-interval=10", "--request-timeout=5x"] {
            assert!(Args::try_parse_from(["stork", bad]).is_err(), "{bad}");
        }
    }
}
