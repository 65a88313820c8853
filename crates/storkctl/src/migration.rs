//! `create|get|delete migration(s)`, with Stork's flags, messages and table.
//!
//! Objects are read as untyped JSON: a Migration written by another controller version (an unknown
//! stage, a number where a string is expected) still gets a row or a progress line instead of failing
//! the whole command.

use std::future::Future;
use std::io::{Read as _, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::GroupVersionKind;
use serde::Deserialize;
use serde_json::Value;
use stork_api::{ClusterPair, ClusterPairStatus, Migration, MigrationSpec};
use stork_migrate::core::validate::pair_ready;
use thiserror::Error;

use crate::cli::{CreateMigrationArgs, DeleteMigrationArgs, GetMigrationArgs, GlobalArgs};
use crate::client;
use crate::objects;
use crate::printer::{self, OutputFormat, cell};

/// How long `--wait` waits before giving up, as Stork (`migrTimeout`).
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// How often the live progress line is refreshed at most: a GET of one object per second is negligible
/// next to what the controller does, and a 30 s refresh would not look live.
const LIVE_REFRESH: Duration = Duration::from_secs(1);
/// The last cell of a Migration without a summary (written by Stork before v2.9.0, or never reconciled).
const NO_SUMMARY: &str = "Available with stork v2.9.0+";

const HEADER: [&str; 9] =
    ["NAME", "CLUSTERPAIR", "STAGE", "STATUS", "VOLUMES", "RESOURCES", "CREATED", "ELAPSED", "TOTAL BYTES TRANSFERRED"];

#[derive(Debug, Error)]
pub enum MigrationError {
    #[error("exactly one name needs to be provided for migration name")]
    NameCount,
    #[error("ClusterPair name needs to be provided for migration")]
    NoClusterPair,
    #[error("need to provide atleast one namespace to migrate")]
    NoNamespaces,
    #[error("at least one argument needs to be provided for migration name")]
    NoNames,
    #[error("migration {name} failed{}", if .reason.is_empty() { String::new() } else { format!(": {}", .reason) })]
    Failed { name: String, reason: String },
    #[error(
        "timed out performing task: migration {name} did not complete within {} (stage {stage:?}, status {status:?})",
        stork_kube::duration::format_nanos(.timeout.as_nanos() as i128)
    )]
    TimedOut { name: String, timeout: Duration, stage: String, status: String },
    #[error("error opening file {path}: open {path}: {reason}")]
    OpenFile { path: String, reason: String },
    #[error("error reading file {path}: read {path}: {reason}")]
    ReadFile { path: String, reason: String },
    #[error("error parsing file {path}: {reason}")]
    ParseFile { path: String, reason: String },
    #[error("empty namespace given")]
    EmptyNamespace,
}

fn resource() -> ApiResource {
    ApiResource::erase::<Migration>(&())
}

/// Stork's Rule kind: stork-rs has no type for it, only pre/post exec rules name one.
fn rule_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("stork.libopenstorage.org", "v1alpha1", "Rule"), "rules")
}

/// `storkctl create migration(s)`. Stork's order: `-f` first (it only validates the file), then the
/// name count, the pair, the namespaces; `--dry-run` validates instead of creating.
pub async fn create(
    global: &GlobalArgs,
    args: &CreateMigrationArgs,
    out: &mut dyn Write,
    interactive: bool,
) -> anyhow::Result<()> {
    if let Some(path) = &args.file {
        let (namespace, spec) = read_spec_file(path, &global.namespace)?;
        let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
        return validate(&client, &namespace, &spec, out).await;
    }
    let [name] = args.names.as_slice() else {
        return Err(MigrationError::NameCount.into());
    };
    if args.cluster_pair.is_empty() {
        return Err(MigrationError::NoClusterPair.into());
    }
    // cobra's StringSlice turns `--namespaces ""` into no namespace at all; an empty entry could never
    // name a namespace anyway.
    let namespaces: Vec<String> = args.namespaces.iter().filter(|ns| !ns.is_empty()).cloned().collect();
    if namespaces.is_empty() {
        return Err(MigrationError::NoNamespaces.into());
    }
    let spec = MigrationSpec {
        cluster_pair: args.cluster_pair.clone(),
        namespaces,
        include_resources: Some(args.include_resources),
        include_volumes: Some(args.include_volumes),
        start_applications: Some(args.start_applications),
        pre_exec_rule: args.pre_exec_rule.clone(),
        post_exec_rule: args.post_exec_rule.clone(),
        ..Default::default()
    };
    let namespace = global.namespace.as_str();
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    if args.dry_run {
        return validate(&client, namespace, &spec, out).await;
    }
    let mut migration = Migration::new(name, spec);
    migration.metadata.namespace = Some(namespace.to_string());
    Api::<Migration>::namespaced(client.clone(), namespace).create(&PostParams::default(), &migration).await?;
    if !args.wait {
        writeln!(out, "Migration {name} created successfully")?;
        return Ok(());
    }
    let api: Api<DynamicObject> = Api::namespaced_with(client, namespace, &resource());
    let timing =
        WaitTiming { initial_delay: args.wait_initial_delay, interval: args.wait_poll_interval, timeout: WAIT_TIMEOUT };
    let mode = if interactive { WaitMode::Live } else { WaitMode::Plain };
    wait(name, out, mode, &timing, || async { api.get(name).await.map(|o| o.data) }).await
}

