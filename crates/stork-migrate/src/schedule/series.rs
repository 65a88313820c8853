//! The Migrations of a schedule as a series: which one is full, what each is named, which are kept.

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use stork_api::{MigrationStatusType, SchedulePolicyType, ScheduledMigrationStatus};

/// Every this-many-th Migration of a schedule is full (everything rewritten on the destination).
pub const FULL_EVERY: u64 = 7;

/// Whether Migration number `sequence` (from 1) of a schedule is full, and why, as its status says.
pub fn full_or_incremental(sequence: u64, schedule: &str, pair_mode: Option<&str>) -> (bool, String) {
    if pair_mode == Some("DisasterRecovery") {
        return (false, "Incremental: pair mode DisasterRecovery".to_string());
    }
    if sequence > 0 && sequence.is_multiple_of(FULL_EVERY) {
        return (true, format!("Full: {} of schedule {schedule}", ordinal(sequence)));
    }
    (false, format!("Incremental: {} of schedule {schedule}", ordinal(sequence)))
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `<schedule>-<policy type>-YYYY-MM-DD-HHMMSS` in the schedule's zone, as Stork names them, shortened so
/// that a suffix for uniqueness still fits a name's 253 characters; `taken` names are skipped by adding
/// `-2`, `-3`, ...
pub fn migration_name(
    schedule: &str,
    kind: SchedulePolicyType,
    at: Timestamp,
    tz: &TimeZone,
    taken: &BTreeSet<String>,
) -> String {
    let stamp = at.to_zoned(tz.clone()).strftime("%Y-%m-%d-%H%M%S").to_string();
    let kind = format!("{kind:?}").to_lowercase();
    let tail = format!("-{kind}-{stamp}");
    let room = 253 - tail.len() - 4;
    let head: String = schedule.chars().take(room).collect();
    let base = format!("{}{tail}", head.trim_end_matches(['-', '.']));
    if !taken.contains(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}-{n}")).find(|name| !taken.contains(name)).unwrap_or(base)
}

/// The items of one policy type to delete so that `retain` remain, oldest first, never the newest
/// successful one and never one still running.
pub fn to_prune(items: &[ScheduledMigrationStatus], retain: usize) -> Vec<String> {
    let retain = retain.max(1);
    if items.len() <= retain {
        return Vec::new();
    }
    let mut ordered: Vec<&ScheduledMigrationStatus> = items.iter().collect();
    ordered.sort_by(|a, b| {
        let at = |i: &ScheduledMigrationStatus| i.creation_timestamp.as_ref().map(|t| t.0);
        at(a).cmp(&at(b)).then_with(|| a.name.cmp(&b.name))
    });
    let newest_success = ordered
        .iter()
        .rev()
        .find(|i| matches!(i.status, MigrationStatusType::Successful | MigrationStatusType::PartialSuccess))
        .map(|i| i.name.clone());
    let running = |i: &ScheduledMigrationStatus| {
        matches!(
            i.status,
            MigrationStatusType::Pending | MigrationStatusType::InProgress | MigrationStatusType::Initial
        )
    };
    let mut excess = items.len() - retain;
    let mut out = Vec::new();
    for item in ordered {
        if excess == 0 {
            break;
        }
        if Some(&item.name) == newest_success.as_ref() || running(item) {
            continue;
        }
        out.push(item.name.clone());
        excess -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    #[test]
    fn every_seventh_is_full_unless_the_pair_is_for_disaster_recovery() {
        let kinds: Vec<bool> = (1..=14).map(|n| full_or_incremental(n, "nightly", None).0).collect();
        assert_eq!(kinds.iter().filter(|f| **f).count(), 2);
        assert!(kinds[6] && kinds[13], "the 7th and the 14th");
        assert_eq!(full_or_incremental(7, "nightly", None).1, "Full: 7th of schedule nightly");
        assert_eq!(
            full_or_incremental(2, "nightly", Some("OneTimeMigration")).1,
            "Incremental: 2nd of schedule nightly"
        );
        assert_eq!(
            full_or_incremental(7, "nightly", Some("DisasterRecovery")),
            (false, "Incremental: pair mode DisasterRecovery".to_string())
        );
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(23), "23rd");
    }

    #[test]
    fn names_follow_stork_and_stay_unique() {
        let at: Timestamp = "2026-03-02T23:15:07Z".parse().expect("ts");
        let taken = BTreeSet::new();
        assert_eq!(
            migration_name("nightly", SchedulePolicyType::Interval, at, &TimeZone::UTC, &taken),
            "nightly-interval-2026-03-02-231507"
        );
        let taken: BTreeSet<String> = ["nightly-daily-2026-03-02-231507".to_string()].into();
        assert_eq!(
            migration_name("nightly", SchedulePolicyType::Daily, at, &TimeZone::UTC, &taken),
            "nightly-daily-2026-03-02-231507-2"
        );
        let long = "a".repeat(300);
        assert!(migration_name(&long, SchedulePolicyType::Monthly, at, &TimeZone::UTC, &BTreeSet::new()).len() <= 249);
    }

    fn item(name: &str, minute: i64, status: MigrationStatusType) -> ScheduledMigrationStatus {
        let t = Timestamp::from_second(1_800_000_000 + minute * 60).expect("ts");
        ScheduledMigrationStatus { name: name.into(), creation_timestamp: Some(Time(t)), status, ..Default::default() }
    }

    #[test]
    fn retain_keeps_the_newest_and_always_the_newest_success() {
        use MigrationStatusType::*;
        let items = vec![
            item("m1", 1, Successful),
            item("m2", 2, Failed),
            item("m3", 3, Failed),
            item("m4", 4, Failed),
            item("m5", 5, Failed),
        ];
        assert_eq!(to_prune(&items, 3), vec!["m2".to_string(), "m3".to_string()], "m1 is the newest success");
        let items = vec![
            item("m1", 1, Successful),
            item("m2", 2, Successful),
            item("m3", 3, Successful),
            item("m4", 4, InProgress),
        ];
        assert_eq!(to_prune(&items, 3), vec!["m1".to_string()]);
        assert_eq!(to_prune(&items, 10), Vec::<String>::new());
        let running = vec![item("m1", 1, InProgress), item("m2", 2, Pending)];
        assert!(to_prune(&running, 1).is_empty(), "never one that runs");
    }
}
