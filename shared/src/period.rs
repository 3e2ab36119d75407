//! Reporting periods: months (`YYYY-MM`), quarters (`YYYY-Qn`) and years (`YYYY`).
//!
//! Every [`Month`] and [`Quarter`] value lies in the supported years `1900..=2999`: the
//! constructors and parsers reject anything else, and the calendar arithmetic
//! ([`Month::add_months`], [`Month::next`], [`Quarter::prev`], ...) saturates at
//! `1900-01` / `2999-12`. Hence the `Display` form of any value always parses back.
//!
//! Nothing here reads the clock: "now" and "the current month" are always arguments, so the
//! module is usable as is in the browser (wasm32). The time-zone aware helpers
//! ([`Month::utc_bounds`], [`Month::containing`]) need the `tz` feature.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// First supported year.
const MIN_YEAR: i32 = 1900;
/// Last supported year.
const MAX_YEAR: i32 = 2999;
/// Inputs echoed in error messages are cut to this many characters.
const MAX_ECHO_CHARS: usize = 64;

const SHORT_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const LONG_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Why a period could not be parsed, built or enumerated.
///
/// The API maps every variant to the error code `INVALID_PERIOD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The text is none of `YYYY-MM`, `YYYY-Qn` or `YYYY` (when any period kind is accepted).
    #[error("Period format must be YYYY-MM or YYYY-Qn, got '{0}'")]
    Format(String),
    /// The text (or the month number) is not a valid `YYYY-MM` month.
    #[error("Month period format must be YYYY-MM, got '{0}'")]
    MonthFormat(String),
    /// The text (or the quarter number) is not a valid `YYYY-Qn` quarter.
    #[error("Quarter period format must be YYYY-Qn, got '{0}'")]
    QuarterFormat(String),
    /// The year is well formed but outside `1900..=2999`.
    #[error("Year must be between 1900 and 2999, got {0}")]
    YearOutOfRange(i32),
    /// A range whose start is after its end.
    #[error("Range start {from} is after its end {to}")]
    ReversedRange {
        /// The start of the range, as `YYYY-MM`.
        from: String,
        /// The end of the range, as `YYYY-MM`.
        to: String,
    },
    /// A range with more months than allowed.
    #[error("Range of {months} months exceeds the limit of {limit}")]
    RangeTooLong {
        /// The number of months of the requested range (both ends included).
        months: usize,
        /// The maximum number of months allowed.
        limit: usize,
    },
}

/// The input to echo in an error message, cut to a reasonable length.
fn echo(s: &str) -> String {
    match s.char_indices().nth(MAX_ECHO_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

fn check_year(year: i32) -> Result<i32, PeriodError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(year)
    } else {
        Err(PeriodError::YearOutOfRange(year))
    }
}

/// Parses exactly four ASCII digits (no sign, no spaces); the range is checked separately.
fn parse_year_digits(s: &[u8]) -> Option<i32> {
    if s.len() != 4 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |acc, d| acc * 10 + i32::from(d - b'0')))
}

/// Splits `YYYY-MM` into (year, month) without checking ranges.
fn split_month(s: &str) -> Option<(i32, u32)> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' || !b[5].is_ascii_digit() || !b[6].is_ascii_digit() {
        return None;
    }
    let year = parse_year_digits(&b[..4])?;
    let month = u32::from(b[5] - b'0') * 10 + u32::from(b[6] - b'0');
    Some((year, month))
}

/// Splits `YYYY-Qn` into (year, quarter) without checking ranges.
fn split_quarter(s: &str) -> Option<(i32, u32)> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' || b[5] != b'Q' || !b[6].is_ascii_digit() {
        return None;
    }
    let year = parse_year_digits(&b[..4])?;
    Some((year, u32::from(b[6] - b'0')))
}