/// `storkctl get migration(s)`.
pub async fn get(global: &GlobalArgs, args: &GetMigrationArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let format: OutputFormat = global.output.as_deref().unwrap_or_default().parse()?;
    objects::check_names(&args.names, args.all_namespaces)?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let mut values = objects::fetch(client, &resource(), &global.namespace, &args.names, args.all_namespaces).await?;
    // As Stork: named objects must exist (NotFound otherwise) even when the pair filter then drops them.
    if let Some(pair) = args.cluster_pair.as_deref().filter(|p| !p.is_empty()) {
        values.retain(|m| m.pointer("/spec/clusterPair").and_then(Value::as_str) == Some(pair));
    }
    let tz = TimeZone::system();
    let now = Timestamp::now();
    objects::print(out, format, values, args.names.len(), |values| {
        let rows = table_rows(values, args.all_namespaces, &tz, now);
        if format == OutputFormat::Wide { printer::widen(rows, values, &WIDE_HEADER, wide_cells) } else { rows }
    })
}

/// What `-o wide` adds: what was asked (namespaces, full or incremental), which schedule made it, and
/// why it is where it is.
const WIDE_HEADER: [&str; 4] = ["NAMESPACES", "TYPE", "SCHEDULE", "REASON"];

fn wide_cells(m: &Value) -> Vec<String> {
    let namespaces: Vec<&str> = m
        .pointer("/spec/namespaces")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let schedule = m
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|owners| owners.iter().find(|o| o.get("kind").and_then(Value::as_str) == Some("MigrationSchedule")))
        .map(|o| cell(o, "/name"))
        .unwrap_or_default();
    vec![namespaces.join(","), cell(m, "/status/migrationType"), schedule, cell(m, "/status/reason")]
}

/// `storkctl delete migration(s)`: the named Migrations, or with `-c` every Migration of that pair in
/// the namespace (names are then ignored, as in Stork). Stops at the first error, like Stork.
pub async fn delete(global: &GlobalArgs, args: &DeleteMigrationArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let pair = args.cluster_pair.as_deref().filter(|p| !p.is_empty());
    if pair.is_none() && args.names.is_empty() {
        return Err(MigrationError::NoNames.into());
    }
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let api: Api<DynamicObject> = Api::namespaced_with(client, &global.namespace, &resource());
    let names: Vec<String> = match pair {
        None => args.names.clone(),
        Some(pair) => {
            let mut names: Vec<String> = api
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter(|m| m.data.pointer("/spec/clusterPair").and_then(Value::as_str) == Some(pair))
                .filter_map(|m| m.metadata.name)
                .collect();
            names.sort();
            names
        }
    };
    if names.is_empty() {
        writeln!(out, "{}", printer::NO_RESOURCES)?;
    }
    for name in names {
        api.delete(&name, &DeleteParams::default()).await?;
        writeln!(out, "Migration {name} deleted successfully")?;
    }
    Ok(())
}

/// Header and one row per Migration, as Stork's `migrationPrinter`. With `status.summary` the counts,
/// elapsed times and bytes come from it; without (never reconciled, or written by an older Stork) the
/// counts are the Successful entries of the status lists (`N/A` when the spec excludes volumes or
/// resources) and ELAPSED is finish − creation once Final, else the time since creation.
pub fn table_rows(migrations: &[Value], all_namespaces: bool, tz: &TimeZone, now: Timestamp) -> Vec<Vec<String>> {
    let mut header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    if all_namespaces {
        header.insert(0, "NAMESPACE".to_string());
    }
    let mut rows = vec![header];
    for m in migrations {
        let stage = cell(m, "/status/stage");
        let (volumes, resources, elapsed, bytes) = match m.pointer("/status/summary").filter(|s| s.is_object()) {
            Some(summary) => {
                // Go decodes absent numbers as 0.
                let number = |key: &str| match summary.get(key) {
                    Some(Value::Number(n)) => n.to_string(),
                    _ => "0".to_string(),
                };
                (
                    format!("{}/{}", number("numOfMigratedVolumes"), number("totalNumberOfVolumes")),
                    format!("{}/{}", number("numOfMigratedResources"), number("totalNumberOfResources")),
                    format!(
                        "Volumes ({}) Resources ({})",
                        cell(summary, "/elapsedTimeForVolumeMigration"),
                        cell(summary, "/elapsedTimeForResourceMigration")
                    ),
                    number("totalBytesMigrated"),
                )
            }
            None => (
                successful_of(m, "/spec/includeVolumes", "/status/volumes"),
                successful_of(m, "/spec/includeResources", "/status/resources"),
                legacy_elapsed(m, &stage, now),
                NO_SUMMARY.to_string(),
            ),
        };
        let mut row = vec![
            cell(m, "/metadata/name"),
            cell(m, "/spec/clusterPair"),
            stage,
            cell(m, "/status/status"),
            volumes,
            resources,
            printer::time_cell(m.pointer("/metadata/creationTimestamp"), tz),
            elapsed,
            bytes,
        ];
        if all_namespaces {
            row.insert(0, cell(m, "/metadata/namespace"));
        }
        rows.push(row);
    }
    rows
}

