//! `create|get|delete schedulepolicy`, with Stork's flags, messages and table. Whether a policy member is
//! valid is decided by `stork_migrate::schedule::policy`, the rule the controller applies, so a policy this
//! command accepts is one the controller can use, and the table's `Invalid` is the controller's verdict.

use std::io::Write;

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use serde::de::DeserializeOwned;
use serde_json::Value;
use stork_api::{
    DailyPolicy, IntervalPolicy, MigrationSchedule, MonthlyPolicy, SchedulePolicy, SchedulePolicyFields,
    SchedulePolicyItem, WeeklyPolicy,
};
use stork_migrate::schedule::policy;
use thiserror::Error;

use crate::cli::{CreateSchedulePolicyArgs, DeleteSchedulePolicyArgs, GetSchedulePolicyArgs, GlobalArgs};
use crate::client;
use crate::objects;
use crate::printer::{OutputFormat, cell};

const HEADER: [&str; 5] = ["NAME", "INTERVAL-MINUTES", "DAILY", "WEEKLY", "MONTHLY"];
/// Cell of a member the policy does not set.
const NOT_CONFIGURED: &str = "N/A";
/// Cell of a member the controller would refuse.
const INVALID: &str = "Invalid";

/// Stork's flag defaults, applied only after checking which flags were given (Stork's `Changed`).
const DEFAULT_INTERVAL_MINUTES: i64 = 30;
const DEFAULT_TIME: &str = "12:00AM";
const DEFAULT_FORCE_FULL_SNAPSHOT_DAY: &str = "Monday";
const DEFAULT_DAY_OF_WEEK: &str = "Sunday";
const DEFAULT_DATE_OF_MONTH: i64 = 1;
/// Stork's `Default*PolicyRetain`, written into the policy as Stork's storkctl does.
const DEFAULT_RETAIN_INTERVAL: i64 = 10;
const DEFAULT_RETAIN_DAILY: i64 = 30;
const DEFAULT_RETAIN_WEEKLY: i64 = 7;
const DEFAULT_RETAIN_MONTHLY: i64 = 12;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("exactly one name needs to be provided for schedule policy name")]
    NameCount,
    #[error("at least one argument needs to be provided for schedule policy name")]
    NoNames,
    #[error("need to provide a valid value for retain. It should be a positive integer")]
    Retain,
    #[error(
        "need to provide a valid schedule policy type. Valid schedule types are Interval, Daily, Weekly and Monthly"
    )]
    PolicyType,
    #[error("for an Interval SchedulePolicy you can only provide values for --interval-minutes and --retain flags")]
    IntervalFlags,
    #[error(
        "for a Daily SchedulePolicy you can only provide values for --time, --retain and --force-full-snapshot-day flags"
    )]
    DailyFlags,
    #[error("for a Weekly SchedulePolicy you can only provide values for --time, --day-of-week and --retain flags")]
    WeeklyFlags,
    #[error("for a Monthly SchedulePolicy you can only provide values for --time, --date-of-month and --retain flags")]
    MonthlyFlags,
    #[error("invalid day of the week ({0}) in policy.daily.forceFullSnapshotDay")]
    ForceFullSnapshotDay(String),
    /// The library's (Stork's) validation message, verbatim.
    #[error("{0}")]
    Invalid(String),
    /// Stork lists every kind of schedule that uses the policy, one line per kind that has any; stork-rs has
    /// only MigrationSchedules (no ApplicationBackupSchedule or VolumeSnapshotSchedule kinds).
    #[error(
        "cannot delete the schedule policy {name}.\nThe resource is linked to -> Migration Schedules : {}\n",
        .schedules.join(" , ")
    )]
    InUse { name: String, schedules: Vec<String> },
    #[error(
        "cannot delete the schedule policy {name}. Unable to verify if the schedule policy is linked to other resources. {reason}"
    )]
    Unverifiable { name: String, reason: String },
}

fn resource() -> ApiResource {
    ApiResource::erase::<SchedulePolicy>(&())
}

