//! storkctl: Stork's command-line client (ClusterPair, Migration, MigrationSchedule and SchedulePolicy
//! commands, activation, failover and failback), output-compatible with Stork's storkctl.

mod action_status;
mod activate;
mod cli;
mod client;
mod clusterpair;
mod discovery;
mod dryrun;
mod failover;
mod migration;
mod objects;
mod policy;
mod printer;
mod remote;
mod schedule;
mod validation;
mod version;

use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;

use clap::Parser;

use stork_migrate::core::activate::Direction;

use crate::cli::{
    ActivateResource, Cli, Command, CreateResource, DeactivateResource, DeleteResource, GenerateResource, GetResource,
    PerformResource, ResumeResource, SuspendResource,
};

fn main() -> ExitCode {
    // kube's TLS needs a process-wide rustls provider; two enabled providers would make rustls panic.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // kubectl/cobra exit 1 on usage errors (clap would use 2); help and version are successes.
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    let stdout = std::io::stdout();
    // `--wait` shows a live progress line to a person, and Stork's plain lines to pipes and files.
    let interactive = stdout.is_terminal();
    let mut out = stdout.lock();
    let result = run(&cli, &mut out, interactive);
    let flushed = out.flush();
    match result.and(flushed.map_err(anyhow::Error::from)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", render_error(&e).trim_end_matches('\n'));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli, out: &mut dyn Write, interactive: bool) -> anyhow::Result<()> {
    let global = &cli.global;
    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build();
    match &cli.command {
        Command::Generate(GenerateResource::ClusterPair(args)) => clusterpair::generate(global, args, out),
        Command::Create(CreateResource::ClusterPair(args)) => {
            runtime()?.block_on(clusterpair::create(global, args, out))
        }
        Command::Get(GetResource::ClusterPair(args)) => runtime()?.block_on(clusterpair::get(global, args, out)),
        Command::Delete(DeleteResource::ClusterPair(args)) => {
            runtime()?.block_on(clusterpair::delete(global, args, out))
        }
        Command::Create(CreateResource::Migration(args)) => {
            runtime()?.block_on(migration::create(global, args, out, interactive))
        }
        Command::Get(GetResource::Migration(args)) => runtime()?.block_on(migration::get(global, args, out)),
        Command::Delete(DeleteResource::Migration(args)) => runtime()?.block_on(migration::delete(global, args, out)),
        Command::Create(CreateResource::MigrationSchedule(args)) => {
            runtime()?.block_on(schedule::create(global, args, out))
        }
        Command::Get(GetResource::MigrationSchedule(args)) => runtime()?.block_on(schedule::get(global, args, out)),
        Command::Delete(DeleteResource::MigrationSchedule(args)) => {
            runtime()?.block_on(schedule::delete(global, args, out))
        }
        Command::Suspend(SuspendResource::MigrationSchedule(args)) => {
            runtime()?.block_on(schedule::set_suspended(global, args, out, true))
        }
        Command::Resume(ResumeResource::MigrationSchedule(args)) => {
            runtime()?.block_on(schedule::set_suspended(global, args, out, false))
        }
        Command::Create(CreateResource::SchedulePolicy(args)) => runtime()?.block_on(policy::create(global, args, out)),
        Command::Get(GetResource::SchedulePolicy(args)) => runtime()?.block_on(policy::get(global, args, out)),
        Command::Delete(DeleteResource::SchedulePolicy(args)) => runtime()?.block_on(policy::delete(global, args, out)),
        Command::Activate(ActivateResource::Migration(args)) => {
            runtime()?.block_on(activate::run(global, args, Direction::Activate, out, &mut std::io::stderr()))
        }
        Command::Deactivate(DeactivateResource::Migration(args)) => {
            runtime()?.block_on(activate::run(global, args, Direction::Deactivate, out, &mut std::io::stderr()))
        }
        Command::Perform(PerformResource::Failover(args)) => runtime()?.block_on(failover::perform_failover(
            global,
            args,
            out,
            &mut std::io::stderr(),
            stderr_is_terminal(),
        )),
        Command::Perform(PerformResource::Failback(args)) => runtime()?.block_on(failover::perform_failback(
            global,
            args,
            out,
            &mut std::io::stderr(),
            stderr_is_terminal(),
        )),
        Command::Get(GetResource::Failover(args)) => {
            runtime()?.block_on(action_status::get(global, args, "failover", out))
        }
        Command::Get(GetResource::Failback(args)) => {
            runtime()?.block_on(action_status::get(global, args, "failback", out))
        }
        Command::Completion(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut command, "storkctl", out);
            Ok(())
        }
        Command::Version(args) => runtime()?.block_on(version::run(global, args, out)),
    }
}

fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// kubectl's `CheckErr` text: API errors as `Error from server (Reason): message`, everything else as
/// `error: message`. Context added on the way up is kept in front of the API error.
fn render_error(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        if let Some(kube::Error::Api(status)) = cause.downcast_ref::<kube::Error>() {
            let api = api_message(status);
            if parts.is_empty() {
                return api;
            }
            parts.push(api);
            break;
        }
        // thiserror messages often embed their source; print each text once.
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    let message = parts.join(": ");
    if message.starts_with("error: ") { message } else { format!("error: {message}") }
}

fn api_message(status: &kube::core::Status) -> String {
    match status.reason.as_str() {
        "Unauthorized" => format!("error: You must be logged in to the server ({})", status.message),
        "" => format!("Error from server: {}", status.message),
        reason => format!("Error from server ({reason}): {}", status.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    fn not_found() -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 404, "reason": "NotFound",
            "message": "clusterpairs.stork.libopenstorage.org \"pair1\" not found",
        }))
        .expect("status");
        kube::Error::Api(Box::new(status))
    }

    #[test]
    fn api_errors_read_like_kubectl() {
        assert_eq!(
            render_error(&not_found().into()),
            "Error from server (NotFound): clusterpairs.stork.libopenstorage.org \"pair1\" not found"
        );
        let wrapped = Err::<(), _>(not_found()).context("on the destination cluster").expect_err("error");
        assert_eq!(
            render_error(&wrapped),
            "error: on the destination cluster: Error from server (NotFound): \
             clusterpairs.stork.libopenstorage.org \"pair1\" not found"
        );
    }

    #[test]
    fn plain_errors_get_one_prefix_and_no_repeated_causes() {
        assert_eq!(render_error(&anyhow::anyhow!("boom")), "error: boom");
        assert_eq!(render_error(&anyhow::anyhow!("error: boom")), "error: boom");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = clusterpair::ClusterPairError::ReadKubeFile { which: "source", path: "a".into(), source: io };
        assert_eq!(render_error(&e.into()), "error: unable to read source kubeconfig file a: gone");
    }
}
