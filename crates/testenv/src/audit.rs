//! The API server's audit log, reduced to the writes: which client changed what, so that tests can
//! assert what a controller wrote (or that it wrote nothing).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

/// Only mutating verbs, at `Metadata` (no bodies, so the log stays small and cheap to write), and only
/// once per request (`RequestReceived` would log each request twice).
const POLICY: &str = "\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - RequestReceived
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
";

/// Where the API server of the cluster in `dir` writes its audit log.
pub(crate) fn log_path(dir: &Path) -> PathBuf {
    dir.join("logs/audit.log")
}

/// Writes the policy into `dir` and returns the kube-apiserver flags that use it.
pub(crate) fn apiserver_args(dir: &Path) -> anyhow::Result<Vec<String>> {
    let policy = dir.join("audit-policy.yaml");
    std::fs::write(&policy, POLICY).with_context(|| format!("write {}", policy.display()))?;
    Ok(vec![
        format!("--audit-policy-file={}", policy.display()),
        format!("--audit-log-path={}", log_path(dir).display()),
        "--audit-log-format=json".to_string(),
        // The event is written before the response is sent, so a test reading the log right after a
        // request sees it.
        "--audit-log-mode=blocking".to_string(),
        // 0 would mean the 100 MB default of the rotating writer; rotated-away events would be missed.
        "--audit-log-maxsize=1048576".to_string(),
        "--audit-log-maxbackup=0".to_string(),
        "--audit-log-maxage=0".to_string(),
    ])
}

/// One completed write request, from the cluster's audit log.
///
/// In testenv the kube-controller-manager authenticates with the same admin certificate as the tests,
/// so `user` cannot tell them apart: use `user_agent` instead. The controller manager's starts with
/// `kube-controller-manager/`; kube-rs 5 clients send none (empty here) unless their `kube::Config`
/// adds a `User-Agent` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditWrite {
    pub user: String,
    pub user_agent: String,
    /// `create`, `update`, `patch` (server-side apply too), `delete` or `deletecollection`.
    pub verb: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// HTTP status of the response (0 if the server recorded none).
    pub code: u16,
    /// Empty for the core group.
    pub api_group: String,
}

/// The writes recorded in the JSON-lines audit log at `path` (none yet if it does not exist).
pub(crate) fn read_writes(path: &Path) -> anyhow::Result<Vec<AuditWrite>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
    };
    parse(&text).with_context(|| format!("parse audit log {}", path.display()))
}

fn parse(text: &str) -> anyhow::Result<Vec<AuditWrite>> {
    // The server may be writing the next event while we read: a last line without its newline is
    // incomplete, not corrupt.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    let mut writes = Vec::new();
    for (index, line) in complete.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).with_context(|| format!("line {}", index + 1))?;
        if event["stage"] == "ResponseComplete" {
            writes.push(from_event(&event));
        }
    }
    Ok(writes)
}

fn from_event(event: &Value) -> AuditWrite {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let object = &event["objectRef"];
    AuditWrite {
        user: text(&event["user"]["username"]),
        user_agent: text(&event["userAgent"]),
        verb: text(&event["verb"]),
        resource: text(&object["resource"]),
        subresource: text(&object["subresource"]),
        namespace: text(&object["namespace"]),
        name: text(&object["name"]),
        code: event["responseStatus"]["code"].as_u64().and_then(|c| u16::try_from(c).ok()).unwrap_or(0),
        api_group: text(&object["apiGroup"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_completed_events_and_ignores_a_line_being_written() {
        let log = concat!(
            r#"{"kind":"Event","stage":"ResponseStarted","verb":"create","objectRef":{"resource":"pods"}}"#,
            "\n",
            r#"{"kind":"Event","stage":"ResponseComplete","verb":"patch","user":{"username":"admin"},"#,
            r#""userAgent":"kube-rs/5","objectRef":{"resource":"deployments","subresource":"status","#,
            r#""namespace":"shop","name":"web","apiGroup":"apps"},"responseStatus":{"code":200}}"#,
            "\n",
            r#"{"kind":"Event","stage":"ResponseComp"#,
        );
        let writes = parse(log).expect("parse");
        assert_eq!(
            writes,
            vec![AuditWrite {
                user: "admin".into(),
                user_agent: "kube-rs/5".into(),
                verb: "patch".into(),
                resource: "deployments".into(),
                subresource: "status".into(),
                namespace: "shop".into(),
                name: "web".into(),
                code: 200,
                api_group: "apps".into(),
            }]
        );
    }

    #[test]
    fn a_corrupt_complete_line_is_an_error() {
        assert!(parse("{not json}\n").is_err());
    }
}
