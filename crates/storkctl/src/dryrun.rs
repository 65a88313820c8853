//! The report of `perform failover|failback --dry-run`: what the engine's preflight (`io::preflight`)
//! found, as a person reads it. Pure text from the engine's results; nothing here decides anything.

use std::fmt::Write as _;

use stork_migrate::core::activate::Activation;
use stork_migrate::core::model::UpdateReason;
use stork_migrate::io::activate::Change;
use stork_migrate::io::preflight::Switch;
use stork_migrate::{EntryResult, ObjectId, Outcome};

use crate::activate::change_reason;

/// The last line of every dry run.
pub const NOTHING_CHANGED: &str = "Nothing was changed.";

/// Which way the application would move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// From the source (reached through the ClusterPair) to this cluster.
    Failover,
    /// From this cluster back to the source.
    Failback,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Self::Failover => "failover",
            Self::Failback => "failback",
        }
    }

    /// The cluster left, then the cluster gone to.
    fn ends(self) -> (&'static str, &'static str) {
        match self {
            Self::Failover => ("the source", "this cluster"),
            Self::Failback => ("this cluster", "the source"),
        }
    }
}

/// What a report is about.
pub struct Subject<'a> {
    pub way: Way,
    /// `namespace/name` of the MigrationSchedule.
    pub schedule: &'a str,
    pub namespaces: &'a [String],
    /// The source: `Ok(pair name)` when it answered through that ClusterPair, else why not.
    pub source: Result<&'a str, &'a str>,
}

/// `deployment shop/web: replicas 3 -> 0`.
pub fn activation_line(id: &ObjectId, activation: &Activation) -> String {
    format!(
        "{} {}/{}: {} {} -> {}",
        id.key.kind.to_lowercase(),
        id.namespace,
        id.name,
        activation.field,
        activation.from,
        activation.to
    )
}

/// [`activation_line`] of a change checked by a cluster, with the cluster's refusal.
pub fn change_line(change: &Change) -> String {
    let line = activation_line(&change.id, &change.activation);
    match &change.result {
        Ok(()) => line,
        Err(_) => format!("{line} (refused: {})", change_reason(change)),
    }
}

/// What `perform failover|failback` would do, from the preflight's findings. Without the source a
/// failover still brings this cluster up; a failback cannot (the source is where it brings it up).
pub fn report(subject: &Subject<'_>, found: &Switch) -> String {
    let mut out = String::new();
    let way = subject.way;
    let (from, to) = way.ends();
    let towards = if way == Way::Failover { " to this cluster" } else { "" };
    line(
        &mut out,
        &format!(
            "Dry run: {} of MigrationSchedule {}{towards} (namespaces: {})",
            way.name(),
            subject.schedule,
            subject.namespaces.join(", ")
        ),
    );
    match subject.source {
        Ok(pair) => line(&mut out, &format!("Source: reached through ClusterPair {pair}")),
        Err(why) => line(&mut out, &format!("Source: out of reach ({why})")),
    }
    let refuses = format!("perform {} refuses to start unless --force", way.name());
    list(&mut out, "Blockers", &refuses, &found.blockers);
    list(&mut out, "Warnings", "", &found.warnings);
    let reached = subject.source.is_ok();
    let skipped = "skipped (the source is out of reach)";
    let idle: Vec<String> = found.scale_down.iter().map(|(id, a)| activation_line(id, a)).collect();
    let title = format!("Scale down on {from}");
    if reached {
        section(&mut out, &title, "nothing to idle", &idle)
    } else {
        line(&mut out, &format!("{title}: {skipped}"))
    }
    match &found.last_mile {
        Some(outcome) => last_mile(&mut out, from, to, outcome),
        None => line(&mut out, "Last-mile migration: none (the source is out of reach)"),
    }
    let up: Vec<String> = found.scale_up.iter().map(change_line).collect();
    let title = format!("Scale up on {to}");
    if reached || way == Way::Failover {
        section(&mut out, &title, "nothing to bring up", &up);
    } else {
        line(&mut out, &format!("{title}: {skipped}"));
    }
    line(&mut out, NOTHING_CHANGED);
    out
}