/// `done/total` over a status list, or `N/A` when the spec flag is explicitly false (absent means true).
fn successful_of(m: &Value, include: &str, list: &str) -> String {
    if m.pointer(include) == Some(&Value::Bool(false)) {
        return "N/A".to_string();
    }
    let items = m.pointer(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let done = items.iter().filter(|i| i.get("status").and_then(Value::as_str) == Some("Successful")).count();
    format!("{done}/{}", items.len())
}

fn legacy_elapsed(m: &Value, stage: &str, now: Timestamp) -> String {
    let Some(created) = printer::timestamp(m, "/metadata/creationTimestamp") else {
        return String::new();
    };
    let end = if stage == "Final" {
        match printer::timestamp(m, "/status/finishTimestamp") {
            Some(finish) => finish,
            None => return String::new(),
        }
    } else {
        now
    };
    stork_kube::duration::format_nanos(end.as_nanosecond() - created.as_nanosecond())
}

// ---------------------------------------------------------------------------------------------------------
// --wait

/// Plain: Stork's lines, for scripts and logs. Live: one updating line, for a person at a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitMode {
    Plain,
    Live,
}

#[derive(Debug, Clone)]
pub struct WaitTiming {
    /// Before the first read (plain mode only: Stork sleeps so that its first line is rarely blank).
    pub initial_delay: Duration,
    /// Between reads (live mode refreshes at least every second).
    pub interval: Duration,
    pub timeout: Duration,
}

/// What `--wait` shows of a Migration's status.
#[derive(Debug, Default, Clone, PartialEq)]
struct Progress {
    stage: String,
    status: String,
    reason: String,
    /// Objects done and selected: stork-rs's `resourceCounts`, else Stork's summary.
    objects: Option<(u64, u64)>,
}

impl Progress {
    fn read(migration: &Value) -> Self {
        let number = |pointer: &str| migration.pointer(pointer).and_then(Value::as_u64);
        let objects = match (number("/status/resourceCounts/processed"), number("/status/resourceCounts/total")) {
            (done, Some(total)) if total > 0 => Some((done.unwrap_or(0), total)),
            _ => match (
                number("/status/summary/numOfMigratedResources"),
                number("/status/summary/totalNumberOfResources"),
            ) {
                (done, Some(total)) if total > 0 => Some((done.unwrap_or(0), total)),
                _ => None,
            },
        };
        Self {
            stage: cell(migration, "/status/stage"),
            status: cell(migration, "/status/status"),
            reason: cell(migration, "/status/reason"),
            objects,
        }
    }
}

/// Stork's `%s\t\t%-20s` (Go pads by runes, as `{:<20}` pads by chars).
pub fn plain_line(stage: &str, status: &str) -> String {
    format!("{stage}\t\t{status:<20}")
}

fn live_line(name: &str, progress: &Progress, elapsed: Duration) -> String {
    let elapsed = stork_kube::duration::format_nanos(i128::from(elapsed.as_secs()) * 1_000_000_000);
    if progress.stage.is_empty() && progress.status.is_empty() {
        return format!("Migration {name}: waiting for the controller to start it ({elapsed})");
    }
    let or_dash = |s: &str| if s.is_empty() { "-".to_string() } else { s.to_string() };
    let objects = progress.objects.map(|(done, total)| format!(", {done}/{total} objects")).unwrap_or_default();
    format!(
        "Migration {name}: stage {}, status {}{objects} ({elapsed})",
        or_dash(&progress.stage),
        or_dash(&progress.status)
    )
}

