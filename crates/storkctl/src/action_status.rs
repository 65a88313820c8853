//! `get failover|failback`: the Actions of one type in `-n` (Stork reads them there only), with Stork's
//! table (`drActionPrinter`). Actions are read as untyped JSON so that one written by another version
//! still gets a row.

use std::io::Write;

use jiff::tz::TimeZone;
use kube::api::ApiResource;
use serde_json::Value;
use stork_api::Action;

use crate::cli::{GetActionArgs, GlobalArgs};
use crate::client;
use crate::objects;
use crate::printer::{self, OutputFormat, cell};

const HEADER: [&str; 5] = ["NAME", "CREATED", "STAGE", "STATUS", "MORE INFO"];
/// stork-rs's `-o wide` column: every stage so far and how it ended.
const WIDE_HEADER: &str = "STAGES";

fn resource() -> ApiResource {
    ApiResource::erase::<Action>(&())
}

/// `storkctl get failover|failback`; `action_type` is the `spec.actionType` shown (`failover`, `failback`).
pub async fn get(
    global: &GlobalArgs,
    args: &GetActionArgs,
    action_type: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let format: OutputFormat = global.output.as_deref().unwrap_or_default().parse()?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let mut values = objects::fetch(client, &resource(), &global.namespace, &args.names, false).await?;
    values.retain(|a| a.pointer("/spec/actionType").and_then(Value::as_str) == Some(action_type));
    // As Stork: nothing of this type is "No resources found." in every output format.
    if values.is_empty() {
        writeln!(out, "{}", printer::NO_RESOURCES)?;
        return Ok(());
    }
    let tz = TimeZone::system();
    let wide = format == OutputFormat::Wide;
    objects::print(out, format, values, args.names.len(), |values| table_rows(values, wide, &tz))
}

/// Header and one row per Action. Unlike Stork, an Action whose summary has both lists empty keeps its
/// row (Stork drops it), with its reason as MORE INFO.
pub fn table_rows(actions: &[Value], wide: bool, tz: &TimeZone) -> Vec<Vec<String>> {
    let mut header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    if wide {
        header.push(WIDE_HEADER.to_string());
    }
    let mut rows = vec![header];
    for action in actions {
        let action_type = cell(action, "/spec/actionType");
        let mut row = vec![
            cell(action, "/metadata/name"),
            printer::time_cell(action.pointer("/metadata/creationTimestamp"), tz),
            pretty_stage(&cell(action, "/status/stage"), &action_type),
            cell(action, "/status/status"),
            more_info(action),
        ];
        if wide {
            row.push(stages(action));
        }
        rows.push(row);
    }
    rows
}

/// Stork's `prettyDRStageNames`; an unknown stage (or a known one of another action type) as written.
pub fn pretty_stage(stage: &str, action_type: &str) -> String {
    let failover = action_type == "failover";
    let failback = action_type == "failback";
    let pretty = match stage {
        "" => "Validations",
        "ScaleDownSource" => "Scale Down (on source)",
        "ScaleDownDestination" => "Scale Down (on destination)",
        "WaitAfterScaleDown" if failover => "Waiting for Apps to Scale Down (on source)",
        "WaitAfterScaleDown" if failback => "Waiting for Apps to Scale Down (on destination)",
        "LastMileMigration" if failover => "Last Mile Migration (from source -> destination)",
        "LastMileMigration" if failback => "Last Mile Migration (from destination -> source)",
        "ScaleUpSource" if failover => "Rolling Back Scale Down (on source)",
        "ScaleUpSource" if failback => "Scale Up (on source)",
        "ScaleUpDestination" if failover => "Scale Up (on destination)",
        "ScaleUpDestination" if failback => "Rolling Back Scale Down (on destination)",
        "Final" => "Completed",
        other => other,
    };
    pretty.to_string()
}

