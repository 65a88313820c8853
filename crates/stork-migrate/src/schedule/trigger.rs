//! When a schedule's policy fires, in an explicit time zone.
//!
//! Interval members fire once `intervalMinutes` have passed since the last Migration of that kind
//! (strictly, as Stork; at once when there is none). Daily, weekly and monthly members have occurrences:
//! a civil time on a civil date in the zone, one instant per date (a time that a DST change skips is
//! moved forward by the gap, 2:30 AM to 3:30 AM; one that it repeats comes at the first of the two),
//! so DST neither skips nor doubles a run. An occurrence fires when it is later than the last Migration of its kind (and
//! than the schedule itself). Unlike Stork, which skipped an occurrence missed by more than an hour, a
//! missed one fires once, late, and says by how much; several missed ones fire once.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use stork_api::{SchedulePolicyItem, SchedulePolicyType};

use super::policy::{parse_day, parse_time};

/// A policy member that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub kind: SchedulePolicyType,
    /// When it was due (an occurrence, or the end of the interval).
    pub scheduled: Timestamp,
}

impl Due {
    /// How late a run starting at `now` is, when more than a minute late.
    pub fn lateness(&self, now: Timestamp) -> Option<SignedDuration> {
        let late = now.duration_since(self.scheduled);
        (late > SignedDuration::from_secs(60)).then_some(late)
    }
}

/// What the trigger decision looks at besides the policy.
#[derive(Debug, Clone, Copy)]
pub struct History {
    /// When the schedule was created: occurrences before it are not runs it missed.
    pub created: Timestamp,
    /// When the last Migration of each kind was created, in the order Interval, Daily, Weekly, Monthly,
    /// Continuous.
    pub last: [Option<Timestamp>; 5],
}

fn index(kind: SchedulePolicyType) -> usize {
    match kind {
        SchedulePolicyType::Interval => 0,
        SchedulePolicyType::Daily => 1,
        SchedulePolicyType::Weekly => 2,
        SchedulePolicyType::Monthly => 3,
        SchedulePolicyType::Continuous => 4,
    }
}

/// The first member that is due at `now` (Interval, Daily, Weekly, Monthly), if any. The policy must
/// have been validated.
pub fn due(policy: &SchedulePolicyItem, history: &History, now: Timestamp, tz: &TimeZone) -> Option<Due> {
    for kind in super::policy::kinds(policy) {
        let last = history.last[index(kind)];
        let scheduled = match kind {
            SchedulePolicyType::Interval | SchedulePolicyType::Continuous => {
                let minutes = every(policy, kind)?;
                let Some(last) = last else { return Some(Due { kind, scheduled: now }) };
                let end = last.checked_add(SignedDuration::from_mins(minutes)).ok()?;
                if end < now { Some(end) } else { None }
            }
            _ => {
                let previous = occurrence_before(policy, kind, now, tz)?;
                let floor = last.unwrap_or(history.created).max(history.created);
                (previous > floor).then_some(previous)
            }
        };
        if let Some(scheduled) = scheduled {
            return Some(Due { kind, scheduled });
        }
    }
    None
}

/// When the policy fires next after `now` (the earliest of its members).
pub fn next(policy: &SchedulePolicyItem, history: &History, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
    if let Some(due) = due(policy, history, now, tz) {
        return Some(due.scheduled.max(now));
    }
    super::policy::kinds(policy)
        .into_iter()
        .filter_map(|kind| match kind {
            SchedulePolicyType::Interval | SchedulePolicyType::Continuous => {
                let minutes = every(policy, kind)?;
                history.last[index(kind)]?.checked_add(SignedDuration::from_mins(minutes)).ok()
            }
            _ => occurrence_after(policy, kind, now, tz),
        })
        .min()
}

/// Minutes between the Migrations of an interval-like member: an interval's, or a continuous member's
/// full passes.
fn every(policy: &SchedulePolicyItem, kind: SchedulePolicyType) -> Option<i64> {
    match kind {
        SchedulePolicyType::Interval => Some(policy.interval.as_ref()?.interval_minutes),
        SchedulePolicyType::Continuous => {
            let minutes = super::policy::full_sync_interval(policy)?.as_secs() / 60;
            i64::try_from(minutes).ok()
        }
        _ => None,
    }
}

/// The latest occurrence of a calendar member at or before `now`.
pub fn occurrence_before(
    policy: &SchedulePolicyItem,
    kind: SchedulePolicyType,
    now: Timestamp,
    tz: &TimeZone,
) -> Option<Timestamp> {
    candidates(policy, kind, now, tz)?.into_iter().filter(|t| *t <= now).max()
}

/// The earliest occurrence of a calendar member after `now`.
pub fn occurrence_after(
    policy: &SchedulePolicyItem,
    kind: SchedulePolicyType,
    now: Timestamp,
    tz: &TimeZone,
) -> Option<Timestamp> {
    candidates(policy, kind, now, tz)?.into_iter().filter(|t| *t > now).min()
}

