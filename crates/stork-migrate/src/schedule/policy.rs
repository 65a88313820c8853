//! SchedulePolicy members as Stork reads them: Go's Kitchen times (`3:04PM` or `3:04pm`), Stork's day
//! names, its validation messages (which users and tools match on) and its default retain counts.

use jiff::civil::{Time, Weekday};
use stork_api::{
    ContinuousPolicy, DailyPolicy, IntervalPolicy, MonthlyPolicy, SchedulePolicyItem, SchedulePolicyType, WeeklyPolicy,
};

/// Go's `time.Kitchen` layout, and the lower-case one Stork falls back to.
const KITCHEN: &str = "3:04PM";
const KITCHEN_LOWER: &str = "3:04pm";

/// The time of day of `text`, as Stork's `getHourMinute`: parsed with `3:04PM`, then `3:04pm`; the error
/// is Go's from the second attempt (`parsing time "12:75PM": minute out of range`).
pub fn parse_time(text: &str) -> Result<Time, String> {
    go_kitchen(text, KITCHEN).or_else(|_| go_kitchen(text, KITCHEN_LOWER))
}

/// Go's `time.Parse` for a Kitchen layout (`3`, `:`, `04`, `PM` or `pm`), with its error messages.
fn go_kitchen(value: &str, layout: &'static str) -> Result<Time, String> {
    let cannot = |rest: &str, element: &str| {
        format!("parsing time {value:?} as {layout:?}: cannot parse {rest:?} as {element:?}")
    };
    let digits = |s: &str, most: usize| s.bytes().take(most).take_while(u8::is_ascii_digit).count();
    // Hour: one or two digits.
    let n = digits(value, 2);
    if n == 0 {
        return Err(cannot(value, "3"));
    }
    let hour: i8 = value[..n].parse().map_err(|_| cannot(value, "3"))?;
    if hour > 12 {
        return Err(format!("parsing time {value:?}: hour out of range"));
    }
    let rest = &value[n..];
    let Some(rest) = rest.strip_prefix(':') else { return Err(cannot(rest, ":")) };
    // Minute: exactly two digits.
    if digits(rest, 2) != 2 {
        return Err(cannot(rest, "04"));
    }
    let minute: i8 = rest[..2].parse().map_err(|_| cannot(rest, "04"))?;
    if minute > 59 {
        return Err(format!("parsing time {value:?}: minute out of range"));
    }
    let rest = &rest[2..];
    let (am, pm) = if layout == KITCHEN { ("AM", "PM") } else { ("am", "pm") };
    let marker = rest.get(..2).ok_or_else(|| cannot(rest, &layout[4..]))?;
    let hour = match marker {
        m if m == pm && hour < 12 => hour + 12,
        m if m == am && hour == 12 => 0,
        m if m == pm || m == am => hour,
        _ => return Err(cannot(rest, &layout[4..])),
    };
    let extra = &rest[2..];
    if !extra.is_empty() {
        return Err(format!("parsing time {value:?}: extra text: {extra:?}"));
    }
    Time::new(hour, minute, 0, 0).map_err(|e| e.to_string())
}

/// A day name Stork accepts (`Sunday`, `Sun`, `sunday`, `sun`, ..., `Thur`, `Thurs`, ...).
pub fn parse_day(text: &str) -> Option<Weekday> {
    let lower = text.to_ascii_lowercase();
    // Only the capitalised and the lower-case forms, as Stork's table.
    let capitalised = lower.get(..1).map(|f| f.to_ascii_uppercase() + &lower[1..]).unwrap_or_default();
    if text != lower && text != capitalised {
        return None;
    }
    Some(match lower.as_str() {
        "sunday" | "sun" => Weekday::Sunday,
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        _ => return None,
    })
}

