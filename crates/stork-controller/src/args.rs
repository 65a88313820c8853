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
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub pair_revalidate_interval: Duration,

    /// How often a ClusterPair in Error is retried, e.g. `10s`.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub pair_retry_interval: Duration,

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

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text")]
    pub log_format: String,
}

/// Parses `90`, `90s`, `5m`, `1h`, `1m30s`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration {text:?}: expected e.g. 30s, 5m, 1h"));
        }
        let value: u64 = rest[..digits].parse().map_err(|e| format!("invalid duration {text:?}: {e}"))?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value * 60),
            "h" => Duration::from_secs(value * 3600),
            other => {
                return Err(format!("invalid duration unit {other:?} in {text:?}: use ms, s, m or h"));
            }
        };
        total += unit;
        rest = &rest[unit_len..];
    }
    if total.is_zero() {
        return Err(format!("duration {text:?} must be greater than zero"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("").is_err());
    }
}
