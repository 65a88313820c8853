//! Go's `time.Duration` as text: the one grammar for every duration flag and field of the workspace
//! (Stork's users write `30s`, `1m30s`, `1.5h` in flags and see `5m0s` in status), parsed and printed
//! exactly as Go's `time.ParseDuration` and `Duration.String` do.

use std::time::Duration;

/// Why a duration does not parse; the messages are Go's, which Stork's tools print verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("time: unknown unit {unit:?} in duration {text:?}")]
    UnknownUnit { unit: String, text: String },
    #[error("duration {0:?} must not be negative")]
    Negative(String),
}

/// Nanoseconds per unit, as Go's `unitMap`.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go's `time.ParseDuration` for non-negative durations: `0`, or one or more decimal numbers (with an
/// optional fraction) each followed by a unit: `300ms`, `1.5h`, `2h45m`. A leading `+` is allowed; a
/// negative duration is refused, since no duration here can be negative.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    let mut rest = text;
    if let Some(unsigned) = rest.strip_prefix('-') {
        if unsigned.trim_start_matches(['0', '.']).is_empty() && !unsigned.is_empty() {
            return Ok(Duration::ZERO);
        }
        return Err(DurationError::Negative(text.to_string()));
    }
    rest = rest.strip_prefix('+').unwrap_or(rest);
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (whole, after) = rest.split_at(whole_len);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(tail) => {
                let len = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
                tail.split_at(len)
            }
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        let unit_len = after.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(text.to_string()));
        }
        let per_unit = unit_nanos(unit)
            .ok_or_else(|| DurationError::UnknownUnit { unit: unit.to_string(), text: text.to_string() })?;
        let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let mut nanos = whole.checked_mul(per_unit).ok_or_else(invalid)?;
        // Go keeps the fraction's digits while they can matter; beyond nanoseconds they cannot.
        let mut scale = per_unit;
        for digit in fraction.bytes() {
            scale /= 10;
            if scale == 0 {
                break;
            }
            nanos += u128::from(digit - b'0') * scale;
        }
        total = total.checked_add(nanos).ok_or_else(invalid)?;
        rest = after;
    }
    // Go's durations are int64 nanoseconds.
    if total > i64::MAX as u128 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(total as u64))
}

/// A duration flag that must be longer than zero (an interval or a timeout).
pub fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse(text) {
        Ok(d) if d.is_zero() => Err(format!("duration {text:?} must be greater than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

/// A non-negative duration flag.
pub fn parse_flag(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|e| e.to_string())
}

/// Go's `time.Duration.String()`: `0s`, `850ms`, `1.5µs`, `5m0s`, `1h2m3.000000004s`.
pub fn format(d: Duration) -> String {
    format_nanos(i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// [`format`] truncated to milliseconds, for elapsed times in status (`1m30.25s` rather than
/// `1m30.250123456s`).
pub fn format_millis(d: Duration) -> String {
    format(Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
}

/// Go's `Duration.String()` of signed nanoseconds, saturating to Go's int64 range as `Time.Sub` does.
pub fn format_nanos(nanos: i128) -> String {
    let nanos = nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    let body = if u == 0 {
        "0s".to_string()
    } else if u < 1_000 {
        format!("{u}ns")
    } else if u < 1_000_000 {
        format!("{}µs", with_fraction(u, 3))
    } else if u < 1_000_000_000 {
        format!("{}ms", with_fraction(u, 6))
    } else {
        let seconds = with_fraction(u % 60_000_000_000, 9);
        let minutes = u / 60_000_000_000;
        match (minutes / 60, minutes % 60) {
            (0, 0) => format!("{seconds}s"),
            (0, m) => format!("{m}m{seconds}s"),
            (h, m) => format!("{h}h{m}m{seconds}s"),
        }
    };
    format!("{sign}{body}")
}

/// `value / 10^digits` with its fraction, trailing zeros (and a bare point) removed, as Go's `fmtFrac`.
fn with_fraction(value: u128, digits: u32) -> String {
    let scale = 10u128.pow(digits);
    let (whole, frac) = (value / scale, value % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = digits as usize);
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse("2h45m"), Ok(Duration::from_secs(9900)));
        assert_eq!(parse("1µs"), Ok(Duration::from_micros(1)));
        assert_eq!(parse("1us"), Ok(Duration::from_micros(1)));
        assert_eq!(parse(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1.000000001s"), Ok(Duration::from_nanos(1_000_000_001)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("+5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("-0"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_like_go() {
        assert_eq!(parse("60"), Err(DurationError::MissingUnit("60".into())));
        assert_eq!(parse("5x").unwrap_err().to_string(), "time: unknown unit \"x\" in duration \"5x\"");
        assert_eq!(parse("").unwrap_err().to_string(), "time: invalid duration \"\"");
        for bad in ["s", ".s", "1..5s", "1s5", "abc", "3000000h", "5", "1x", "1.2.3s", "-1s"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse("-5s"), Err(DurationError::Negative("-5s".into())));
        assert!(parse_positive("0s").is_err());
        assert_eq!(parse_positive("2s"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_secs(300)), "5m0s");
        assert_eq!(format(Duration::from_millis(90_250)), "1m30.25s");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format(Duration::from_millis(850)), "850ms");
        assert_eq!(format(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(format(Duration::from_nanos(1500)), "1.5µs");
        assert_eq!(format(Duration::from_nanos(3_723_000_000_004)), "1h2m3.000000004s");
        assert_eq!(format_nanos(-1_500_000_000), "-1.5s");
        assert_eq!(format_millis(Duration::from_nanos(90_250_123_456)), "1m30.25s");
        const S: i128 = 1_000_000_000;
        let cases: [(i128, &str); 14] = [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (999_999, "999.999µs"),
            (850_000_000, "850ms"),
            (1_500_000, "1.5ms"),
            (S, "1s"),
            (S + S / 2, "1.5s"),
            (60 * S, "1m0s"),
            (300 * S, "5m0s"),
            (90 * S + 250_000_000, "1m30.25s"),
            (3600 * S, "1h0m0s"),
            (3723 * S + 4, "1h2m3.000000004s"),
            (-(90 * S), "-1m30s"),
        ];
        for (nanos, expected) in cases {
            assert_eq!(format_nanos(nanos), expected, "{nanos}ns");
        }
        // Go's Duration saturates at int64 nanoseconds (about 292 years).
        assert_eq!(format_nanos(i128::MAX), "2562047h47m16.854775807s");
        for text in ["1h2m3.5s", "850ms", "1.5µs", "5m0s"] {
            assert_eq!(format(parse(text).expect("parses")), text, "round trip");
        }
    }
}
