//! Helpers shared by the cluster-backed storkctl tests: run storkctl as a process against a kubeconfig
//! and compute time cells independently of storkctl.

// Each test binary uses its own subset.
#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;
use stork_api::{ClusterPair, ClusterPairSpec, KubeCluster, KubeContext, PairKubeconfig};

/// A zone with an abbreviation that differs from UTC, so a wrong zone cannot pass.
pub const TZ: &str = "America/Los_Angeles";

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn storkctl<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(kubeconfig: &Path, args: &[S]) -> Run {
    let out = Command::cargo_bin("storkctl")
        .expect("storkctl binary")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("TZ", TZ)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run storkctl");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn ok<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(kubeconfig: &Path, args: &[S]) -> String {
    let r = storkctl(kubeconfig, args);
    assert_eq!(r.code, Some(0), "storkctl {args:?} failed: {}", r.stderr);
    assert_eq!(r.stderr, "", "storkctl {args:?} wrote to stderr");
    r.stdout
}

pub fn fails<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(kubeconfig: &Path, args: &[S], stderr: &str) {
    let r = storkctl(kubeconfig, args);
    assert_eq!(r.stderr, stderr, "stderr of storkctl {args:?}");
    assert_eq!(r.code, Some(1), "exit code of storkctl {args:?}");
    assert_eq!(r.stdout, "", "stdout of storkctl {args:?}");
}

/// The RFC822 cell (`02 Jan 06 15:04 MST` in [`TZ`]) of a Unix time, computed by coreutils `date`
/// (an independent formatter).
pub fn rfc822_by_date(seconds: i64) -> String {
    let out = std::process::Command::new("date")
        .arg("-d")
        .arg(format!("@{seconds}"))
        .arg("+%d %b %y %H:%M %Z")
        .env("TZ", TZ)
        .env("LC_ALL", "C")
        .output()
        .expect("date");
    assert!(out.status.success(), "date failed");
    let cell = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    assert_eq!(cell.len(), 19, "RFC822 with a 3-letter zone: {cell:?}");
    cell
}

/// A ClusterPair whose kubeconfig points nowhere: enough for storkctl, which never contacts the remote.
pub fn minimal_pair(name: &str) -> ClusterPair {
    let mut config = PairKubeconfig { current_context: "ctx".into(), ..Default::default() };
    config.clusters.insert("c".into(), KubeCluster { server: "https://127.0.0.1:1".into(), ..Default::default() });
    config.contexts.insert("ctx".into(), KubeContext { cluster: "c".into(), ..Default::default() });
    ClusterPair::new(name, ClusterPairSpec { config, ..Default::default() })
}