/// A calendar month of a supported year (`1900..=2999`), written `YYYY-MM`.
///
/// Ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    const FIRST: Month = Month {
        year: MIN_YEAR,
        month: 1,
    };
    const LAST: Month = Month {
        year: MAX_YEAR,
        month: 12,
    };

    /// Builds a month; `month` is `1..=12` (else [`PeriodError::MonthFormat`]) and `year`
    /// `1900..=2999` (else [`PeriodError::YearOutOfRange`]).
    pub fn new(year: i32, month: u32) -> Result<Month, PeriodError> {
        if !(1..=12).contains(&month) {
            return Err(PeriodError::MonthFormat(format!("{year:04}-{month:02}")));
        }
        check_year(year)?;
        Ok(Month { year, month })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month number, `1..=12`.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Months since January of year 0 (only used internally for arithmetic).
    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    /// The month at `index` months since January of year 0, saturated to the supported range.
    fn from_index(index: i64) -> Month {
        let index = index.clamp(Month::FIRST.index(), Month::LAST.index());
        // Both fit: the index was clamped to the supported years.
        let year = i32::try_from(index.div_euclid(12)).unwrap_or(MAX_YEAR);
        let month = u32::try_from(index.rem_euclid(12) + 1).unwrap_or(12);
        Month { year, month }
    }

    /// The following month (saturates at `2999-12`).
    pub fn next(self) -> Month {
        self.add_months(1)
    }

    /// The preceding month (saturates at `1900-01`).
    pub fn prev(self) -> Month {
        self.add_months(-1)
    }

    /// The month `n` months later (`n` may be negative), saturating at `1900-01` and
    /// `2999-12`.
    pub fn add_months(self, n: i32) -> Month {
        Month::from_index(self.index() + i64::from(n))
    }

    /// The number of months from `self` to `other` (`other - self`; negative if `other` is
    /// earlier).
    pub fn months_until(self, other: Month) -> i32 {
        (other.year - self.year) * 12 + (other.month as i32 - self.month as i32)
    }

    /// The quarter this month belongs to.
    pub fn quarter(self) -> Quarter {
        Quarter {
            year: self.year,
            quarter: (self.month - 1) / 3 + 1,
        }
    }

    /// The first day of the month.
    pub fn first_day(self) -> NaiveDate {
        // Always valid: the year is in 1900..=2999 and the month in 1..=12.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// The first day of the following month (also for `2999-12`, unlike `self.next()`).
    #[cfg(feature = "tz")]
    fn first_day_after(self) -> NaiveDate {
        let (year, month) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default()
    }

    /// The month of a date; dates before 1900 give `1900-01`, dates after 2999 give
    /// `2999-12`.
    pub fn from_date(d: NaiveDate) -> Month {
        if d.year() < MIN_YEAR {
            Month::FIRST
        } else if d.year() > MAX_YEAR {
            Month::LAST
        } else {
            Month {
                year: d.year(),
                month: d.month(),
            }
        }
    }

    /// The English abbreviation: `"Jan"` .. `"Dec"`.
    pub fn short_name(self) -> &'static str {
        SHORT_NAMES[(self.month - 1) as usize]
    }

    /// The English name: `"January"` .. `"December"`.
    pub fn long_name(self) -> &'static str {
        LONG_NAMES[(self.month - 1) as usize]
    }

    /// A human label such as `"Jan 2025"`.
    pub fn label(self) -> String {
        format!("{} {}", self.short_name(), self.year)
    }

    /// The months `from..=to`, in order.
    ///
    /// Fails with [`PeriodError::ReversedRange`] if `from > to` and with
    /// [`PeriodError::RangeTooLong`] if the range has more than `limit` months.
    pub fn range(from: Month, to: Month, limit: usize) -> Result<Vec<Month>, PeriodError> {
        if from > to {
            return Err(PeriodError::ReversedRange {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        // Non-negative since from <= to.
        let months = from.months_until(to).unsigned_abs() as usize + 1;
        if months > limit {
            return Err(PeriodError::RangeTooLong { months, limit });
        }
        let mut out = Vec::with_capacity(months);
        let mut m = from;
        out.push(m);
        while m < to {
            m = m.next();
            out.push(m);
        }
        Ok(out)
    }

    /// The UTC instants `[start, end)` of the month in time zone `tz`: from 00:00 local time on
    /// the 1st to 00:00 local time on the 1st of the next month, DST-correct.
    ///
    /// If local midnight does not exist (a DST gap at midnight, as in America/Asuncion on
    /// 2023-10-01), the bound is the first valid instant after it (the transition); if it is
    /// ambiguous (as in America/Havana on 2020-11-01), the earlier instant. Consecutive months
    /// therefore tile the time line: `m.utc_bounds(tz).1 == m.next().utc_bounds(tz).0`.
    #[cfg(feature = "tz")]
    pub fn utc_bounds(
        self,
        tz: chrono_tz::Tz,
    ) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
        (
            local_midnight_utc(self.first_day(), tz),
            local_midnight_utc(self.first_day_after(), tz),
        )
    }

    /// The month that `now` falls in, in time zone `tz` (e.g. 2025-03-01T03:00Z is February in
    /// America/Chicago).
    ///
    /// Consistent with [`Month::utc_bounds`]: `now` always lies within the bounds of the
    /// returned month (instants outside 1900..=2999 saturate to `1900-01` / `2999-12`).
    #[cfg(feature = "tz")]
    pub fn containing(now: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> Month {
        let guess = Month::from_date(now.with_timezone(&tz).date_naive());
        // The local date and the bounds only disagree around a transition that crosses
        // midnight (e.g. an ambiguous midnight): settle those on the bounds.
        let (start, end) = guess.utc_bounds(tz);
        if now < start {
            guess.prev()
        } else if now >= end {
            guess.next()
        } else {
            guess
        }
    }
}

/// The first instant whose local wall-clock time in `tz` is at or after 00:00 on `date`:
/// local midnight itself, its earlier occurrence if ambiguous, or the end of the DST gap that
/// swallows it.
#[cfg(feature = "tz")]
fn local_midnight_utc(date: NaiveDate, tz: chrono_tz::Tz) -> chrono::DateTime<chrono::Utc> {
    use chrono::{LocalResult, NaiveTime, TimeDelta, TimeZone, Utc};

    let midnight = date.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => {
            // Local midnight falls in a gap. Time zone offsets stay well within ±36 h, so
            // local(lo) < midnight <= local(hi); binary search (to the second, the resolution
            // of the tz database) the instant where local time jumps over midnight.
            let local = |t: chrono::DateTime<Utc>| t.with_timezone(&tz).naive_local();
            let lo = midnight.and_utc() - TimeDelta::hours(36);
            // Invariant: local(lo + low s) < midnight <= local(lo + high s).
            let (mut low, mut high) = (0_i64, 72 * 3600);
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                if local(lo + TimeDelta::seconds(mid)) < midnight {
                    low = mid;
                } else {
                    high = mid;
                }
            }
            lo + TimeDelta::seconds(high)
        }
    }
}

impl fmt::Display for Month {
    /// `YYYY-MM`, e.g. `2025-01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = PeriodError;