/// Occurrences around `now`: enough dates back and forth that the previous and the next are among them.
fn candidates(
    policy: &SchedulePolicyItem,
    kind: SchedulePolicyType,
    now: Timestamp,
    tz: &TimeZone,
) -> Option<Vec<Timestamp>> {
    let today = now.to_zoned(tz.clone()).date();
    let at = |date: Date, time: Time| -> Option<Timestamp> {
        // `to_zoned` resolves a skipped time forward and a repeated one to its first instant.
        DateTime::from_parts(date, time).to_zoned(tz.clone()).ok().map(|z| z.timestamp())
    };
    let out: Vec<Timestamp> = match kind {
        SchedulePolicyType::Interval | SchedulePolicyType::Continuous => return None,
        SchedulePolicyType::Daily => {
            let time = parse_time(&policy.daily.as_ref()?.time).ok()?;
            (-1i64..=1).filter_map(|d| today.checked_add(d.days()).ok()).filter_map(|date| at(date, time)).collect()
        }
        SchedulePolicyType::Weekly => {
            let weekly = policy.weekly.as_ref()?;
            let (time, day) = (parse_time(&weekly.time).ok()?, parse_day(&weekly.day)?);
            (-7i64..=7)
                .filter_map(|d| today.checked_add(d.days()).ok())
                .filter(|date| date.weekday() == day)
                .filter_map(|date| at(date, time))
                .collect()
        }
        SchedulePolicyType::Monthly => {
            let monthly = policy.monthly.as_ref()?;
            let time = parse_time(&monthly.time).ok()?;
            let first = today.first_of_month();
            (-2i64..=1)
                .filter_map(|m| first.checked_add(m.months()).ok())
                // Go's date normalisation, as Stork: the 31st of a 30-day month is the 1st of the next.
                .filter_map(|month| month.checked_add((monthly.date - 1).days()).ok())
                .filter_map(|date| at(date, time))
                .collect()
        }
    };
    Some(out)
}