/// `status.reason`, or with a per-namespace summary how many namespaces were scaled up (or, after a
/// rollback, rolled back, followed by the reason).
pub fn more_info(action: &Value) -> String {
    let reason = cell(action, "/status/reason");
    let Some(summary) = action.pointer("/status/summary").filter(|s| !s.is_null()) else {
        return reason;
    };
    let list = |key: &str| summary.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let (failover, failback) = (list("failoverSummary"), list("failbackSummary"));
    let total = failover.len() + failback.len();
    // Stork counts the failover list when it has items, else the failback list.
    let items = if failover.is_empty() { failback } else { failover };
    if items.is_empty() {
        return reason;
    }
    let count = |status: &str| items.iter().filter(|i| i.get("status").and_then(Value::as_str) == Some(status)).count();
    let (successful, rolled_back, rollback_failed) =
        (count("Successful"), count("RollbackSuccessful"), count("RollbackFailed"));
    if rolled_back > 0 || rollback_failed > 0 {
        let info = format!("Rolled back Apps in : {rolled_back}/{total} namespaces");
        if reason.is_empty() { info } else { format!("{info} ; {reason}") }
    } else {
        format!("Scaled up Apps in : {successful}/{total} namespaces")
    }
}

/// `Validations=Successful,ScaleDownSource=Successful,...` from `status.stages`.
fn stages(action: &Value) -> String {
    let records = action.pointer("/status/stages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    records
        .iter()
        .map(|r| {
            let stage = cell(r, "/stage");
            // The first stage is written "" (Stork's initial stage), which Stork shows as Validations.
            let stage = if stage.is_empty() { "Validations".to_string() } else { stage };
            format!("{stage}={}", cell(r, "/status"))
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::format_table;
    use serde_json::json;
    use stork_api::{
        ActionParameter, ActionSpec, ActionStage, ActionStatus, ActionStatusType, ActionSummary, ActionType,
        FailoverParameter, NamespaceActionSummary, StageRecord,
    };

    const NAME: &str = "failover-test-migrationschedule-2024-01-01-000000";

    /// The Action of Stork's test (`createFailoverActionAndVerify`): no creation time, as with a fake API.
    fn action(action_type: ActionType, status: ActionStatus) -> Value {
        let mut a = Action::new(
            NAME,
            ActionSpec {
                action_type,
                action_parameter: ActionParameter {
                    failover_parameter: Some(FailoverParameter {
                        failover_namespaces: vec!["ns1".into(), "ns2".into()],
                        migration_schedule_reference: "test-migrationschedule".into(),
                        skip_source_operations: Some(false),
                        force: None,
                    }),
                    failback_parameter: None,
                },
            },
        );
        a.metadata.namespace = Some("kube-system".into());
        a.status = Some(status);
        serde_json::to_value(a).expect("json")
    }

    fn item(ns: &str, status: ActionStatusType) -> NamespaceActionSummary {
        NamespaceActionSummary { namespace: ns.into(), status, reason: format!("scaling up apps in namespace {ns}") }
    }

    fn render(actions: &[Value], wide: bool) -> String {
        format_table(&table_rows(actions, wide, &TimeZone::UTC))
    }

    #[test]
    fn golden_g10_completed() {
        let status = ActionStatus {
            stage: ActionStage::Final,
            status: ActionStatusType::Successful,
            summary: Some(ActionSummary {
                failover_summary: vec![
                    item("ns1", ActionStatusType::Successful),
                    item("ns2", ActionStatusType::Successful),
                ],
                failback_summary: vec![],
            }),
            ..Default::default()
        };
        let expected = "NAME                                                CREATED   STAGE       STATUS       MORE INFO\n\
                        failover-test-migrationschedule-2024-01-01-000000             Completed   Successful   Scaled up Apps in : 2/2 namespaces\n";
        assert_eq!(render(&[action(ActionType::Failover, status)], false), expected);
    }

    #[test]
    fn golden_g11_validations_in_progress() {
        let status = ActionStatus { status: ActionStatusType::InProgress, ..Default::default() };
        let expected = "NAME                                                CREATED   STAGE         STATUS        MORE INFO\n\
                        failover-test-migrationschedule-2024-01-01-000000             Validations   In-Progress   \n";
        assert_eq!(render(&[action(ActionType::Failover, status)], false), expected);
    }

    #[test]
    fn item_29_rollback_row() {
        let status = ActionStatus {
            stage: ActionStage::ScaleUpSource,
            status: ActionStatusType::Successful,
            reason: "R".into(),
            summary: Some(ActionSummary {
                failover_summary: vec![
                    item("ns1", ActionStatusType::RollbackSuccessful),
                    item("ns2", ActionStatusType::RollbackSuccessful),
                ],
                failback_summary: vec![],
            }),
            ..Default::default()
        };
        let rows = table_rows(&[action(ActionType::Failover, status)], false, &TimeZone::UTC);
        assert_eq!(rows[1][2], "Rolling Back Scale Down (on source)");
        assert_eq!(rows[1][4], "Rolled back Apps in : 2/2 namespaces ; R");
        let expected = "NAME                                                CREATED   STAGE                                 STATUS       MORE INFO\n\
                        failover-test-migrationschedule-2024-01-01-000000             Rolling Back Scale Down (on source)   Successful   Rolled back Apps in : 2/2 namespaces ; R\n";
        assert_eq!(format_table(&rows), expected);
    }

    #[test]
    fn more_info_follows_stork() {
        // Partly scaled up: one failed namespace counts in the total only.
        let partial = json!({"status": {"summary": {"failoverSummary": [
            {"namespace": "a", "status": "Successful"}, {"namespace": "b", "status": "Failed"}]}, "reason": "x"}});
        assert_eq!(more_info(&partial), "Scaled up Apps in : 1/2 namespaces");
        // A failed rollback, without a reason.
        let failed = json!({"status": {"summary": {"failbackSummary": [
            {"namespace": "a", "status": "RollbackFailed"}, {"namespace": "b", "status": "RollbackSuccessful"}]}}});
        assert_eq!(more_info(&failed), "Rolled back Apps in : 1/2 namespaces");
        // No summary: the reason.
        assert_eq!(
            more_info(&json!({"status": {"reason": "The MigrationSchedule is gone"}})),
            "The MigrationSchedule is gone"
        );
        assert_eq!(more_info(&json!({})), "");
        // Both lists empty: Stork drops the row; stork-rs keeps it with the reason.
        let empty = json!({"metadata": {"name": "e"}, "spec": {"actionType": "failback"},
            "status": {"stage": "ScaleUpDestination", "status": "Failed", "reason": "why", "summary": {}}});
        let rows = table_rows(&[empty], false, &TimeZone::UTC);
        assert_eq!(rows.len(), 2, "the row is kept");
        assert_eq!(rows[1], ["e", "", "Rolling Back Scale Down (on destination)", "Failed", "why"]);
    }

    #[test]
    fn every_stage_has_storks_name() {
        let cases = [
            ("", "failover", "Validations"),
            ("ScaleDownSource", "failover", "Scale Down (on source)"),
            ("ScaleDownDestination", "failback", "Scale Down (on destination)"),
            ("WaitAfterScaleDown", "failover", "Waiting for Apps to Scale Down (on source)"),
            ("WaitAfterScaleDown", "failback", "Waiting for Apps to Scale Down (on destination)"),
            ("LastMileMigration", "failover", "Last Mile Migration (from source -> destination)"),
            ("LastMileMigration", "failback", "Last Mile Migration (from destination -> source)"),
            ("ScaleUpSource", "failover", "Rolling Back Scale Down (on source)"),
            ("ScaleUpSource", "failback", "Scale Up (on source)"),
            ("ScaleUpDestination", "failover", "Scale Up (on destination)"),
            ("ScaleUpDestination", "failback", "Rolling Back Scale Down (on destination)"),
            ("Final", "failback", "Completed"),
            ("LastMileMigration", "nearsyncFailover", "LastMileMigration"),
            ("SomethingNew", "failover", "SomethingNew"),
        ];
        for (stage, action_type, pretty) in cases {
            assert_eq!(pretty_stage(stage, action_type), pretty, "{stage} of a {action_type}");
        }
    }

    #[test]
    fn wide_lists_the_stages() {
        let status = ActionStatus {
            stage: ActionStage::ScaleDownSource,
            status: ActionStatusType::InProgress,
            stages: vec![
                StageRecord { stage: ActionStage::Initial, status: ActionStatusType::Successful, ..Default::default() },
                StageRecord {
                    stage: ActionStage::ScaleDownSource,
                    status: ActionStatusType::InProgress,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let rows = table_rows(&[action(ActionType::Failover, status)], true, &TimeZone::UTC);
        assert_eq!(rows[0].last().map(String::as_str), Some("STAGES"));
        assert_eq!(rows[1][5], "Validations=Successful,ScaleDownSource=In-Progress");
        let none = table_rows(&[json!({"metadata": {"name": "x"}})], true, &TimeZone::UTC);
        assert_eq!(none[1], ["x", "", "Validations", "", "", ""]);
    }
}
