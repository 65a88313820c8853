//! `testcluster up NAME... [--dir .clusters]` starts local clusters that keep running after it exits and
//! writes `<dir>/<name>/kubeconfig`; `testcluster down [--dir .clusters]` stops them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use testenv::{ClusterOptions, TestCluster};

#[derive(Parser)]
#[command(about = "Local Kubernetes control planes (etcd + kube-apiserver + kube-controller-manager) on loopback")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start clusters and leave them running.
    Up {
        /// Cluster names, e.g. `source destination`.
        #[arg(required = true)]
        names: Vec<String>,
        /// Where each cluster keeps its kubeconfig, certificates, data and logs.
        #[arg(long, default_value = ".clusters")]
        dir: PathBuf,
        /// Do not run kube-controller-manager.
        #[arg(long)]
        no_controller_manager: bool,
        /// Also install the Stork CRDs (deploy/crds).
        #[arg(long)]
        with_crds: bool,
    },
    /// Stop the clusters recorded under `--dir` and remove their data.
    Down {
        #[arg(long, default_value = ".clusters")]
        dir: PathBuf,
        /// Keep the directories (logs, data) after stopping.
        #[arg(long)]
        keep: bool,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Up { names, dir, no_controller_manager, with_crds } => {
            up(&names, &dir, !no_controller_manager, with_crds).await
        }
        Cmd::Down { dir, keep } => down(&dir, keep),
    }
}

async fn up(names: &[String], dir: &Path, controller_manager: bool, with_crds: bool) -> anyhow::Result<()> {
    for name in names {
        let cluster_dir = dir.join(name);
        if cluster_dir.join("pids").exists() {
            anyhow::bail!(
                "{} already holds a running cluster; stop it first with: testcluster down --dir {}",
                cluster_dir.display(),
                dir.display()
            );
        }
        let mut opts = ClusterOptions::new(name);
        opts.controller_manager = controller_manager;
        opts.install_crds = with_crds;
        opts.detached = true;
        opts.dir = Some(cluster_dir.clone());
        let cluster = TestCluster::start_with(opts).await.with_context(|| format!("start cluster {name}"))?;
        let kubeconfig = cluster.kubeconfig_path();
        let server = cluster.server_url().to_string();
        cluster.detach();
        println!("cluster {name}: {server}  kubeconfig {}", kubeconfig.display());
    }
    Ok(())
}

fn down(dir: &Path, keep: bool) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("no clusters under {}", dir.display());
        return Ok(());
    };
    for entry in entries.flatten() {
        let pids_file = entry.path().join("pids");
        let Ok(pids) = std::fs::read_to_string(&pids_file) else {
            continue;
        };
        for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            stop_pid(pid);
        }
        std::fs::remove_file(&pids_file).ok();
        println!("stopped cluster {}", entry.file_name().to_string_lossy());
        if !keep {
            std::fs::remove_dir_all(entry.path()).with_context(|| format!("remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// SIGTERM, then SIGKILL after 5 s. Only pids this tool recorded are signalled.
fn stop_pid(pid: i32) {
    // SAFETY: kill(2) with a pid read from our own pids file; signal 0 only probes.
    let alive = |pid| unsafe { libc::kill(pid, 0) == 0 };
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    for _ in 0..100 {
        if !alive(pid) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}