/// Weekday names for messages.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Sunday => "Sunday",
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stork_api::{DailyPolicy, IntervalPolicy, MonthlyPolicy, WeeklyPolicy};

    fn tz() -> TimeZone {
        TimeZone::get("America/New_York").expect("tz database")
    }

    /// A civil time in New York.
    fn ny(text: &str) -> Timestamp {
        text.parse::<DateTime>().expect("datetime").to_zoned(tz()).expect("zoned").timestamp()
    }

    fn interval(minutes: i64) -> SchedulePolicyItem {
        SchedulePolicyItem {
            interval: Some(IntervalPolicy { interval_minutes: minutes, ..Default::default() }),
            ..Default::default()
        }
    }

    fn daily(time: &str) -> SchedulePolicyItem {
        SchedulePolicyItem {
            daily: Some(DailyPolicy { time: time.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    fn history(created: &str, last: [Option<&str>; 4]) -> History {
        let last = [last[0], last[1], last[2], last[3], None];
        History { created: ny(created), last: last.map(|l| l.map(ny)) }
    }

    #[test]
    fn stork_item_26_interval_and_daily() {
        let policy = interval(60);
        let now = ny("2026-03-02T23:16");
        let h = |last: &str| history("2026-01-01T00:00", [Some(last), None, None, None]);
        assert_eq!(due(&policy, &h("2026-03-02T23:14"), now, &tz()), None);
        assert_eq!(due(&policy, &h("2026-03-02T22:16"), now, &tz()), None, "strict");
        assert!(due(&policy, &h("2026-03-02T22:14"), now, &tz()).is_some());
        let none = history("2026-01-01T00:00", [None; 4]);
        assert_eq!(due(&policy, &none, now, &tz()), Some(Due { kind: SchedulePolicyType::Interval, scheduled: now }));

        let policy = daily("11:15PM");
        let h = |last: &str| history("2026-01-01T00:00", [None, Some(last), None, None]);
        let fired = due(&policy, &h("2026-03-02T23:14"), now, &tz()).expect("due");
        assert_eq!(fired, Due { kind: SchedulePolicyType::Daily, scheduled: ny("2026-03-02T23:15") });
        assert_eq!(fired.lateness(now), None, "a minute is not late");
        assert_eq!(due(&policy, &h("2026-03-02T23:15"), now, &tz()), None, "not twice in one window");
        assert_eq!(due(&policy, &h("2026-03-02T23:15"), ny("2026-03-03T21:15"), &tz()), None);
        assert_eq!(next(&policy, &h("2026-03-02T23:15"), now, &tz()), Some(ny("2026-03-03T23:15")));
    }

    #[test]
    fn a_missed_occurrence_fires_once_late_and_a_new_schedule_waits_for_its_first() {
        let policy = daily("3:00AM");
        // The controller was down from before 3 AM on the 2nd until noon on the 4th: one run, 9 h late.
        let h = history("2026-01-01T00:00", [None, Some("2026-03-01T03:00"), None, None]);
        let now = ny("2026-03-04T12:00");
        let fired = due(&policy, &h, now, &tz()).expect("due");
        assert_eq!(fired.scheduled, ny("2026-03-04T03:00"));
        assert_eq!(fired.lateness(now), Some(SignedDuration::from_hours(9)));
        let after = history("2026-01-01T00:00", [None, Some("2026-03-04T12:00"), None, None]);
        assert_eq!(due(&policy, &after, ny("2026-03-04T12:30"), &tz()), None, "once");
        // Created at 3 PM: this morning's occurrence was before it.
        let fresh = history("2026-03-04T15:00", [None; 4]);
        assert_eq!(due(&policy, &fresh, ny("2026-03-04T15:01"), &tz()), None);
        assert!(due(&policy, &fresh, ny("2026-03-05T03:00"), &tz()).is_some());
    }

    #[test]
    fn dst_changes_neither_skip_nor_double_a_run() {
        // 2026-03-08: New York skips 2:00-3:00 AM. A 2:30 AM policy runs at 3:30 AM EDT that day.
        let policy = daily("2:30AM");
        let h = history("2026-01-01T00:00", [None, Some("2026-03-07T02:30"), None, None]);
        let before = "2026-03-08T07:29:00Z".parse::<Timestamp>().expect("ts");
        assert_eq!(due(&policy, &h, before, &tz()), None);
        let at = "2026-03-08T07:30:00Z".parse::<Timestamp>().expect("ts"); // 3:30 AM EDT
        let fired = due(&policy, &h, at, &tz()).expect("the skipped time still runs");
        assert_eq!(fired.scheduled, at);
        // 2026-11-01: 1:00-2:00 AM happens twice. A 1:30 AM policy runs at the first, once.
        let policy = daily("1:30AM");
        let first = "2026-11-01T05:30:00Z".parse::<Timestamp>().expect("ts"); // 1:30 EDT
        let second = "2026-11-01T06:30:00Z".parse::<Timestamp>().expect("ts"); // 1:30 EST
        let h = history("2026-01-01T00:00", [None, Some("2026-10-31T01:30"), None, None]);
        assert_eq!(due(&policy, &h, first, &tz()).map(|d| d.scheduled), Some(first));
        let ran = History { last: [None, Some(first), None, None, None], ..h };
        assert_eq!(due(&policy, &ran, second, &tz()), None, "not again an hour later");
        assert_eq!(next(&policy, &ran, second, &tz()), Some(ny("2026-11-02T01:30")));
        // An interval is absolute time, a DST change does not move it.
        let h = History { created: first, last: [Some(first), None, None, None, None] };
        assert!(due(&interval(60), &h, second, &tz()).is_none(), "60 min after 05:30Z is 06:30Z, strict");
    }

    #[test]
    fn weekly_and_monthly_occurrences() {
        let weekly = SchedulePolicyItem {
            weekly: Some(WeeklyPolicy { day: "Sun".into(), time: "12:15pm".into(), ..Default::default() }),
            ..Default::default()
        };
        // 2026-03-04 is a Wednesday: the previous Sunday is the 1st, the next the 8th.
        let now = ny("2026-03-04T10:00");
        assert_eq!(occurrence_before(&weekly, SchedulePolicyType::Weekly, now, &tz()), Some(ny("2026-03-01T12:15")));
        assert_eq!(occurrence_after(&weekly, SchedulePolicyType::Weekly, now, &tz()), Some(ny("2026-03-08T12:15")));
        let monthly = SchedulePolicyItem {
            monthly: Some(MonthlyPolicy { date: 31, time: "12:00am".into(), ..Default::default() }),
            ..Default::default()
        };
        // Go rolls February 31 into March 3 (2026 is not a leap year), as Stork does.
        let now = ny("2026-03-02T00:00");
        assert_eq!(occurrence_before(&monthly, SchedulePolicyType::Monthly, now, &tz()), Some(ny("2026-01-31T00:00")));
        assert_eq!(occurrence_after(&monthly, SchedulePolicyType::Monthly, now, &tz()), Some(ny("2026-03-03T00:00")));
        let h = history("2026-01-01T00:00", [None, None, None, Some("2026-01-31T00:00")]);
        assert_eq!(due(&monthly, &h, ny("2026-03-03T00:05"), &tz()).map(|d| d.kind), Some(SchedulePolicyType::Monthly));
    }

    #[test]
    fn the_first_due_member_wins_in_storks_order() {
        let policy = SchedulePolicyItem {
            interval: Some(IntervalPolicy { interval_minutes: 30, ..Default::default() }),
            daily: Some(DailyPolicy { time: "1:00AM".into(), ..Default::default() }),
            ..Default::default()
        };
        let h = history("2026-01-01T00:00", [Some("2026-03-02T00:50"), Some("2026-03-01T01:00"), None, None]);
        let now = ny("2026-03-02T01:05");
        assert_eq!(due(&policy, &h, now, &tz()).map(|d| d.kind), Some(SchedulePolicyType::Daily));
        let h = history("2026-01-01T00:00", [Some("2026-03-02T00:30"), Some("2026-03-01T01:00"), None, None]);
        assert_eq!(due(&policy, &h, now, &tz()).map(|d| d.kind), Some(SchedulePolicyType::Interval));
        assert_eq!(weekday_name(Weekday::Thursday), "Thursday");
    }
}