/// Why a policy cannot be used, as Stork says it (members checked Interval, Daily, Weekly, Monthly).
pub fn validate(policy: &SchedulePolicyItem) -> Result<(), String> {
    if let Some(interval) = &policy.interval
        && interval.interval_minutes < 1
    {
        return Err(format!("Invalid intervalMinutes ({}) in Interval policy", interval.interval_minutes));
    }
    if let Some(daily) = &policy.daily {
        parse_time(&daily.time).map_err(|e| format!("Invalid time ({}) in Daily policy: {e}", daily.time))?;
        if !daily.force_full_snapshot_day.is_empty() && parse_day(&daily.force_full_snapshot_day).is_none() {
            return Err(format!(
                "Invalid day of the week ({}) for forceFullSnapshotDay in Daily policy",
                daily.force_full_snapshot_day
            ));
        }
    }
    if let Some(weekly) = &policy.weekly {
        parse_time(&weekly.time).map_err(|e| format!("Invalid time ({}) in Weekly policy: {e}", weekly.time))?;
        if parse_day(&weekly.day).is_none() {
            return Err(format!("Invalid day of the week ({}) in Weekly policy", weekly.day));
        }
    }
    if let Some(monthly) = &policy.monthly {
        parse_time(&monthly.time).map_err(|e| format!("Invalid time ({}) in Monthly policy: {e}", monthly.time))?;
        if !(1..=31).contains(&monthly.date) {
            return Err(format!("Invalid date of the month ({}) in Monthly policy", monthly.date));
        }
    }
    if let Some(continuous) = &policy.continuous {
        let debounce = continuous.debounce_milliseconds.unwrap_or(DEFAULT_DEBOUNCE_MILLISECONDS);
        if !(0..=MAX_DEBOUNCE_MILLISECONDS).contains(&debounce) {
            return Err(format!(
                "Invalid debounceMilliseconds ({debounce}) in Continuous policy: it must be between 0 and {MAX_DEBOUNCE_MILLISECONDS}"
            ));
        }
        let minutes = continuous.full_sync_interval_minutes.unwrap_or(DEFAULT_FULL_SYNC_MINUTES);
        if minutes < 1 {
            return Err(format!("Invalid fullSyncIntervalMinutes ({minutes}) in Continuous policy"));
        }
    }
    if policy.interval.is_none()
        && policy.daily.is_none()
        && policy.weekly.is_none()
        && policy.monthly.is_none()
        && policy.continuous.is_none()
    {
        return Err("the policy sets none of interval, daily, weekly, monthly or continuous".to_string());
    }
    Ok(())
}

/// How many Migrations of `kind` a schedule keeps: the policy's `retain`, or Stork's default for the kind
/// when unset or not positive.
pub fn retain(policy: &SchedulePolicyItem, kind: SchedulePolicyType) -> usize {
    let (set, default) = match kind {
        SchedulePolicyType::Interval => (policy.interval.as_ref().and_then(|p| p.retain), 10),
        SchedulePolicyType::Daily => (policy.daily.as_ref().and_then(|p| p.retain), 30),
        SchedulePolicyType::Weekly => (policy.weekly.as_ref().and_then(|p| p.retain), 7),
        SchedulePolicyType::Monthly => (policy.monthly.as_ref().and_then(|p| p.retain), 12),
        SchedulePolicyType::Continuous => (policy.continuous.as_ref().and_then(|p| p.retain), 10),
    };
    set.filter(|r| *r > 0).map_or(default, |r| usize::try_from(r).unwrap_or(default))
}

/// The longest a healthy schedule on `policy` waits between two Migrations: the shortest period among
/// the types it sets (a month counts 31 days, so that an alert on "older than K periods" never fires
/// early). `None` for a policy that sets no type. Alerts on the recovery point compare against it.
pub fn period(policy: &SchedulePolicyItem) -> Option<std::time::Duration> {
    const DAY: u64 = 24 * 60 * 60;
    kinds(policy)
        .into_iter()
        .map(|kind| match kind {
            SchedulePolicyType::Interval => {
                let minutes = policy.interval.as_ref().map_or(0, |p| p.interval_minutes);
                u64::try_from(minutes).unwrap_or(0).saturating_mul(60)
            }
            SchedulePolicyType::Daily => DAY,
            SchedulePolicyType::Weekly => 7 * DAY,
            SchedulePolicyType::Monthly => 31 * DAY,
            SchedulePolicyType::Continuous => full_sync_interval(policy).map_or(0, |d| d.as_secs()),
        })
        .filter(|seconds| *seconds > 0)
        .min()
        .map(std::time::Duration::from_secs)
}