    /// Accepts exactly `YYYY-MM` ([`PeriodError::MonthFormat`] otherwise, or
    /// [`PeriodError::YearOutOfRange`]).
    fn from_str(s: &str) -> Result<Month, PeriodError> {
        match split_month(s) {
            Some((year, month)) if (1..=12).contains(&month) => Month::new(year, month),
            _ => Err(PeriodError::MonthFormat(echo(s))),
        }
    }
}

/// A calendar quarter of a supported year (`1900..=2999`), written `YYYY-Qn`.
///
/// Ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quarter {
    year: i32,
    quarter: u32,
}

impl Quarter {
    /// Builds a quarter; `quarter` is `1..=4` (else [`PeriodError::QuarterFormat`]) and `year`
    /// `1900..=2999` (else [`PeriodError::YearOutOfRange`]).
    pub fn new(year: i32, quarter: u32) -> Result<Quarter, PeriodError> {
        if !(1..=4).contains(&quarter) {
            return Err(PeriodError::QuarterFormat(format!("{year:04}-Q{quarter}")));
        }
        check_year(year)?;
        Ok(Quarter { year, quarter })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The quarter number, `1..=4`.
    pub fn quarter(self) -> u32 {
        self.quarter
    }

    /// Its three months, in order.
    pub fn months(self) -> [Month; 3] {
        let first = (self.quarter - 1) * 3 + 1;
        [0, 1, 2].map(|i| Month {
            year: self.year,
            month: first + i,
        })
    }

    fn first_month(self) -> Month {
        self.months()[0]
    }

    /// The preceding quarter (saturates at `1900-Q1`).
    pub fn prev(self) -> Quarter {
        self.first_month().add_months(-3).quarter()
    }

    /// The following quarter (saturates at `2999-Q4`).
    pub fn next(self) -> Quarter {
        self.first_month().add_months(3).quarter()
    }

    /// A human label such as `"Q1 2025"`.
    pub fn label(self) -> String {
        format!("Q{} {}", self.quarter, self.year)
    }
}

impl fmt::Display for Quarter {
    /// `YYYY-Qn`, e.g. `2025-Q1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.quarter)
    }
}

impl FromStr for Quarter {
    type Err = PeriodError;

    /// Accepts exactly `YYYY-Qn` with an uppercase `Q` ([`PeriodError::QuarterFormat`]
    /// otherwise, or [`PeriodError::YearOutOfRange`]).
    fn from_str(s: &str) -> Result<Quarter, PeriodError> {
        match split_quarter(s) {
            Some((year, quarter)) if (1..=4).contains(&quarter) => Quarter::new(year, quarter),
            _ => Err(PeriodError::QuarterFormat(echo(s))),
        }
    }
}

/// The kind of a [`Period`]; serialized as `"month"`, `"quarter"` or `"year"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
    /// A calendar year.
    Year,
}

/// A reporting period: a month (`YYYY-MM`), a quarter (`YYYY-Qn`) or a year (`YYYY`).
///
/// A `Year` should hold a year in `1900..=2999` (parsing guarantees it); methods that turn an
/// out-of-range year into months clamp it to that range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// A calendar month.
    Month(Month),
    /// A calendar quarter.
    Quarter(Quarter),
    /// A calendar year.
    Year(i32),
}

impl From<Month> for Period {
    fn from(m: Month) -> Period {
        Period::Month(m)
    }
}

impl From<Quarter> for Period {
    fn from(q: Quarter) -> Period {
        Period::Quarter(q)
    }
}

impl Period {
    /// Its kind.
    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Month(_) => PeriodKind::Month,
            Period::Quarter(_) => PeriodKind::Quarter,
            Period::Year(_) => PeriodKind::Year,
        }
    }

    /// Its months, in order: 1, 3 or 12 of them.
    pub fn months(&self) -> Vec<Month> {
        match *self {
            Period::Month(m) => vec![m],
            Period::Quarter(q) => q.months().to_vec(),
            Period::Year(y) => {
                let year = y.clamp(MIN_YEAR, MAX_YEAR);
                (1..=12).map(|month| Month { year, month }).collect()
            }
        }
    }

    /// Its first month.
    pub fn first_month(&self) -> Month {
        match *self {
            Period::Month(m) => m,
            Period::Quarter(q) => q.first_month(),
            Period::Year(y) => Month {
                year: y.clamp(MIN_YEAR, MAX_YEAR),
                month: 1,
            },
        }
    }

    /// Its last month.
    pub fn last_month(&self) -> Month {
        match *self {
            Period::Month(m) => m,
            Period::Quarter(q) => q.months()[2],
            Period::Year(y) => Month {
                year: y.clamp(MIN_YEAR, MAX_YEAR),
                month: 12,
            },
        }
    }

    /// The period of the same kind just before: `2025-Q1` → `2024-Q4`, `2025-01` → `2024-12`,
    /// `2025` → `2024` (saturates at 1900).
    pub fn previous(&self) -> Period {
        match *self {
            Period::Month(m) => Period::Month(m.prev()),
            Period::Quarter(q) => Period::Quarter(q.prev()),
            Period::Year(y) => Period::Year(y.saturating_sub(1).clamp(MIN_YEAR, MAX_YEAR)),
        }
    }

    /// The period of the same kind one year earlier: `2025-03` → `2024-03`, `2025-Q1` →
    /// `2024-Q1`, `2025` → `2024` (saturates at 1900).
    pub fn year_ago(&self) -> Period {
        match *self {
            Period::Month(m) => Period::Month(m.add_months(-12)),
            Period::Quarter(q) => Period::Quarter(q.first_month().add_months(-12).quarter()),
            Period::Year(_) => self.previous(),
        }
    }

    /// `m` of the SmartNumber formulas: the number of months of the period that have started
    /// by `current` (the month in progress, in the organization's time zone).
    ///
    /// All months for a past period, the elapsed months including the current one for the
    /// period in progress, 0 for a future period.
    pub fn months_elapsed(&self, current: Month) -> u32 {
        let (first, last) = (self.first_month(), self.last_month());
        if current < first {
            0
        } else {
            // Non-negative since first <= current.
            first.months_until(current.min(last)).unsigned_abs() + 1
        }
    }

    /// Whether `month` is one of its months.
    pub fn contains(&self, month: Month) -> bool {
        self.first_month() <= month && month <= self.last_month()
    }

    /// A human label: `"Jan 2025"`, `"Q1 2025"` or `"2025"`.
    pub fn label(&self) -> String {
        match *self {
            Period::Month(m) => m.label(),
            Period::Quarter(q) => q.label(),
            Period::Year(y) => y.to_string(),
        }
    }

    /// The periods that contain `month`: the month itself, its quarter and its year (used to
    /// know what to recompute).
    pub fn enclosing(month: Month) -> [Period; 3] {
        [
            Period::Month(month),
            Period::Quarter(month.quarter()),
            Period::Year(month.year),
        ]
    }
}

