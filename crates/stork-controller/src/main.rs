//! `stork`: the stork-rs controller. Runs in-cluster or out-of-cluster (`--kubeconfig`), serves
//! `/metrics`, `/healthz` and `/readyz`, and elects a leader through a Lease.

use std::process::ExitCode;

use clap::Parser;
use stork_controller::args::Args;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    stork_controller::init_tracing(&args.log_format);
    let _ = rustls::crypto::ring::default_provider().install_default();
    match stork_controller::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