/// Reads the Migration until its status is Successful, PartialSuccess or Failed (Stork does not look
/// at the stage) or `timing.timeout` passes. A Failed migration prints Stork's line, then fails the
/// command with `status.reason`, so scripts see exit code 1. API errors (the Migration deleted, access
/// denied) end the wait as in Stork; connection errors are retried until the timeout, since a six-hour
/// wait should survive an API server restart.
pub async fn wait<F, Fut>(
    name: &str,
    out: &mut dyn Write,
    mode: WaitMode,
    timing: &WaitTiming,
    mut fetch: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Value, kube::Error>>,
{
    let started = Instant::now();
    let interval = match mode {
        WaitMode::Plain => {
            writeln!(out, "{}", plain_line("STAGE", "STATUS"))?;
            out.flush()?;
            tokio::time::sleep(timing.initial_delay).await;
            timing.interval
        }
        WaitMode::Live => timing.interval.min(LIVE_REFRESH),
    };
    let deadline = Instant::now() + timing.timeout;
    let mut last = Progress::default();
    loop {
        match fetch().await {
            Ok(migration) => {
                last = Progress::read(&migration);
                match mode {
                    WaitMode::Plain => writeln!(out, "{}", plain_line(&last.stage, &last.status))?,
                    // Clear the line first: the new text may be shorter than the previous one.
                    WaitMode::Live => write!(out, "\r\x1b[2K{}", live_line(name, &last, started.elapsed()))?,
                }
                out.flush()?;
                let done = matches!(last.status.as_str(), "Successful" | "PartialSuccess");
                let failed = last.status == "Failed";
                if mode == WaitMode::Live && (done || failed) {
                    writeln!(out)?;
                }
                if done {
                    if mode == WaitMode::Live && !last.reason.is_empty() {
                        writeln!(out, "{}", last.reason)?;
                    }
                    writeln!(out, "Migration {name} completed successfully")?;
                    return Ok(());
                }
                if failed {
                    writeln!(out, "Migration {name} failed")?;
                    out.flush()?;
                    return Err(MigrationError::Failed { name: name.to_string(), reason: last.reason }.into());
                }
            }
            Err(e @ kube::Error::Api(_)) => {
                if mode == WaitMode::Live {
                    writeln!(out)?;
                }
                out.flush()?;
                return Err(e.into());
            }
            Err(e) => {
                if mode == WaitMode::Live {
                    writeln!(out)?;
                }
                eprintln!("warning: cannot read Migration {name}, retrying: {}", stork_kube::error_chain(&e));
            }
        }
        if Instant::now() >= deadline {
            if mode == WaitMode::Live {
                writeln!(out)?;
            }
            return Err(MigrationError::TimedOut {
                name: name.to_string(),
                timeout: timing.timeout,
                stage: last.stage,
                status: last.status,
            }
            .into());
        }
        tokio::time::sleep(interval).await;
    }
}

// ---------------------------------------------------------------------------------------------------------
// --dry-run and -f

/// What `-f` reads: a Migration in YAML or JSON; only its namespace and spec matter.
#[derive(Debug, Default, Deserialize)]
struct SpecFile {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: MigrationSpec,
}

/// The Migration's namespace (its own, else `-n`) and spec from a file, with Stork's messages.
fn read_spec_file(path: &Path, namespace: &str) -> Result<(String, MigrationSpec), MigrationError> {
    let shown = path.display().to_string();
    let mut file = std::fs::File::open(path)
        .map_err(|e| MigrationError::OpenFile { path: shown.clone(), reason: go_io_error(&e) })?;
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| MigrationError::ReadFile { path: shown.clone(), reason: go_io_error(&e) })?;
    // YAML is a superset of JSON, so one parser reads both, as Go's YAMLOrJSONDecoder does.
    // Go's decoder reports an empty document as EOF.
    if text.trim().is_empty() {
        return Err(MigrationError::ParseFile { path: shown, reason: "EOF".to_string() });
    }
    let parsed: SpecFile =
        serde_saphyr::from_str(&text).map_err(|e| MigrationError::ParseFile { path: shown, reason: e.to_string() })?;
    if namespace.is_empty() {
        return Err(MigrationError::EmptyNamespace);
    }
    let namespace = parsed.metadata.namespace.filter(|ns| !ns.is_empty()).unwrap_or_else(|| namespace.to_string());
    Ok((namespace, parsed.spec))
}