impl fmt::Display for Period {
    /// `2025-01`, `2025-Q1` or `2025`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter(q) => q.fmt(f),
            Period::Year(y) => write!(f, "{y:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// Accepts `YYYY-MM`, `YYYY-Qn` or `YYYY` ([`PeriodError::Format`] otherwise, or
    /// [`PeriodError::YearOutOfRange`]).
    fn from_str(s: &str) -> Result<Period, PeriodError> {
        if let Some((year, month)) = split_month(s) {
            if (1..=12).contains(&month) {
                return Month::new(year, month).map(Period::Month);
            }
        } else if let Some((year, quarter)) = split_quarter(s) {
            if (1..=4).contains(&quarter) {
                return Quarter::new(year, quarter).map(Period::Quarter);
            }
        } else if let Some(year) = parse_year_digits(s.as_bytes()) {
            return check_year(year).map(Period::Year);
        }
        Err(PeriodError::Format(echo(s)))
    }
}

/// Serde support through `Display` / `FromStr`: values are plain strings, and an invalid
/// string fails deserialization with the [`PeriodError`] message.
macro_rules! serde_via_string {
    ($ty:ty, $expecting:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                struct Visitor;

                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;

                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }

                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

serde_via_string!(Month, "a month as a YYYY-MM string");
serde_via_string!(Quarter, "a quarter as a YYYY-Qn string");
serde_via_string!(Period, "a period as a YYYY-MM, YYYY-Qn or YYYY string");

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    fn q(s: &str) -> Quarter {
        s.parse().unwrap()
    }

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(m("2025-01"), Month::new(2025, 1).unwrap());
        assert_eq!(m("2025-12").month(), 12);
        assert_eq!(m("1900-01").year(), 1900);
        assert_eq!(m("2999-12").to_string(), "2999-12");
        assert_eq!(Month::new(2025, 1).unwrap().to_string(), "2025-01");
        assert_eq!(q("2025-Q1"), Quarter::new(2025, 1).unwrap());
        assert_eq!(Quarter::new(2025, 4).unwrap().to_string(), "2025-Q4");
        assert_eq!(p("2025-01"), Period::Month(m("2025-01")));
        assert_eq!(p("2025-Q3"), Period::Quarter(q("2025-Q3")));
        assert_eq!(p("2025"), Period::Year(2025));
        assert_eq!(p("2025-01").to_string(), "2025-01");
        assert_eq!(p("2025-Q1").to_string(), "2025-Q1");
        assert_eq!(p("2025").to_string(), "2025");
        assert_eq!(Period::from(m("2025-02")), Period::Month(m("2025-02")));
        assert_eq!(Period::from(q("2025-Q2")), Period::Quarter(q("2025-Q2")));
    }

