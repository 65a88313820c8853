//! What a schedule's history says: pure summaries of its items.

use std::collections::BTreeMap;

use jiff::Timestamp;
use stork_api::{MigrationScheduleStatus, MigrationStatusType, SchedulePolicyType, ScheduledMigrationStatus};
use stork_migrate::schedule::trigger::History;

/// An item whose Migration has not finished.
pub fn running(item: &ScheduledMigrationStatus) -> bool {
    matches!(item.status, MigrationStatusType::Pending | MigrationStatusType::InProgress | MigrationStatusType::Initial)
}

/// The trigger history: the schedule's creation and the last item of each kind.
pub fn history(status: &MigrationScheduleStatus, created: Timestamp) -> History {
    let last = |kind| {
        status
            .items
            .get(&kind)
            .and_then(|items| items.iter().filter_map(|i| i.creation_timestamp.as_ref().map(|t| t.0)).max())
    };
    History {
        created,
        last: [
            last(SchedulePolicyType::Interval),
            last(SchedulePolicyType::Daily),
            last(SchedulePolicyType::Weekly),
            last(SchedulePolicyType::Monthly),
            last(SchedulePolicyType::Continuous),
        ],
    }
}

/// When the newest Successful Migration finished (as `storkctl get migrationschedule` reads it).
pub fn last_success(items: &BTreeMap<SchedulePolicyType, Vec<ScheduledMigrationStatus>>) -> Option<Timestamp> {
    items
        .values()
        .flatten()
        .filter(|i| i.status == MigrationStatusType::Successful)
        .filter_map(|i| i.finish_timestamp.as_ref().map(|t| t.0))
        .max()
}

/// Finished Migrations that failed since the last one that did not (newest first).
pub fn consecutive_failures(items: &BTreeMap<SchedulePolicyType, Vec<ScheduledMigrationStatus>>) -> u32 {
    let mut finished: Vec<&ScheduledMigrationStatus> = items.values().flatten().filter(|i| !running(i)).collect();
    finished.sort_by_key(|i| std::cmp::Reverse(i.creation_timestamp.as_ref().map(|t| t.0)));
    finished.iter().take_while(|i| i.status == MigrationStatusType::Failed).count() as u32
}

/// Every item's name.
pub fn names(
    items: &BTreeMap<SchedulePolicyType, Vec<ScheduledMigrationStatus>>,
) -> std::collections::BTreeSet<String> {
    items.values().flatten().map(|i| i.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn item(name: &str, minute: i64, status: MigrationStatusType, finished: Option<i64>) -> ScheduledMigrationStatus {
        let t = |m: i64| Time(Timestamp::from_second(1_800_000_000 + m * 60).expect("ts"));
        ScheduledMigrationStatus {
            name: name.into(),
            creation_timestamp: Some(t(minute)),
            finish_timestamp: finished.map(t),
            status,
            ..Default::default()
        }
    }

    #[test]
    fn the_history_summaries() {
        use MigrationStatusType::*;
        let items: BTreeMap<_, _> = [
            (
                SchedulePolicyType::Interval,
                vec![item("a", 1, Successful, Some(2)), item("b", 3, Failed, Some(4)), item("c", 5, Failed, Some(6))],
            ),
            (SchedulePolicyType::Daily, vec![item("d", 0, Successful, Some(9)), item("e", 7, InProgress, None)]),
        ]
        .into();
        assert_eq!(last_success(&items), Some(Timestamp::from_second(1_800_000_000 + 9 * 60).expect("ts")));
        assert_eq!(consecutive_failures(&items), 2, "the running one does not count");
        let status = MigrationScheduleStatus { items: items.clone(), ..Default::default() };
        let created = Timestamp::from_second(1_700_000_000).expect("ts");
        let h = history(&status, created);
        assert_eq!(h.last[0], Some(Timestamp::from_second(1_800_000_000 + 5 * 60).expect("ts")));
        assert_eq!(h.last[2], None);
        assert!(running(&items[&SchedulePolicyType::Daily][1]));
        assert_eq!(names(&items).len(), 5);
    }
}
