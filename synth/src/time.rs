//! Timestamps without a clock: every time in a snapshot is an offset from a fixed snapshot
//! instant, drawn from the seed, and formatted here the way the API server prints them.

/// The snapshot's "now": 2026-11-24T12:00:00Z, late November 2026 like the public scenarios.
pub const NOW: i64 = days_from_civil(2026, 11, 24) * 86_400 + 12 * 3_600;

/// Seconds in a minute, hour and day, for readable offsets.
pub const MINUTE: i64 = 60;
/// Seconds in an hour.
pub const HOUR: i64 = 3_600;
/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-11-24T12:00:00Z`: how `metav1.Time` is serialized.
pub fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / HOUR,
        rem % HOUR / MINUTE,
        rem % MINUTE
    )
}

/// `2026-11-24T12:00:00.000000Z`: how `metav1.MicroTime` (events.k8s.io `eventTime`) is serialized.
pub fn micro(secs: i64) -> String {
    let s = rfc3339(secs);
    format!("{}.000000Z", &s[..s.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(NOW), "2026-11-24T12:00:00Z");
        assert_eq!(rfc3339(NOW - 25 * HOUR - 61), "2026-11-23T10:58:59Z");
        assert_eq!(
            rfc3339(days_from_civil(2024, 2, 29) * DAY),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(micro(NOW), "2026-11-24T12:00:00.000000Z");
    }

    #[test]
    fn round_trips_every_day_for_a_few_centuries() {
        for z in -50_000..100_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