    #[test]
    fn rejected_months() {
        for bad in [
            "2025-1",
            "2025-13",
            "2025-00",
            " 2025-01",
            "2025-01 ",
            "2025-01-01",
            "25-01",
            "2025/01",
            "2025-Q1",
            "2025",
            "",
            "+025-01",
            "2025-+1",
            "２０２５-01",
        ] {
            assert_eq!(
                bad.parse::<Month>(),
                Err(PeriodError::MonthFormat(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            "1899-12".parse::<Month>(),
            Err(PeriodError::YearOutOfRange(1899))
        );
        assert_eq!(
            "3000-01".parse::<Month>(),
            Err(PeriodError::YearOutOfRange(3000))
        );
        assert_eq!(
            "0000-01".parse::<Month>(),
            Err(PeriodError::YearOutOfRange(0))
        );
        assert_eq!(
            Month::new(2025, 13),
            Err(PeriodError::MonthFormat("2025-13".into()))
        );
        assert_eq!(
            Month::new(2025, 0),
            Err(PeriodError::MonthFormat("2025-00".into()))
        );
        assert_eq!(Month::new(1899, 5), Err(PeriodError::YearOutOfRange(1899)));
    }

    #[test]
    fn rejected_quarters() {
        for bad in [
            "2025-Q5", "2025-Q0", "2025-q1", "2025-Q", "2025-Q01", "2025Q1", "25-Q1", " 2025-Q1",
            "2025-01", "2025",
        ] {
            assert_eq!(
                bad.parse::<Quarter>(),
                Err(PeriodError::QuarterFormat(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            "1899-Q4".parse::<Quarter>(),
            Err(PeriodError::YearOutOfRange(1899))
        );
        assert_eq!(
            Quarter::new(2025, 5),
            Err(PeriodError::QuarterFormat("2025-Q5".into()))
        );
        assert_eq!(
            Quarter::new(3000, 1),
            Err(PeriodError::YearOutOfRange(3000))
        );
    }

    #[test]
    fn rejected_periods() {
        for bad in [
            "2025-1",
            "2025-13",
            "2025-00",
            "2025-Q5",
            "2025-q1",
            " 2025-01",
            "2025-01-01",
            "25-01",
            "25",
            "02025",
            "2025 ",
            "",
            "abcd",
        ] {
            assert_eq!(
                bad.parse::<Period>(),
                Err(PeriodError::Format(bad.to_owned())),
                "{bad:?}"
            );
        }
        for (bad, year) in [("1899", 1899), ("3000-01", 3000), ("1000-Q2", 1000)] {
            assert_eq!(
                bad.parse::<Period>(),
                Err(PeriodError::YearOutOfRange(year))
            );
        }
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            "x".parse::<Period>().unwrap_err().to_string(),
            "Period format must be YYYY-MM or YYYY-Qn, got 'x'"
        );
        assert_eq!(
            "2025-13".parse::<Month>().unwrap_err().to_string(),
            "Month period format must be YYYY-MM, got '2025-13'"
        );
        assert_eq!(
            "2025-q1".parse::<Quarter>().unwrap_err().to_string(),
            "Quarter period format must be YYYY-Qn, got '2025-q1'"
        );
        assert_eq!(
            "1899".parse::<Period>().unwrap_err().to_string(),
            "Year must be between 1900 and 2999, got 1899"
        );
        assert_eq!(
            Month::range(m("2025-03"), m("2025-01"), 12)
                .unwrap_err()
                .to_string(),
            "Range start 2025-03 is after its end 2025-01"
        );
        assert_eq!(
            Month::range(m("2024-01"), m("2025-01"), 12)
                .unwrap_err()
                .to_string(),
            "Range of 13 months exceeds the limit of 12"
        );
        // Huge inputs are not echoed whole.
        let long = "9".repeat(10_000);
        let PeriodError::Format(echoed) = long.parse::<Period>().unwrap_err() else {
            panic!("expected a format error");
        };
        assert_eq!(echoed.chars().count(), MAX_ECHO_CHARS + 1);
    }

    #[test]
    fn serde_strings() {
        assert_eq!(serde_json::to_string(&m("2025-01")).unwrap(), "\"2025-01\"");
        assert_eq!(serde_json::to_string(&q("2025-Q2")).unwrap(), "\"2025-Q2\"");
        assert_eq!(serde_json::to_string(&p("2025")).unwrap(), "\"2025\"");
        assert_eq!(
            serde_json::from_str::<Period>("\"2025-Q4\"").unwrap(),
            p("2025-Q4")
        );
        assert_eq!(
            serde_json::from_str::<Vec<Month>>("[\"2025-01\",\"2025-02\"]").unwrap(),
            vec![m("2025-01"), m("2025-02")]
        );
        let err = serde_json::from_str::<Month>("\"2025-13\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Month period format must be YYYY-MM, got '2025-13'"),
            "{err}"
        );
        let err = serde_json::from_str::<Period>("\"2025-q1\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Period format must be"), "{err}");
        assert!(serde_json::from_str::<Period>("2025").is_err());
        assert_eq!(
            serde_json::to_string(&PeriodKind::Quarter).unwrap(),
            "\"quarter\""
        );
        assert_eq!(
            serde_json::from_str::<PeriodKind>("\"year\"").unwrap(),
            PeriodKind::Year
        );
    }

    #[test]
    fn month_arithmetic_and_names() {
        assert_eq!(m("2025-01").prev(), m("2024-12"));
        assert_eq!(m("2024-12").next(), m("2025-01"));
        assert_eq!(m("2025-01").add_months(-13), m("2023-12"));
        assert_eq!(m("2025-01").add_months(23), m("2026-12"));
        assert_eq!(m("2024-11").months_until(m("2025-02")), 3);
        assert_eq!(m("2025-02").months_until(m("2024-11")), -3);
        assert_eq!(m("2025-01").quarter(), q("2025-Q1"));
        assert_eq!(m("2025-06").quarter(), q("2025-Q2"));
        assert_eq!(m("2025-12").quarter(), q("2025-Q4"));
        assert_eq!(
            m("2024-02").first_day(),
            NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()
        );
        assert_eq!(
            Month::from_date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            m("2024-02")
        );
        assert_eq!(
            Month::from_date(NaiveDate::from_ymd_opt(1850, 6, 1).unwrap()),
            m("1900-01")
        );
        assert_eq!(
            Month::from_date(NaiveDate::from_ymd_opt(3001, 6, 1).unwrap()),
            m("2999-12")
        );
        assert_eq!(m("2025-01").short_name(), "Jan");
        assert_eq!(m("2025-09").short_name(), "Sep");
        assert_eq!(m("2025-12").long_name(), "December");
        assert_eq!(m("2025-01").label(), "Jan 2025");
        assert!(m("2024-12") < m("2025-01"));
        assert!(m("2025-01") < m("2025-02"));
        assert!(q("2024-Q4") < q("2025-Q1"));
    }

    #[test]
    fn arithmetic_saturates_at_supported_range() {
        assert_eq!(m("2999-12").next(), m("2999-12"));
        assert_eq!(m("1900-01").prev(), m("1900-01"));
        assert_eq!(m("2025-06").add_months(i32::MAX), m("2999-12"));
        assert_eq!(m("2025-06").add_months(i32::MIN), m("1900-01"));
        assert_eq!(q("1900-Q1").prev(), q("1900-Q1"));
        assert_eq!(q("2999-Q4").next(), q("2999-Q4"));
        assert_eq!(p("1900").previous(), p("1900"));
        assert_eq!(p("1900-Q3").year_ago(), p("1900-Q1"));
    }

    #[test]
    fn ranges() {
        assert_eq!(
            Month::range(m("2024-11"), m("2025-02"), 4).unwrap(),
            vec![m("2024-11"), m("2024-12"), m("2025-01"), m("2025-02")]
        );
        assert_eq!(
            Month::range(m("2025-01"), m("2025-01"), 1).unwrap(),
            vec![m("2025-01")]
        );
        assert_eq!(
            Month::range(m("2025-01"), m("2025-01"), 0),
            Err(PeriodError::RangeTooLong {
                months: 1,
                limit: 0
            })
        );
        assert_eq!(
            Month::range(m("2025-02"), m("2025-01"), 100),
            Err(PeriodError::ReversedRange {
                from: "2025-02".into(),
                to: "2025-01".into()
            })
        );
        assert_eq!(
            Month::range(m("1900-01"), m("2999-12"), usize::MAX)
                .unwrap()
                .len(),
            1100 * 12
        );
    }

    #[test]
    fn quarters() {
        assert_eq!(
            q("2025-Q1").months(),
            [m("2025-01"), m("2025-02"), m("2025-03")]
        );
        assert_eq!(
            q("2025-Q4").months(),
            [m("2025-10"), m("2025-11"), m("2025-12")]
        );
        assert_eq!(q("2025-Q1").prev(), q("2024-Q4"));
        assert_eq!(q("2025-Q3").prev(), q("2025-Q2"));
        assert_eq!(q("2024-Q4").next(), q("2025-Q1"));
        assert_eq!(q("2025-Q2").label(), "Q2 2025");
        assert_eq!(q("2025-Q2").year(), 2025);
        assert_eq!(q("2025-Q2").quarter(), 2);
    }

    #[test]
    fn periods() {
        assert_eq!(p("2025-01").kind(), PeriodKind::Month);
        assert_eq!(p("2025-Q1").kind(), PeriodKind::Quarter);
        assert_eq!(p("2025").kind(), PeriodKind::Year);
        assert_eq!(p("2025-05").months(), vec![m("2025-05")]);
        assert_eq!(
            p("2025-Q2").months(),
            vec![m("2025-04"), m("2025-05"), m("2025-06")]
        );
        let year = p("2025").months();
        assert_eq!(year.len(), 12);
        assert_eq!(year[0], m("2025-01"));
        assert_eq!(year[11], m("2025-12"));
        assert!(year.windows(2).all(|w| w[0].next() == w[1]));
        assert_eq!(p("2025-Q2").first_month(), m("2025-04"));
        assert_eq!(p("2025-Q2").last_month(), m("2025-06"));
        assert_eq!(p("2025").first_month(), m("2025-01"));
        assert_eq!(p("2025").last_month(), m("2025-12"));
        assert_eq!(p("2025-07").first_month(), p("2025-07").last_month());

        assert_eq!(p("2025-Q1").previous(), p("2024-Q4"));
        assert_eq!(p("2025-01").previous(), p("2024-12"));
        assert_eq!(p("2025").previous(), p("2024"));
        assert_eq!(p("2025-03").year_ago(), p("2024-03"));
        assert_eq!(p("2025-Q1").year_ago(), p("2024-Q1"));
        assert_eq!(p("2025").year_ago(), p("2024"));

        assert!(p("2025-Q1").contains(m("2025-02")));
        assert!(!p("2025-Q1").contains(m("2025-04")));
        assert!(!p("2025-Q1").contains(m("2024-12")));
        assert!(p("2025").contains(m("2025-12")));
        assert!(p("2025-02").contains(m("2025-02")));
        assert!(!p("2025-02").contains(m("2025-03")));

        assert_eq!(p("2025-01").label(), "Jan 2025");
        assert_eq!(p("2025-Q1").label(), "Q1 2025");
        assert_eq!(p("2025").label(), "2025");

        assert_eq!(
            Period::enclosing(m("2025-05")),
            [p("2025-05"), p("2025-Q2"), p("2025")]
        );
    }

    #[test]
    fn months_elapsed() {
        // Past quarter: all three months.
        assert_eq!(p("2025-Q1").months_elapsed(m("2025-05")), 3);
        assert_eq!(p("2024-Q4").months_elapsed(m("2025-05")), 3);
        // Quarter in progress, current = its second month.
        assert_eq!(p("2025-Q2").months_elapsed(m("2025-05")), 2);
        assert_eq!(p("2025-Q2").months_elapsed(m("2025-04")), 1);
        assert_eq!(p("2025-Q2").months_elapsed(m("2025-06")), 3);
        // Future quarter.
        assert_eq!(p("2025-Q3").months_elapsed(m("2025-05")), 0);
        assert_eq!(p("2026-Q1").months_elapsed(m("2025-05")), 0);
        // Year in progress, past and future years.
        assert_eq!(p("2025").months_elapsed(m("2025-05")), 5);
        assert_eq!(p("2025").months_elapsed(m("2025-12")), 12);
        assert_eq!(p("2024").months_elapsed(m("2025-05")), 12);
        assert_eq!(p("2026").months_elapsed(m("2025-05")), 0);
        // Months.
        assert_eq!(p("2025-05").months_elapsed(m("2025-05")), 1);
        assert_eq!(p("2025-04").months_elapsed(m("2025-05")), 1);
        assert_eq!(p("2025-06").months_elapsed(m("2025-05")), 0);
    }

    #[cfg(feature = "tz")]
    mod tz {
        use super::*;
        use chrono::{DateTime, TimeDelta, TimeZone, Utc};
        use chrono_tz::America::{Asuncion, Chicago, Havana};
        use chrono_tz::Tz;

        fn utc(s: &str) -> DateTime<Utc> {
            s.parse().unwrap()
        }

        #[test]
        fn chicago_dst_bounds() {
            assert_eq!(
                m("2025-03").utc_bounds(Chicago),
                (utc("2025-03-01T06:00:00Z"), utc("2025-04-01T05:00:00Z"))
            );
            assert_eq!(
                m("2025-11").utc_bounds(Chicago),
                (utc("2025-11-01T05:00:00Z"), utc("2025-12-01T06:00:00Z"))
            );
            assert_eq!(
                m("2025-01").utc_bounds(Chicago).0,
                utc("2025-01-01T06:00:00Z")
            );
            assert_eq!(
                m("2999-12").utc_bounds(Chicago).1,
                utc("3000-01-01T06:00:00Z")
            );
            assert_eq!(
                m("2025-06").utc_bounds(chrono_tz::UTC),
                (utc("2025-06-01T00:00:00Z"), utc("2025-07-01T00:00:00Z"))
            );
        }

        #[test]
        fn chicago_containing() {
            assert_eq!(
                Month::containing(utc("2025-03-01T03:00:00Z"), Chicago),
                m("2025-02")
            );
            assert_eq!(
                Month::containing(utc("2025-03-01T05:59:59Z"), Chicago),
                m("2025-02")
            );
            assert_eq!(
                Month::containing(utc("2025-03-01T06:00:00Z"), Chicago),
                m("2025-03")
            );
            assert_eq!(
                Month::containing(utc("2025-12-31T23:00:00Z"), chrono_tz::Asia::Tokyo),
                m("2026-01")
            );
        }

        /// Paraguay started DST on Sunday 2023-10-01 at 00:00 (-04 → -03): local midnight of
        /// October 1st does not exist; the first valid instant after it is 01:00 -03.
        #[test]
        fn midnight_dst_gap_uses_first_valid_instant() {
            let midnight = NaiveDate::from_ymd_opt(2023, 10, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            assert!(Asuncion.from_local_datetime(&midnight).single().is_none());
            assert!(Asuncion.from_local_datetime(&midnight).earliest().is_none());
            let start = utc("2023-10-01T04:00:00Z");
            assert_eq!(m("2023-10").utc_bounds(Asuncion).0, start);
            assert_eq!(m("2023-09").utc_bounds(Asuncion).1, start);
            assert_eq!(
                start.with_timezone(&Asuncion).naive_local(),
                midnight + TimeDelta::hours(1)
            );
            assert_eq!(
                Month::containing(start - TimeDelta::seconds(1), Asuncion),
                m("2023-09")
            );
            assert_eq!(Month::containing(start, Asuncion), m("2023-10"));
            // Cuba, 2012-04-01 00:00 CST → 01:00 CDT.
            assert_eq!(
                m("2012-04").utc_bounds(Havana).0,
                utc("2012-04-01T05:00:00Z")
            );
        }

        /// Cuba ended DST on Sunday 2020-11-01 at 01:00 CDT → 00:00 CST: local midnight of
        /// November 1st happens twice; the month starts at the first one.
        #[test]
        fn ambiguous_midnight_uses_earlier_instant() {
            let midnight = NaiveDate::from_ymd_opt(2020, 11, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap();
            assert!(Havana.from_local_datetime(&midnight).single().is_none());
            assert!(Havana.from_local_datetime(&midnight).earliest().is_some());
            assert_eq!(
                m("2020-11").utc_bounds(Havana),
                (utc("2020-11-01T04:00:00Z"), utc("2020-12-01T05:00:00Z"))
            );
            assert_eq!(
                Month::containing(utc("2020-11-01T03:59:59Z"), Havana),
                m("2020-10")
            );
            assert_eq!(
                Month::containing(utc("2020-11-01T04:30:00Z"), Havana),
                m("2020-11")
            );
            assert_eq!(
                Month::containing(utc("2020-11-01T05:30:00Z"), Havana),
                m("2020-11")
            );
        }

        /// In every zone, each month starts at the first instant whose local time is at or after
        /// midnight on the 1st, and months tile the time line.
        #[test]
        fn every_zone_month_starts_at_first_instant_after_local_midnight() {
            for tz in chrono_tz::TZ_VARIANTS {
                let mut month = m("1960-01");
                let mut start = month.utc_bounds(tz).0;
                while month < m("2040-01") {
                    let (s, end) = month.utc_bounds(tz);
                    assert_eq!(s, start, "{} {month}", tz.name());
                    assert!(s < end, "{} {month}", tz.name());
                    let midnight = month.first_day().and_hms_opt(0, 0, 0).unwrap();
                    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
                    assert!(local(s) >= midnight, "{} {month}", tz.name());
                    assert!(
                        local(s - TimeDelta::seconds(1)) < midnight,
                        "{} {month}",
                        tz.name()
                    );
                    start = end;
                    month = month.next();
                }
            }
        }

        fn chicago_month() -> impl Strategy<Value = Month> {
            (1950..2100_i32, 1..=12_u32).prop_map(|(y, mo)| Month::new(y, mo).unwrap())
        }

        proptest! {
            #[test]
            fn chicago_months_tile(month in chicago_month()) {
                prop_assert_eq!(month.utc_bounds(Chicago).1, month.next().utc_bounds(Chicago).0);
            }

            #[test]
            fn containing_matches_bounds(
                secs in -2_000_000_000_i64..6_000_000_000,
                zone in 0..chrono_tz::TZ_VARIANTS.len(),
            ) {
                let tz: Tz = chrono_tz::TZ_VARIANTS[zone];
                let now = DateTime::from_timestamp(secs, 0).unwrap();
                let month = Month::containing(now, tz);
                let (start, end) = month.utc_bounds(tz);
                prop_assert!(start <= now && now < end, "{} {} {}", tz.name(), now, month);
            }
        }

        #[test]
        fn chicago_every_month_1950_2100() {
            let mut month = m("1950-01");
            while month < m("2100-01") {
                assert_eq!(
                    month.utc_bounds(Chicago).1,
                    month.next().utc_bounds(Chicago).0
                );
                month = month.next();
            }
        }
    }

    fn any_month() -> impl Strategy<Value = Month> {
        (MIN_YEAR..=MAX_YEAR, 1..=12_u32).prop_map(|(y, mo)| Month::new(y, mo).unwrap())
    }

    fn any_quarter() -> impl Strategy<Value = Quarter> {
        (MIN_YEAR..=MAX_YEAR, 1..=4_u32).prop_map(|(y, n)| Quarter::new(y, n).unwrap())
    }

    fn any_period() -> impl Strategy<Value = Period> {
        prop_oneof![
            any_month().prop_map(Period::Month),
            any_quarter().prop_map(Period::Quarter),
            (MIN_YEAR..=MAX_YEAR).prop_map(Period::Year),
        ]
    }

    proptest! {
        #[test]
        fn month_round_trip(y in MIN_YEAR..=MAX_YEAR, mo in 1..=12_u32) {
            let month = Month::new(y, mo).unwrap();
            prop_assert_eq!(month.year(), y);
            prop_assert_eq!(month.month(), mo);
            prop_assert_eq!(month.to_string().parse::<Month>(), Ok(month));
            prop_assert_eq!(month.to_string().parse::<Period>(), Ok(Period::Month(month)));
        }

        #[test]
        fn quarter_round_trip(quarter in any_quarter()) {
            prop_assert_eq!(quarter.to_string().parse::<Quarter>(), Ok(quarter));
        }

        #[test]
        fn period_round_trip(period in any_period()) {
            prop_assert_eq!(period.to_string().parse::<Period>(), Ok(period));
            let first = period.first_month();
            prop_assert_eq!(Period::enclosing(first).iter().filter(|e| e.kind() == period.kind()).count(), 1);
        }

        #[test]
        fn serde_json_round_trip(month in any_month(), quarter in any_quarter(), period in any_period()) {
            let json = serde_json::to_string(&month).unwrap();
            prop_assert_eq!(serde_json::from_str::<Month>(&json).unwrap(), month);
            let json = serde_json::to_string(&quarter).unwrap();
            prop_assert_eq!(serde_json::from_str::<Quarter>(&json).unwrap(), quarter);
            let json = serde_json::to_string(&period).unwrap();
            prop_assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), period);
        }

        #[test]
        fn add_months_inverse(a in any_month(), b in any_month()) {
            // Any n that keeps both ends in the supported range.
            let n = a.months_until(b);
            prop_assert_eq!(a.add_months(n), b);
            prop_assert_eq!(a.add_months(n).add_months(-n), a);
            prop_assert_eq!(a.next().prev() == a, a != Month::LAST);
        }

        #[test]
        fn add_months_small_inverse(a in any_month(), n in -240_i32..=240) {
            let b = a.add_months(n);
            if a.index() + i64::from(n) >= Month::FIRST.index()
                && a.index() + i64::from(n) <= Month::LAST.index()
            {
                prop_assert_eq!(b.add_months(-n), a);
                prop_assert_eq!(a.months_until(b), n);
            }
        }

        #[test]
        fn range_is_consecutive(a in any_month(), len in 0_i32..400) {
            let b = a.add_months(len);
            let months = Month::range(a, b, usize::MAX).unwrap();
            prop_assert_eq!(months.len() as i32, a.months_until(b) + 1);
            prop_assert_eq!(months[0], a);
            prop_assert_eq!(*months.last().unwrap(), b);
            prop_assert!(months.windows(2).all(|w| w[0] < w[1] && w[0].next() == w[1]));
        }

        #[test]
        fn quarter_contains_month(month in any_month()) {
            prop_assert!(month.quarter().months().contains(&month));
            prop_assert!(Period::Quarter(month.quarter()).contains(month));
            prop_assert!(Period::enclosing(month).iter().all(|e| e.contains(month)));
        }

        #[test]
        fn months_elapsed_bounds(period in any_period(), current in any_month()) {
            let elapsed = period.months_elapsed(current) as usize;
            let months = period.months();
            prop_assert!(elapsed <= months.len());
            prop_assert_eq!(elapsed, months.iter().filter(|m| **m <= current).count());
        }
    }
}