/// `Title: none`, or the title (with a note) and one `  - item` line each.
fn list(out: &mut String, title: &str, note: &str, items: &[String]) {
    if items.is_empty() {
        line(out, &format!("{title}: none"));
        return;
    }
    if note.is_empty() {
        line(out, &format!("{title}:"))
    } else {
        line(out, &format!("{title} ({note}):"))
    }
    for item in items {
        line(out, &format!("  - {item}"));
    }
}

/// `Title: <empty text>`, or the title and one indented line each.
fn section(out: &mut String, title: &str, empty: &str, lines: &[String]) {
    if lines.is_empty() {
        line(out, &format!("{title}: {empty}"));
        return;
    }
    line(out, &format!("{title}:"));
    for text in lines {
        line(out, &format!("  {text}"));
    }
}

/// Counts, then one line per object the last mile would write, purge or see refused.
fn last_mile(out: &mut String, from: &str, to: &str, outcome: &Outcome) {
    let c = &outcome.counts;
    let mut counts =
        format!("{} created, {} updated, {} purged, {} unchanged", c.created, c.updated, c.purged, c.unchanged);
    if c.failed > 0 {
        let _ = write!(counts, ", {} refused", c.failed);
    }
    line(out, &format!("Last-mile migration ({from} -> {to}): {counts}"));
    for entry in &outcome.entries {
        let what = match &entry.result {
            EntryResult::Unchanged => continue,
            EntryResult::Created => "create".to_string(),
            EntryResult::Updated => match entry.why {
                Some(why) => format!("update ({})", reason(why)),
                None => "update".to_string(),
            },
            EntryResult::Purged => "purge".to_string(),
            EntryResult::Kept => "left alone (exists there, not written by stork-rs)".to_string(),
            EntryResult::Failed(reason) => format!("refused: {reason}"),
        };
        line(out, &format!("  {}: {what}", entry.id));
    }
}

fn reason(why: UpdateReason) -> &'static str {
    match why {
        UpdateReason::Full => "full",
        UpdateReason::SourceChanged => "source changed",
        UpdateReason::Drifted => "drifted",
        UpdateReason::Adopted => "adopted",
    }
}