/// The policy types a policy sets, in the order they are evaluated.
pub fn kinds(policy: &SchedulePolicyItem) -> Vec<SchedulePolicyType> {
    let mut out = Vec::new();
    if policy.interval.is_some() {
        out.push(SchedulePolicyType::Interval);
    }
    if policy.daily.is_some() {
        out.push(SchedulePolicyType::Daily);
    }
    if policy.weekly.is_some() {
        out.push(SchedulePolicyType::Weekly);
    }
    if policy.monthly.is_some() {
        out.push(SchedulePolicyType::Monthly);
    }
    if policy.continuous.is_some() {
        out.push(SchedulePolicyType::Continuous);
    }
    out
}

/// Default of `debounceMilliseconds`: short against the one-second target, long enough to make a burst
/// of changes to one object one write.
pub const DEFAULT_DEBOUNCE_MILLISECONDS: i64 = 100;
pub const MAX_DEBOUNCE_MILLISECONDS: i64 = 60_000;
/// Default of `fullSyncIntervalMinutes`.
pub const DEFAULT_FULL_SYNC_MINUTES: i64 = 60;

/// The continuous member of a validated policy: its debounce and its full-pass interval.
pub fn continuous(policy: &SchedulePolicyItem) -> Option<Continuous> {
    let member: &ContinuousPolicy = policy.continuous.as_ref()?;
    let debounce =
        member.debounce_milliseconds.unwrap_or(DEFAULT_DEBOUNCE_MILLISECONDS).clamp(0, MAX_DEBOUNCE_MILLISECONDS);
    Some(Continuous {
        debounce: std::time::Duration::from_millis(u64::try_from(debounce).unwrap_or(0)),
        full_sync_interval: full_sync_interval(policy)?,
    })
}

/// What a continuous member asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Continuous {
    pub debounce: std::time::Duration,
    pub full_sync_interval: std::time::Duration,
}

/// Minutes between a continuous member's full passes.
pub fn full_sync_interval(policy: &SchedulePolicyItem) -> Option<std::time::Duration> {
    let minutes = policy.continuous.as_ref()?.full_sync_interval_minutes.unwrap_or(DEFAULT_FULL_SYNC_MINUTES);
    Some(std::time::Duration::from_secs(u64::try_from(minutes).ok()?.saturating_mul(60)))
}

/// The policy storkctl creates and schedules fall back to when none is named.
pub const DEFAULT_MIGRATION_POLICY: &str = "default-migration-policy";