/// `storkctl create schedulepolicy`: everything is checked before the cluster is contacted.
pub async fn create(global: &GlobalArgs, args: &CreateSchedulePolicyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let [name] = args.names.as_slice() else {
        return Err(PolicyError::NameCount.into());
    };
    let item = policy_item(args)?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let object = SchedulePolicy::new(name, SchedulePolicyFields { policy: item });
    Api::<SchedulePolicy>::all(client).create(&PostParams::default(), &object).await?;
    writeln!(out, "Schedule policy {name} created successfully")?;
    Ok(())
}

/// The policy `create schedulepolicy` writes, in Stork's order of checks: retain, then the type and the
/// flags it allows, then the member itself. Day names are stored lower-cased, as Stork stores them.
pub fn policy_item(args: &CreateSchedulePolicyArgs) -> Result<SchedulePolicyItem, PolicyError> {
    if args.retain.is_some_and(|r| r <= 0) {
        return Err(PolicyError::Retain);
    }
    let time = || args.time.clone().unwrap_or_else(|| DEFAULT_TIME.to_string());
    let item = match args.policy_type.to_lowercase().as_str() {
        "interval" => {
            if args.time.is_some()
                || args.day_of_week.is_some()
                || args.date_of_month.is_some()
                || args.force_full_snapshot_day.is_some()
            {
                return Err(PolicyError::IntervalFlags);
            }
            SchedulePolicyItem {
                interval: Some(IntervalPolicy {
                    interval_minutes: args.interval_minutes.unwrap_or(DEFAULT_INTERVAL_MINUTES),
                    retain: Some(args.retain.unwrap_or(DEFAULT_RETAIN_INTERVAL)),
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
        "daily" => {
            if args.interval_minutes.is_some() || args.day_of_week.is_some() || args.date_of_month.is_some() {
                return Err(PolicyError::DailyFlags);
            }
            let day = args.force_full_snapshot_day.as_deref().unwrap_or(DEFAULT_FORCE_FULL_SNAPSHOT_DAY).to_lowercase();
            if policy::parse_day(&day).is_none() {
                return Err(PolicyError::ForceFullSnapshotDay(day));
            }
            SchedulePolicyItem {
                daily: Some(DailyPolicy {
                    time: time(),
                    retain: Some(args.retain.unwrap_or(DEFAULT_RETAIN_DAILY)),
                    force_full_snapshot_day: day,
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
        "weekly" => {
            if args.interval_minutes.is_some() || args.force_full_snapshot_day.is_some() || args.date_of_month.is_some()
            {
                return Err(PolicyError::WeeklyFlags);
            }
            SchedulePolicyItem {
                weekly: Some(WeeklyPolicy {
                    day: args.day_of_week.as_deref().unwrap_or(DEFAULT_DAY_OF_WEEK).to_lowercase(),
                    time: time(),
                    retain: Some(args.retain.unwrap_or(DEFAULT_RETAIN_WEEKLY)),
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
        "monthly" => {
            if args.interval_minutes.is_some() || args.force_full_snapshot_day.is_some() || args.day_of_week.is_some() {
                return Err(PolicyError::MonthlyFlags);
            }
            SchedulePolicyItem {
                monthly: Some(MonthlyPolicy {
                    date: args.date_of_month.unwrap_or(DEFAULT_DATE_OF_MONTH),
                    time: time(),
                    retain: Some(args.retain.unwrap_or(DEFAULT_RETAIN_MONTHLY)),
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
        _ => return Err(PolicyError::PolicyType),
    };
    policy::validate(&item).map_err(PolicyError::Invalid)?;
    Ok(item)
}

/// `storkctl get schedulepolicy`: cluster-scoped, so `-n` and `--all-namespaces` do not apply.
pub async fn get(global: &GlobalArgs, args: &GetSchedulePolicyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let format: OutputFormat = global.output.as_deref().unwrap_or_default().parse()?;
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let values = objects::fetch_cluster_scoped(client, &resource(), &args.names).await?;
    let tz = jiff::tz::TimeZone::system();
    objects::print(out, format, values, args.names.len(), |values| {
        let rows = table_rows(values);
        if format == OutputFormat::Wide {
            crate::printer::widen(rows, values, &["CREATED"], |p| {
                vec![crate::printer::time_cell(p.pointer("/metadata/creationTimestamp"), &tz)]
            })
        } else {
            rows
        }
    })
}

/// `storkctl delete schedulepolicy`: each policy in turn, refused while a MigrationSchedule of any
/// namespace names it; stops at the first error, like Stork.
pub async fn delete(global: &GlobalArgs, args: &DeleteSchedulePolicyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let Some(first) = args.names.first() else {
        return Err(PolicyError::NoNames.into());
    };
    let client = client::from_flags(global.kubeconfig.as_deref(), global.context.as_deref()).await?;
    let schedules: Api<DynamicObject> = Api::all_with(client.clone(), &ApiResource::erase::<MigrationSchedule>(&()));
    let listed = schedules
        .list(&ListParams::default())
        .await
        .map_err(|e| PolicyError::Unverifiable { name: first.clone(), reason: client::api_text(&e) })?;
    let listed: Vec<Value> = listed.items.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    let api: Api<DynamicObject> = Api::all_with(client, &resource());
    for name in &args.names {
        let users = schedules_using(&listed, name);
        if !users.is_empty() {
            return Err(PolicyError::InUse { name: name.clone(), schedules: users }.into());
        }
        api.delete(name, &DeleteParams::default()).await?;
        writeln!(out, "Schedule policy {name} deleted successfully")?;
    }
    Ok(())
}

/// `namespace/name` of every schedule naming `policy`, in Stork's order (namespaces, then names, sorted).
pub fn schedules_using(schedules: &[Value], policy: &str) -> Vec<String> {
    let mut users: Vec<(String, String)> = schedules
        .iter()
        .filter(|s| s.pointer("/spec/schedulePolicyName").and_then(Value::as_str) == Some(policy))
        .map(|s| (cell(s, "/metadata/namespace"), cell(s, "/metadata/name")))
        .collect();
    users.sort();
    users.into_iter().map(|(ns, name)| format!("{ns}/{name}")).collect()
}

/// Header and one row per policy, as Stork's `schedulePolicyPrinter`: each member `N/A` when unset,
/// `Invalid` when unreadable or refused by the controller's validation, else its value.
pub fn table_rows(policies: &[Value]) -> Vec<Vec<String>> {
    let mut rows = vec![HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for p in policies {
        rows.push(vec![
            cell(p, "/metadata/name"),
            member_cell(
                p,
                "interval",
                |m: IntervalPolicy| SchedulePolicyItem { interval: Some(m), ..Default::default() },
                |m| m.interval_minutes.to_string(),
            ),
            member_cell(
                p,
                "daily",
                |m: DailyPolicy| SchedulePolicyItem { daily: Some(m), ..Default::default() },
                |m| m.time.clone(),
            ),
            member_cell(
                p,
                "weekly",
                |m: WeeklyPolicy| SchedulePolicyItem { weekly: Some(m), ..Default::default() },
                |m| format!("{}@{}", m.day, m.time),
            ),
            member_cell(
                p,
                "monthly",
                |m: MonthlyPolicy| SchedulePolicyItem { monthly: Some(m), ..Default::default() },
                |m| format!("{}@{}", m.date, m.time),
            ),
        ]);
    }
    rows
}

/// One member's cell. The member is validated alone, as Stork validates each member for its cell.
fn member_cell<T: DeserializeOwned + Clone>(
    policy: &Value,
    member: &str,
    alone: impl Fn(T) -> SchedulePolicyItem,
    shown: impl Fn(&T) -> String,
) -> String {
    let value = match policy.get("policy").and_then(|p| p.get(member)) {
        None | Some(Value::Null) => return NOT_CONFIGURED.to_string(),
        Some(v) => v,
    };
    // A member another writer filled with the wrong types is one the controller cannot read either.
    let Ok(parsed) = serde_json::from_value::<T>(value.clone()) else {
        return INVALID.to_string();
    };
    match policy::validate(&alone(parsed.clone())) {
        Ok(()) => shown(&parsed),
        Err(_) => INVALID.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::printer::format_table;

    fn args(policy_type: &str) -> CreateSchedulePolicyArgs {
        CreateSchedulePolicyArgs {
            names: vec!["test-policy".into()],
            policy_type: policy_type.into(),
            interval_minutes: None,
            retain: None,
            time: None,
            force_full_snapshot_day: None,
            day_of_week: None,
            date_of_month: None,
        }
    }

    fn err(args: &CreateSchedulePolicyArgs) -> String {
        policy_item(args).unwrap_err().to_string()
    }

    #[test]
    fn golden_g9_empty_policy() {
        let table = format_table(&table_rows(&[json!({"metadata": {"name": "testpolicy1"}, "policy": {}})]));
        let expected = "NAME          INTERVAL-MINUTES   DAILY   WEEKLY   MONTHLY\n\
                        testpolicy1   N/A                N/A     N/A      N/A\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn item_23_valid_members_print_their_values() {
        let p = json!({"metadata": {"name": "testpolicy"}, "policy": {
            "interval": {"intervalMinutes": 60},
            "daily": {"time": "12:15pm"},
            "weekly": {"day": "Sun", "time": "12:15pm"},
            "monthly": {"date": 15, "time": "12:15pm"},
        }});
        assert_eq!(table_rows(&[p])[1], ["testpolicy", "60", "12:15pm", "Sun@12:15pm", "15@12:15pm"]);
    }

    #[test]
    fn item_23_invalid_members_print_invalid() {
        let p = json!({"metadata": {"name": "bad"}, "policy": {
            "interval": {"intervalMinutes": 0},
            "daily": {"time": "13:15pm"},
            "weekly": {"day": "Funday", "time": "12:15pm"},
            "monthly": {"date": 32, "time": "12:15pm"},
        }});
        assert_eq!(table_rows(&[p])[1], ["bad", INVALID, INVALID, INVALID, INVALID]);
        // Wrong types (written by hand past a lax schema) and explicit nulls.
        let p = json!({"metadata": {"name": "odd"}, "policy": {
            "interval": {"intervalMinutes": "5"}, "daily": null, "weekly": "Sunday", "monthly": {"time": "1:00AM"},
        }});
        assert_eq!(table_rows(&[p])[1], ["odd", INVALID, NOT_CONFIGURED, INVALID, INVALID]);
        // One invalid member does not make the others invalid.
        let p = json!({"metadata": {"name": "mixed"}, "policy": {
            "interval": {"intervalMinutes": -1}, "daily": {"time": "1:00AM", "forceFullSnapshotDay": "monday"},
        }});
        let expected = "NAME    INTERVAL-MINUTES   DAILY    WEEKLY   MONTHLY\n\
                        mixed   Invalid            1:00AM   N/A      N/A\n";
        assert_eq!(format_table(&table_rows(&[p])), expected);
    }

    #[test]
    fn item_24_daily_policy_stores_storks_fields() {
        let mut a = args("Daily");
        a.time = Some("12:30PM".into());
        a.retain = Some(2);
        let item = policy_item(&a).expect("valid");
        let daily = item.daily.expect("daily");
        assert_eq!(
            (daily.time.as_str(), daily.retain, daily.force_full_snapshot_day.as_str()),
            ("12:30PM", Some(2), "monday")
        );
        assert!(item.interval.is_none() && item.weekly.is_none() && item.monthly.is_none());
    }

    #[test]
    fn item_24_validation_messages() {
        let mut a = args("Interval");
        a.interval_minutes = Some(0);
        assert_eq!(err(&a), "Invalid intervalMinutes (0) in Interval policy");
        let mut a = args("Daily");
        a.time = Some("12:75PM".into());
        assert_eq!(err(&a), "Invalid time (12:75PM) in Daily policy: parsing time \"12:75PM\": minute out of range");
        let mut a = args("Weekly");
        a.day_of_week = Some("FUNDAY".into());
        assert_eq!(err(&a), "Invalid day of the week (funday) in Weekly policy");
        let mut a = args("Monthly");
        a.date_of_month = Some(32);
        assert_eq!(err(&a), "Invalid date of the month (32) in Monthly policy");
        let mut a = args("daily");
        a.force_full_snapshot_day = Some("Someday".into());
        assert_eq!(err(&a), "invalid day of the week (someday) in policy.daily.forceFullSnapshotDay");
    }

    #[test]
    fn flags_of_other_types_and_bad_values_are_refused() {
        let mut a = args("interval");
        a.time = Some("1:00AM".into());
        assert_eq!(policy_item(&a), Err(PolicyError::IntervalFlags));
        let mut a = args("DAILY");
        a.day_of_week = Some("Sun".into());
        assert_eq!(policy_item(&a), Err(PolicyError::DailyFlags));
        let mut a = args("Weekly");
        a.force_full_snapshot_day = Some("Mon".into());
        assert_eq!(policy_item(&a), Err(PolicyError::WeeklyFlags));
        let mut a = args("Monthly");
        a.interval_minutes = Some(5);
        assert_eq!(policy_item(&a), Err(PolicyError::MonthlyFlags));
        assert_eq!(
            err(&args("hourly")),
            "need to provide a valid schedule policy type. Valid schedule types are Interval, Daily, Weekly and Monthly"
        );
        // retain is checked first, whatever the type.
        let mut a = args("hourly");
        a.retain = Some(0);
        assert_eq!(err(&a), "need to provide a valid value for retain. It should be a positive integer");
    }

    #[test]
    fn defaults_per_type() {
        let interval = policy_item(&args("Interval")).expect("interval").interval.expect("member");
        assert_eq!((interval.interval_minutes, interval.retain), (30, Some(10)));
        let weekly = policy_item(&args("weekly")).expect("weekly").weekly.expect("member");
        assert_eq!((weekly.day.as_str(), weekly.time.as_str(), weekly.retain), ("sunday", "12:00AM", Some(7)));
        let mut a = args("Weekly");
        a.day_of_week = Some("Thurs".into());
        assert_eq!(policy_item(&a).expect("thurs").weekly.expect("member").day, "thurs");
        let monthly = policy_item(&args("MONTHLY")).expect("monthly").monthly.expect("member");
        assert_eq!((monthly.date, monthly.time.as_str(), monthly.retain), (1, "12:00AM", Some(12)));
        assert_eq!(policy_item(&args("Daily")).expect("daily").daily.expect("member").retain, Some(30));
    }

    #[test]
    fn item_25_a_used_policy_names_its_schedules() {
        let schedules = [
            json!({"metadata": {"name": "test-migration-schedule", "namespace": "test-ns"}, "spec": {"schedulePolicyName": "test-policy"}}),
            json!({"metadata": {"name": "other", "namespace": "a"}, "spec": {"schedulePolicyName": "other-policy"}}),
        ];
        let users = schedules_using(&schedules, "test-policy");
        assert_eq!(users, ["test-ns/test-migration-schedule"]);
        let e = PolicyError::InUse { name: "test-policy".into(), schedules: users };
        assert_eq!(
            e.to_string(),
            "cannot delete the schedule policy test-policy.\nThe resource is linked to -> Migration Schedules : test-ns/test-migration-schedule\n"
        );
        let more = [
            json!({"metadata": {"name": "b", "namespace": "ns2"}, "spec": {"schedulePolicyName": "p"}}),
            json!({"metadata": {"name": "z", "namespace": "ns1"}, "spec": {"schedulePolicyName": "p"}}),
            json!({"metadata": {"name": "a", "namespace": "ns2"}, "spec": {"schedulePolicyName": "p"}}),
        ];
        let e = PolicyError::InUse { name: "p".into(), schedules: schedules_using(&more, "p") };
        assert_eq!(
            e.to_string(),
            "cannot delete the schedule policy p.\nThe resource is linked to -> Migration Schedules : ns1/z , ns2/a , ns2/b\n"
        );
        assert!(schedules_using(&more, "unused").is_empty());
    }
}