fn line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use stork_migrate::{Entry, TypeKey};

    fn id(kind: &str, name: &str) -> ObjectId {
        let group = if kind == "ConfigMap" { "" } else { "apps" };
        ObjectId::new(&Arc::new(TypeKey::builtin(group, "v1", kind, "", true)), "shop", name)
    }

    fn activation(field: &'static str, from: &str, to: &str) -> Activation {
        Activation { field, from: from.into(), to: to.into(), patch: serde_json::Value::Null }
    }

    fn namespaces() -> Vec<String> {
        vec!["shop".to_string(), "web".to_string()]
    }

    #[test]
    fn failover_report_reads_top_down() {
        let mut outcome = Outcome::default();
        outcome.record(Entry::new(id("ConfigMap", "new"), EntryResult::Created));
        let mut changed = Entry::new(id("Deployment", "web"), EntryResult::Updated);
        changed.why = Some(UpdateReason::SourceChanged);
        outcome.record(changed);
        let mut drifted = Entry::new(id("ConfigMap", "settings"), EntryResult::Updated);
        drifted.why = Some(UpdateReason::Drifted);
        outcome.record(drifted);
        outcome.record(Entry::new(id("ConfigMap", "same"), EntryResult::Unchanged));
        outcome.record(Entry::new(id("ConfigMap", "big"), EntryResult::Failed("too large".into())));
        let key = Arc::new(TypeKey::builtin("batch", "v1", "CronJob", "", true));
        let found = Switch {
            blockers: vec!["the destination cluster would refuse ConfigMap shop/big: too large".into()],
            warnings: vec![
                "1 objects drifted on the destination cluster (the last mile rewrites them): ConfigMap shop/settings"
                    .into(),
            ],
            scale_down: vec![(id("Deployment", "web"), activation("replicas", "3", "0"))],
            last_mile: Some(outcome),
            scale_up: vec![
                Change { id: id("Deployment", "web"), activation: activation("replicas", "0", "3"), result: Ok(()) },
                Change {
                    id: ObjectId::new(&key, "shop", "nightly"),
                    activation: activation("suspend", "true", "false"),
                    result: Err("destination: updating cronjob shop/nightly: denied by policy".into()),
                },
            ],
        };
        let ns = namespaces();
        let subject =
            Subject { way: Way::Failover, schedule: "kube-system/ms", namespaces: &ns, source: Ok("remotecluster") };
        assert_eq!(
            report(&subject, &found),
            "Dry run: failover of MigrationSchedule kube-system/ms to this cluster (namespaces: shop, web)\n\
             Source: reached through ClusterPair remotecluster\n\
             Blockers (perform failover refuses to start unless --force):\n\
             \x20 - the destination cluster would refuse ConfigMap shop/big: too large\n\
             Warnings:\n\
             \x20 - 1 objects drifted on the destination cluster (the last mile rewrites them): ConfigMap shop/settings\n\
             Scale down on the source:\n\
             \x20 deployment shop/web: replicas 3 -> 0\n\
             Last-mile migration (the source -> this cluster): 1 created, 2 updated, 0 purged, 1 unchanged, 1 refused\n\
             \x20 ConfigMap shop/new: create\n\
             \x20 Deployment shop/web: update (source changed)\n\
             \x20 ConfigMap shop/settings: update (drifted)\n\
             \x20 ConfigMap shop/big: refused: too large\n\
             Scale up on this cluster:\n\
             \x20 deployment shop/web: replicas 0 -> 3\n\
             \x20 cronjob shop/nightly: suspend true -> false (refused: denied by policy)\n\
             Nothing was changed.\n"
        );
    }

    #[test]
    fn failover_report_without_a_source() {
        let found = Switch { warnings: vec!["the source is out of reach (x)".into()], ..Default::default() };
        let ns = namespaces();
        let subject = Subject { way: Way::Failover, schedule: "ns/ms", namespaces: &ns, source: Err("no answer") };
        assert_eq!(
            report(&subject, &found),
            "Dry run: failover of MigrationSchedule ns/ms to this cluster (namespaces: shop, web)\n\
             Source: out of reach (no answer)\n\
             Blockers: none\n\
             Warnings:\n\
             \x20 - the source is out of reach (x)\n\
             Scale down on the source: skipped (the source is out of reach)\n\
             Last-mile migration: none (the source is out of reach)\n\
             Scale up on this cluster: nothing to bring up\n\
             Nothing was changed.\n"
        );
    }

    #[test]
    fn failback_report_both_ways() {
        let ns = vec!["shop".to_string()];
        let mut outcome = Outcome::default();
        outcome.record(Entry::new(id("ConfigMap", "same"), EntryResult::Unchanged));
        let found = Switch {
            scale_down: vec![(id("Deployment", "web"), activation("replicas", "5", "0"))],
            last_mile: Some(outcome),
            scale_up: vec![Change {
                id: id("Deployment", "web"),
                activation: activation("replicas", "0", "5"),
                result: Ok(()),
            }],
            ..Default::default()
        };
        let reached = Subject { way: Way::Failback, schedule: "ns/back", namespaces: &ns, source: Ok("cp") };
        assert_eq!(
            report(&reached, &found),
            "Dry run: failback of MigrationSchedule ns/back (namespaces: shop)\n\
             Source: reached through ClusterPair cp\n\
             Blockers: none\n\
             Warnings: none\n\
             Scale down on this cluster:\n\
             \x20 deployment shop/web: replicas 5 -> 0\n\
             Last-mile migration (this cluster -> the source): 0 created, 0 updated, 0 purged, 1 unchanged\n\
             Scale up on the source:\n\
             \x20 deployment shop/web: replicas 0 -> 5\n\
             Nothing was changed.\n"
        );
        let blocked = Switch { blockers: vec!["the source is out of reach".into()], ..Default::default() };
        let gone = Subject { way: Way::Failback, schedule: "ns/back", namespaces: &ns, source: Err("refused") };
        assert_eq!(
            report(&gone, &blocked),
            "Dry run: failback of MigrationSchedule ns/back (namespaces: shop)\n\
             Source: out of reach (refused)\n\
             Blockers (perform failback refuses to start unless --force):\n\
             \x20 - the source is out of reach\n\
             Warnings: none\n\
             Scale down on this cluster: skipped (the source is out of reach)\n\
             Last-mile migration: none (the source is out of reach)\n\
             Scale up on the source: skipped (the source is out of reach)\n\
             Nothing was changed.\n"
        );
    }
}