/// Stork's default policies.
pub fn defaults() -> Vec<(&'static str, SchedulePolicyItem)> {
    let interval = |minutes, retain| SchedulePolicyItem {
        interval: Some(IntervalPolicy { interval_minutes: minutes, retain, ..Default::default() }),
        ..Default::default()
    };
    vec![
        (DEFAULT_MIGRATION_POLICY, interval(30, None)),
        ("default-interval-policy", interval(15, Some(10))),
        (
            "default-daily-policy",
            SchedulePolicyItem {
                daily: Some(DailyPolicy { time: "12:00am".into(), retain: Some(7), ..Default::default() }),
                ..Default::default()
            },
        ),
        (
            "default-weekly-policy",
            SchedulePolicyItem {
                weekly: Some(WeeklyPolicy {
                    day: "Sunday".into(),
                    time: "12:00am".into(),
                    retain: Some(4),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
        (
            "default-monthly-policy",
            SchedulePolicyItem {
                monthly: Some(MonthlyPolicy {
                    date: 15,
                    time: "12:00am".into(),
                    retain: Some(12),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ),
    ]
}

/// The default policy named `name`.
pub fn default_policy(name: &str) -> Option<SchedulePolicyItem> {
    defaults().into_iter().find(|(n, _)| *n == name).map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_period_is_the_shortest_of_the_types_set() {
        use std::time::Duration;
        let interval = |minutes| Some(IntervalPolicy { interval_minutes: minutes, ..Default::default() });
        let daily = Some(DailyPolicy { time: "10:00PM".into(), ..Default::default() });
        assert_eq!(super::period(&SchedulePolicyItem::default()), None);
        assert_eq!(
            super::period(&SchedulePolicyItem { interval: interval(15), daily: daily.clone(), ..Default::default() }),
            Some(Duration::from_secs(900))
        );
        assert_eq!(
            super::period(&SchedulePolicyItem { daily, ..Default::default() }),
            Some(Duration::from_secs(86_400))
        );
        let monthly = Some(MonthlyPolicy { date: 1, time: "1:00AM".into(), ..Default::default() });
        assert_eq!(
            super::period(&SchedulePolicyItem { interval: interval(0), monthly, ..Default::default() }),
            Some(Duration::from_secs(31 * 86_400))
        );
    }

    use super::*;

    #[test]
    fn the_defaults_are_storks_and_valid() {
        let defaults = defaults();
        let names: Vec<&str> = defaults.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "default-migration-policy",
                "default-interval-policy",
                "default-daily-policy",
                "default-weekly-policy",
                "default-monthly-policy"
            ]
        );
        for (name, policy) in &defaults {
            assert_eq!(validate(policy), Ok(()), "{name}");
        }
        assert_eq!(
            default_policy(DEFAULT_MIGRATION_POLICY).and_then(|p| p.interval).map(|i| i.interval_minutes),
            Some(30)
        );
    }

    #[test]
    fn kitchen_times_parse_as_go_parses_them() {
        assert_eq!(parse_time("12:15pm"), Ok(Time::constant(12, 15, 0, 0)));
        assert_eq!(parse_time("12:15PM"), Ok(Time::constant(12, 15, 0, 0)));
        assert_eq!(parse_time("12:00am"), Ok(Time::constant(0, 0, 0, 0)));
        assert_eq!(parse_time("3:04PM"), Ok(Time::constant(15, 4, 0, 0)));
        assert_eq!(parse_time("11:15PM"), Ok(Time::constant(23, 15, 0, 0)));
        assert_eq!(parse_time("01:03AM"), Ok(Time::constant(1, 3, 0, 0)));
        assert_eq!(parse_time("12:75PM").unwrap_err(), "parsing time \"12:75PM\": minute out of range");
        assert_eq!(parse_time("13:15pm").unwrap_err(), "parsing time \"13:15pm\": hour out of range");
        assert_eq!(
            parse_time("1215").unwrap_err(),
            "parsing time \"1215\" as \"3:04pm\": cannot parse \"15\" as \":\""
        );
        assert_eq!(parse_time("").unwrap_err(), "parsing time \"\" as \"3:04pm\": cannot parse \"\" as \"3\"");
        assert_eq!(
            parse_time("12:15Pm").unwrap_err(),
            "parsing time \"12:15Pm\" as \"3:04pm\": cannot parse \"Pm\" as \"pm\""
        );
        assert_eq!(
            parse_time("12:15").unwrap_err(),
            "parsing time \"12:15\" as \"3:04pm\": cannot parse \"\" as \"pm\""
        );
        assert_eq!(parse_time("12:15pmx").unwrap_err(), "parsing time \"12:15pmx\": extra text: \"x\"");
        assert_eq!(
            parse_time("12:5pm").unwrap_err(),
            "parsing time \"12:5pm\" as \"3:04pm\": cannot parse \"5pm\" as \"04\""
        );
    }

    #[test]
    fn days_are_storks_names() {
        for (name, day) in [
            ("Sunday", Weekday::Sunday),
            ("sun", Weekday::Sunday),
            ("Thurs", Weekday::Thursday),
            ("thur", Weekday::Thursday),
            ("Sat", Weekday::Saturday),
        ] {
            assert_eq!(parse_day(name), Some(day), "{name}");
        }
        for bad in ["FUNDAY", "funday", "SUNDAY", "sUnday", "", "Su"] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn validation_messages_are_storks() {
        let interval = |m| SchedulePolicyItem {
            interval: Some(IntervalPolicy { interval_minutes: m, ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(validate(&interval(0)).unwrap_err(), "Invalid intervalMinutes (0) in Interval policy");
        assert_eq!(validate(&interval(-15)).unwrap_err(), "Invalid intervalMinutes (-15) in Interval policy");
        assert_eq!(validate(&interval(1)), Ok(()));
        let daily = SchedulePolicyItem {
            daily: Some(DailyPolicy { time: "12:75PM".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(
            validate(&daily).unwrap_err(),
            "Invalid time (12:75PM) in Daily policy: parsing time \"12:75PM\": minute out of range"
        );
        let weekly = SchedulePolicyItem {
            weekly: Some(WeeklyPolicy { day: "funday".into(), time: "12:00am".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(validate(&weekly).unwrap_err(), "Invalid day of the week (funday) in Weekly policy");
        let monthly = SchedulePolicyItem {
            monthly: Some(MonthlyPolicy { date: 32, time: "12:00am".into(), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(validate(&monthly).unwrap_err(), "Invalid date of the month (32) in Monthly policy");
        let both = SchedulePolicyItem {
            interval: interval(0).interval,
            monthly: monthly.monthly.clone(),
            ..Default::default()
        };
        assert!(validate(&both).unwrap_err().contains("Interval policy"), "members are checked in Stork's order");
        assert!(validate(&SchedulePolicyItem::default()).is_err(), "an empty policy never triggers");
    }

    #[test]
    fn a_continuous_member_is_checked_and_defaulted() {
        let continuous = |debounce, minutes| SchedulePolicyItem {
            continuous: Some(ContinuousPolicy {
                debounce_milliseconds: debounce,
                full_sync_interval_minutes: minutes,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(validate(&continuous(None, None)), Ok(()), "a continuous member alone is a policy");
        assert_eq!(
            super::continuous(&continuous(None, None)),
            Some(Continuous {
                debounce: std::time::Duration::from_millis(100),
                full_sync_interval: std::time::Duration::from_secs(3600)
            })
        );
        assert_eq!(
            validate(&continuous(Some(-1), None)).unwrap_err(),
            "Invalid debounceMilliseconds (-1) in Continuous policy: it must be between 0 and 60000"
        );
        assert!(validate(&continuous(Some(60_001), None)).is_err());
        assert_eq!(
            validate(&continuous(None, Some(0))).unwrap_err(),
            "Invalid fullSyncIntervalMinutes (0) in Continuous policy"
        );
        let policy = continuous(Some(0), Some(5));
        assert_eq!(kinds(&policy), vec![SchedulePolicyType::Continuous]);
        assert_eq!(period(&policy), Some(std::time::Duration::from_secs(300)));
        assert_eq!(retain(&policy, SchedulePolicyType::Continuous), 10);
        assert_eq!(super::continuous(&SchedulePolicyItem::default()), None);
    }

    #[test]
    fn retain_defaults_per_kind() {
        let policy = SchedulePolicyItem {
            interval: Some(IntervalPolicy { interval_minutes: 5, retain: Some(3), ..Default::default() }),
            daily: Some(DailyPolicy { time: "1:00AM".into(), retain: Some(0), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(retain(&policy, SchedulePolicyType::Interval), 3);
        assert_eq!(retain(&policy, SchedulePolicyType::Daily), 30);
        assert_eq!(retain(&policy, SchedulePolicyType::Weekly), 7);
        assert_eq!(retain(&policy, SchedulePolicyType::Monthly), 12);
        assert_eq!(kinds(&policy), vec![SchedulePolicyType::Interval, SchedulePolicyType::Daily]);
    }
}