/// Go prints OS errors as lower-case strerror text (`no such file or directory`); Rust appends
/// ` (os error 2)` and capitalises.
fn go_io_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Stork's `ValidateMigration`: checks printed as they run, nothing created. Deliberate differences:
/// every missing namespace is listed (Stork names only the last one); the pair's line reflects only
/// the pair (Stork can repeat the namespace result there); an empty pair name says so before failing;
/// and whether the pair is ready is the controller's own rule ([`pair_ready`]): a pair whose storage
/// status is NotProvided is ready, because stork-rs migrates without storage pairing.
async fn validate(
    client: &kube::Client,
    namespace: &str,
    spec: &MigrationSpec,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    write!(out, "[Optional] Checking Migration Namespaces....")?;
    out.flush()?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut missing = Vec::new();
    for ns in &spec.namespaces {
        // As Stork: any error (not only NotFound) counts as missing; this check is advisory.
        if namespaces.get(ns).await.is_err() {
            missing.push(ns.as_str());
        }
    }
    match missing.as_slice() {
        [] => writeln!(out, "Ok")?,
        [one] => writeln!(out, "Missing namespace {one}")?,
        many => writeln!(out, "Missing namespaces {}", many.join(", "))?,
    }

    write!(out, "[Required] Checking ClusterPair Status....")?;
    out.flush()?;
    if spec.cluster_pair.is_empty() {
        writeln!(out, "ClusterPair is empty")?;
        return Err(MigrationError::NoClusterPair.into());
    }
    let pairs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::erase::<ClusterPair>(&()));
    let pair = pairs.get(&spec.cluster_pair).await?.data;
    // The controller's rule, from the library both use. A status this version cannot read is not Ready.
    let status: ClusterPairStatus = serde_json::from_value(pair["status"].clone()).unwrap_or_default();
    let include_volumes = spec.include_volumes != Some(false);
    let ready = pair_ready(namespace, &spec.cluster_pair, &status, include_volumes).is_ok();
    writeln!(out, "{}", if ready { "Ok" } else { "NotReady" })?;

    let rules: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &rule_resource());
    for (which, rule) in [("PreExec", &spec.pre_exec_rule), ("PostExec", &spec.post_exec_rule)] {
        write!(out, "[Optional] Checking {which} Rule....")?;
        out.flush()?;
        let status = if rule.is_empty() {
            "NotConfigured"
        } else {
            match rules.get(rule).await {
                Ok(_) => "Ok",
                // A cluster without the Rule CRD answers a plain-text 404, which kube does not parse into
                // a NotFound reason; Go's IsNotFound also goes by the code then.
                Err(kube::Error::Api(status)) if status.is_not_found() || status.code == 404 => "NotFound",
                Err(e) => return Err(e.into()),
            }
        };
        writeln!(out, "{status}")?;
    }
    writeln!(out, "All Ready!!")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;
    use stork_api::{
        MigrationResourceInfo, MigrationStage, MigrationStatus, MigrationStatusType, MigrationSummary,
        MigrationVolumeInfo, ResourceCounts,
    };

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    /// A Migration as `storkctl create migration -c clusterpair1 --namespaces namespace1` makes it.
    fn created(name: &str) -> Migration {
        let mut m = Migration::new(
            name,
            MigrationSpec {
                cluster_pair: "clusterpair1".into(),
                namespaces: vec!["namespace1".into()],
                include_resources: Some(true),
                include_volumes: Some(true),
                start_applications: Some(true),
                ..Default::default()
            },
        );
        m.metadata.namespace = Some("default".into());
        m
    }

    fn render(migrations: &[Migration], all_namespaces: bool, now: Timestamp) -> String {
        let values: Vec<Value> = migrations.iter().map(|m| serde_json::to_value(m).expect("json")).collect();
        printer::format_table(&table_rows(&values, all_namespaces, &TimeZone::UTC, now))
    }

    /// Created 2024-10-24 16:06 UTC, Final/Successful five minutes later (§8.2 item 14).
    fn finished(name: &str) -> Migration {
        let mut m = created(name);
        m.metadata.creation_timestamp = Some(Time(ts("2024-10-24T16:06:37Z")));
        m.status = Some(MigrationStatus {
            stage: MigrationStage::Final,
            status: MigrationStatusType::Successful,
            finish_timestamp: Some(Time(ts("2024-10-24T16:11:37Z"))),
            ..Default::default()
        });
        m
    }

    #[test]
    fn golden_g4_fresh_migration() {
        // Never reconciled and, as in Stork's fake-clientset test, without a creation timestamp.
        let table = render(&[created("getmigrationtest")], false, Timestamp::now());
        let expected = "NAME               CLUSTERPAIR    STAGE   STATUS   VOLUMES   RESOURCES   CREATED   ELAPSED   TOTAL BYTES TRANSFERRED\n\
                        getmigrationtest   clusterpair1                    0/0       0/0                             Available with stork v2.9.0+\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn golden_g5_final_without_summary() {
        // `now` is far later: a Final migration's ELAPSED must not depend on it.
        let table = render(&[finished("getmigrationstatustest")], false, ts("2030-01-01T00:00:00Z"));
        let expected = "NAME                     CLUSTERPAIR    STAGE   STATUS       VOLUMES   RESOURCES   CREATED               ELAPSED   TOTAL BYTES TRANSFERRED\n\
                        getmigrationstatustest   clusterpair1   Final   Successful   0/0       0/0         24 Oct 24 16:06 UTC   5m0s      Available with stork v2.9.0+\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn golden_g6_with_summary() {
        let mut m = finished("getmigrationstatustest");
        let status = m.status.as_mut().expect("status");
        status.summary = Some(MigrationSummary {
            total_number_of_volumes: 5,
            num_of_migrated_volumes: 5,
            total_number_of_resources: 6,
            num_of_migrated_resources: 6,
            total_bytes_migrated: 12345,
            elapsed_time_for_volume_migration: "5m0s".into(),
            elapsed_time_for_resource_migration: "1m0s".into(),
        });
        // The summary wins over the lists and over the spec's include flags.
        status.resources = vec![MigrationResourceInfo::default()];
        m.spec.include_volumes = Some(false);
        let table = render(&[m], false, ts("2030-01-01T00:00:00Z"));
        let expected = "NAME                     CLUSTERPAIR    STAGE   STATUS       VOLUMES   RESOURCES   CREATED               ELAPSED                           TOTAL BYTES TRANSFERRED\n\
                        getmigrationstatustest   clusterpair1   Final   Successful   5/5       6/6         24 Oct 24 16:06 UTC   Volumes (5m0s) Resources (1m0s)   12345\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn item_13_excluded_volumes_or_resources_print_na() {
        let mut no_volumes = created("excludevolumestest");
        no_volumes.spec.include_volumes = Some(false);
        let expected = "NAME                 CLUSTERPAIR    STAGE   STATUS   VOLUMES   RESOURCES   CREATED   ELAPSED   TOTAL BYTES TRANSFERRED\n\
                        excludevolumestest   clusterpair1                    N/A       0/0                             Available with stork v2.9.0+\n";
        assert_eq!(render(&[no_volumes], false, Timestamp::now()), expected);

        let mut no_resources = created("excluderesourcstest");
        no_resources.spec.include_resources = Some(false);
        let expected = "NAME                  CLUSTERPAIR    STAGE   STATUS   VOLUMES   RESOURCES   CREATED   ELAPSED   TOTAL BYTES TRANSFERRED\n\
                        excluderesourcstest   clusterpair1                    0/0       N/A                             Available with stork v2.9.0+\n";
        assert_eq!(render(&[no_resources], false, Timestamp::now()), expected);

        // Absent flags mean "included" (Go's nil pointer).
        let mut unset = created("unset");
        unset.spec.include_volumes = None;
        unset.spec.include_resources = None;
        let rows = table_rows(&[serde_json::to_value(&unset).expect("json")], false, &TimeZone::UTC, Timestamp::now());
        assert_eq!((rows[1][4].as_str(), rows[1][5].as_str()), ("0/0", "0/0"));
    }

    #[test]
    fn without_summary_counts_successful_entries_and_times_running_migrations() {
        let mut m = created("running");
        m.metadata.creation_timestamp = Some(Time(ts("2024-10-24T16:06:37Z")));
        let volume = |status| MigrationVolumeInfo { status, ..Default::default() };
        let resource = |status| MigrationResourceInfo { status, ..Default::default() };
        m.status = Some(MigrationStatus {
            stage: MigrationStage::Applications,
            status: MigrationStatusType::InProgress,
            volumes: vec![volume(MigrationStatusType::Successful), volume(MigrationStatusType::Failed)],
            resources: vec![
                resource(MigrationStatusType::Successful),
                resource(MigrationStatusType::Successful),
                resource(MigrationStatusType::InProgress),
            ],
            ..Default::default()
        });
        // Not Final: ELAPSED is the time since creation, with Go's sub-second digits.
        let now = ts("2024-10-24T16:08:07.25Z");
        let rows = table_rows(&[serde_json::to_value(&m).expect("json")], false, &TimeZone::UTC, now);
        assert_eq!(rows[1][2..8], ["Applications", "InProgress", "1/2", "2/3", "24 Oct 24 16:06 UTC", "1m30.25s"]);

        // Final without a finish time, and no creation time at all: empty ELAPSED.
        let mut final_no_finish = finished("f");
        if let Some(s) = final_no_finish.status.as_mut() {
            s.finish_timestamp = None;
        }
        let mut no_created = created("n");
        no_created.metadata.creation_timestamp = None;
        let values =
            [serde_json::to_value(&final_no_finish).expect("json"), serde_json::to_value(&no_created).expect("json")];
        let rows = table_rows(&values, false, &TimeZone::UTC, now);
        assert_eq!(rows[1][7], "");
        assert_eq!(rows[2][7], "");
    }

    #[test]
    fn all_namespaces_prepends_the_namespace_and_odd_objects_still_print() {
        let odd = json!({
            "metadata": {"name": "odd", "namespace": "zz", "creationTimestamp": "not a time"},
            "spec": {"clusterPair": 7, "includeVolumes": "false"},
            "status": {"stage": "SomethingNew", "status": ["x"], "summary": {"totalNumberOfVolumes": "3"}},
        });
        let rows = table_rows(&[odd], true, &TimeZone::UTC, Timestamp::now());
        assert_eq!(rows[0][0], "NAMESPACE");
        assert_eq!(rows[1], ["zz", "odd", "7", "SomethingNew", "", "0/0", "0/0", "", "Volumes () Resources ()", "0"]);
    }

    // --- --wait -------------------------------------------------------------------------------------------

    fn instant(timeout: Duration) -> WaitTiming {
        WaitTiming { initial_delay: Duration::ZERO, interval: Duration::ZERO, timeout }
    }

    /// Runs `wait` against a scripted sequence of reads; the last one repeats.
    async fn run_wait(
        mode: WaitMode,
        timing: WaitTiming,
        reads: Vec<Result<Value, kube::Error>>,
    ) -> (String, anyhow::Result<()>, usize) {
        let mut reads: VecDeque<_> = reads.into();
        let mut calls = 0;
        let mut out = Vec::new();
        let result = wait("dummy-name", &mut out, mode, &timing, || {
            calls += 1;
            let next = if reads.len() > 1 { reads.pop_front() } else { reads.front().map(clone_read) };
            async move { next.expect("a scripted read") }
        })
        .await;
        (String::from_utf8(out).expect("utf-8"), result, calls)
    }

    fn clone_read(read: &Result<Value, kube::Error>) -> Result<Value, kube::Error> {
        match read {
            Ok(v) => Ok(v.clone()),
            Err(_) => Err(not_found()),
        }
    }

    fn not_found() -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(json!({
            "status": "Failure", "code": 404, "reason": "NotFound",
            "message": "migrations.stork.libopenstorage.org \"dummy-name\" not found",
        }))
        .expect("status");
        kube::Error::Api(Box::new(status))
    }

    fn status(stage: &str, status: &str) -> Value {
        json!({"spec": {}, "status": {"stage": stage, "status": status}})
    }

    #[tokio::test]
    async fn item_17_plain_wait_lines() {
        let (out, result, calls) = run_wait(
            WaitMode::Plain,
            instant(WAIT_TIMEOUT),
            vec![Ok(json!({"spec": {}})), Ok(status("Volumes", "Successful"))],
        )
        .await;
        assert_eq!(
            out,
            "STAGE\t\tSTATUS              \n\t\t                    \nVolumes\t\tSuccessful          \nMigration dummy-name completed successfully\n"
        );
        assert!(result.is_ok());
        assert_eq!(calls, 2);

        let (out, result, _) =
            run_wait(WaitMode::Plain, instant(WAIT_TIMEOUT), vec![Ok(status("Applications", "PartialSuccess"))]).await;
        assert_eq!(
            out,
            "STAGE\t\tSTATUS              \nApplications\t\tPartialSuccess      \nMigration dummy-name completed successfully\n"
        );
        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn plain_wait_reports_failure_with_the_reason() {
        let mut failed = status("Final", "Failed");
        failed["status"]["reason"] = json!("2 objects refused by the destination");
        let (out, result, _) = run_wait(
            WaitMode::Plain,
            instant(WAIT_TIMEOUT),
            vec![Ok(status("Applications", "InProgress")), Ok(failed)],
        )
        .await;
        assert_eq!(
            out,
            "STAGE\t\tSTATUS              \nApplications\t\tInProgress          \nFinal\t\tFailed              \nMigration dummy-name failed\n"
        );
        let err = result.expect_err("a failed migration fails the command");
        assert_eq!(err.to_string(), "migration dummy-name failed: 2 objects refused by the destination");
        let (_, result, _) =
            run_wait(WaitMode::Plain, instant(WAIT_TIMEOUT), vec![Ok(status("Final", "Failed"))]).await;
        assert_eq!(result.expect_err("failed").to_string(), "migration dummy-name failed");
    }

    #[tokio::test]
    async fn wait_stops_on_api_errors_and_times_out() {
        let (out, result, _) = run_wait(WaitMode::Plain, instant(WAIT_TIMEOUT), vec![Err(not_found())]).await;
        assert_eq!(out, "STAGE\t\tSTATUS              \n");
        let err = result.expect_err("deleted while waiting");
        assert!(matches!(err.downcast_ref::<kube::Error>(), Some(kube::Error::Api(_))), "{err}");

        let (out, result, calls) =
            run_wait(WaitMode::Plain, instant(Duration::ZERO), vec![Ok(status("Volumes", "InProgress"))]).await;
        assert_eq!(out, "STAGE\t\tSTATUS              \nVolumes\t\tInProgress          \n");
        assert_eq!(calls, 1);
        assert_eq!(
            result.expect_err("timeout").to_string(),
            "timed out performing task: migration dummy-name did not complete within 0s (stage \"Volumes\", status \"InProgress\")"
        );
    }

    #[tokio::test]
    async fn plain_wait_keeps_storks_pacing() {
        let timing = WaitTiming {
            initial_delay: Duration::from_millis(150),
            interval: Duration::from_millis(100),
            timeout: WAIT_TIMEOUT,
        };
        let started = Instant::now();
        let (_, result, calls) = run_wait(
            WaitMode::Plain,
            timing,
            vec![Ok(status("", "")), Ok(status("Volumes", "InProgress")), Ok(status("Final", "Successful"))],
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(calls, 3);
        assert!(started.elapsed() >= Duration::from_millis(350), "initial delay + two intervals");
    }

    #[tokio::test]
    async fn live_wait_updates_one_line_with_object_counts() {
        let mut running = status("Applications", "InProgress");
        running["status"]["resourceCounts"] = json!({"total": 2000, "processed": 120});
        let mut partial = status("Final", "PartialSuccess");
        partial["status"]["resourceCounts"] = json!({"total": 2000, "processed": 2000, "failed": 1});
        partial["status"]["reason"] = json!("1 object failed: see status.resources");
        let (out, result, _) =
            run_wait(WaitMode::Live, instant(WAIT_TIMEOUT), vec![Ok(json!({})), Ok(running), Ok(partial)]).await;
        assert!(result.is_ok());
        assert_eq!(
            out,
            "\r\x1b[2KMigration dummy-name: waiting for the controller to start it (0s)\
             \r\x1b[2KMigration dummy-name: stage Applications, status InProgress, 120/2000 objects (0s)\
             \r\x1b[2KMigration dummy-name: stage Final, status PartialSuccess, 2000/2000 objects (0s)\n\
             1 object failed: see status.resources\n\
             Migration dummy-name completed successfully\n"
        );
        assert!(!out.contains("STAGE\t\t"), "no plain lines on a terminal");

        let mut failed = status("Final", "Failed");
        failed["status"]["reason"] = json!("destination unreachable");
        let (out, result, _) = run_wait(WaitMode::Live, instant(WAIT_TIMEOUT), vec![Ok(failed)]).await;
        assert_eq!(
            out,
            "\r\x1b[2KMigration dummy-name: stage Final, status Failed (0s)\nMigration dummy-name failed\n"
        );
        assert_eq!(result.expect_err("failed").to_string(), "migration dummy-name failed: destination unreachable");
    }

    #[test]
    fn progress_falls_back_to_storks_summary() {
        let v = json!({"status": {"stage": "Applications", "status": "InProgress",
                       "summary": {"numOfMigratedResources": 3, "totalNumberOfResources": 6}}});
        assert_eq!(Progress::read(&v).objects, Some((3, 6)));
        let counts =
            serde_json::to_value(ResourceCounts { total: 10, processed: 4, ..Default::default() }).expect("json");
        let v = json!({"status": {"resourceCounts": counts, "summary": {"numOfMigratedResources": 3, "totalNumberOfResources": 6}}});
        assert_eq!(Progress::read(&v).objects, Some((4, 10)), "resourceCounts wins");
        assert_eq!(Progress::read(&json!({"status": {"resourceCounts": {"total": 0}}})).objects, None);
        let line =
            live_line("m", &Progress { status: "Pending".into(), ..Default::default() }, Duration::from_secs(65));
        assert_eq!(line, "Migration m: stage -, status Pending (1m5s)");
    }

    // --- -f ------------------------------------------------------------------------------------------------

    #[test]
    fn spec_files_in_yaml_and_json() {
        let dir = tempfile::tempdir().expect("dir");
        let yaml = dir.path().join("m.yaml");
        std::fs::write(
            &yaml,
            "apiVersion: stork.libopenstorage.org/v1alpha1\nkind: Migration\nmetadata:\n  name: m\n  namespace: app\n\
             spec:\n  clusterPair: cp\n  namespaces: [a, b]\n  preExecRule: pre\n  unknownField: 1\n",
        )
        .expect("write");
        let (ns, spec) = read_spec_file(&yaml, "default").expect("yaml");
        assert_eq!(ns, "app");
        assert_eq!(spec.cluster_pair, "cp");
        assert_eq!(spec.namespaces, ["a", "b"]);
        assert_eq!(spec.pre_exec_rule, "pre");

        let json_file = dir.path().join("m.json");
        std::fs::write(&json_file, r#"{"metadata": {"name": "m"}, "spec": {"clusterPair": "cp"}}"#).expect("write");
        let (ns, spec) = read_spec_file(&json_file, "fromflag").expect("json");
        assert_eq!((ns.as_str(), spec.cluster_pair.as_str()), ("fromflag", "cp"));
        assert_eq!(read_spec_file(&json_file, "").expect_err("no ns").to_string(), "empty namespace given");

        let missing = dir.path().join("nope.yaml");
        assert_eq!(
            read_spec_file(&missing, "default").expect_err("missing").to_string(),
            format!("error opening file {0}: open {0}: no such file or directory", missing.display())
        );
        assert_eq!(
            read_spec_file(dir.path(), "default").expect_err("a directory").to_string(),
            format!("error reading file {0}: read {0}: is a directory", dir.path().display())
        );
        std::fs::write(&yaml, "spec: [not, a, map]\n").expect("write");
        assert!(read_spec_file(&yaml, "default").expect_err("bad").to_string().starts_with("error parsing file "));
    }
}
