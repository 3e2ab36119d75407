//! Notifications and scheduled report delivery, typed: the events a recipient chooses,
//! the channels messages go by, how a delivery went, and the rule that says which
//! report is due on a given day. The JSON and database spellings are the words below.
use crate::words::words;
use crate::{Month, Quarter};
use chrono::{Datelike, NaiveDateTime, Timelike};

words! {
    /// What a recipient may be told of (`notification_recipients.events`,
    /// `notification_events.event`). Each recipient gets at most one message per event
    /// type and day.
    pub enum NotifyEvent {
        /// A collection run failed: a vendor, the database, a rejected value.
        CollectionFailed = "collection_failed",
        /// A collection run wrote values that carry data-quality flags (zero where a
        /// count is expected, a jump of more than half, QuickBooks not reconciled).
        CollectionFlags = "collection_flags",
        /// A closed month's frozen value is now reported differently by its vendor.
        Drift = "drift",
        /// A SmartNumber of the last closed month or quarter turned red.
        SmartNumberRed = "smartnumber_red",
        /// A SmartNumber of the last closed month or quarter is no longer red.
        SmartNumberRecovered = "smartnumber_recovered",
        /// QuickBooks (Desktop or Online) has delivered nothing for longer than allowed.
        QuickBooksStale = "quickbooks_stale",
    }
}

impl NotifyEvent {
    /// What a person reads in a message's title or a settings page.
    pub fn label(self) -> &'static str {
        match self {
            NotifyEvent::CollectionFailed => "Collection run failed",
            NotifyEvent::CollectionFlags => "Collected values flagged",
            NotifyEvent::Drift => "Drift in a closed month",
            NotifyEvent::SmartNumberRed => "SmartNumber turned red",
            NotifyEvent::SmartNumberRecovered => "SmartNumber no longer red",
            NotifyEvent::QuickBooksStale => "QuickBooks sync stale",
        }
    }
}

words! {
    /// How a recipient is reached.
    pub enum Channel {
        /// An email address, over `SMTP_URL`.
        Email = "email",
        /// A Microsoft Teams incoming webhook (or a Workflows "when a webhook request
        /// is received" URL): an Adaptive Card.
        Teams = "teams",
        /// A Slack incoming webhook: text and blocks.
        Slack = "slack",
    }
}

words! {
    /// Where one message stands (`notification_log.status`, `report_deliveries.status`).
    pub enum DeliveryStatus {
        /// Claimed and being sent (or its sender died: claimed again after a while).
        Sending = "sending",
        Sent = "sent",
        /// Every try failed; the error is kept.
        Failed = "failed",
    }
}

words! {
    /// Which scheduled report a delivery was (`report_deliveries.kind`).
    pub enum ReportKind {
        /// The report of the quarter that closed.
        Quarterly = "quarterly",
        /// The quarter-to-date report after a month closed inside a quarter.
        Monthly = "monthly",
    }
}

/// The latest day of the month a scheduled report may be set for (every month has it).
pub const LAST_DELIVERY_DAY: u32 = 28;

/// A scheduled report that is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueReport {
    pub kind: ReportKind,
    /// What it is sent for, once: the closed quarter (`2025-Q1`) or month (`2025-05`).
    pub key: ReportKey,
    /// The quarter the report covers.
    pub quarter: Quarter,
}

/// What a scheduled report is sent for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKey {
    Quarter(Quarter),
    Month(Month),
}

impl std::fmt::Display for ReportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportKey::Quarter(q) => q.fmt(f),
            ReportKey::Month(m) => m.fmt(f),
        }
    }
}

/// The report due at `now` (the organization's local time) when reports go out on
/// `day` of the month at or after `hour`: in a quarter's first month the closed
/// quarter's report; with `monthly`, in its other months the quarter-to-date report
/// (the month that just closed included). Due from that moment to the month's end, so
/// a server that was down on the day sends it when it is back; the caller sends each
/// one once.
pub fn due_report(now: NaiveDateTime, day: u32, hour: u32, monthly: bool) -> Option<DueReport> {
    if now.day() < day || (now.day() == day && now.hour() < hour) {
        return None;
    }
    let month = Month::from_date(now.date());
    let quarter = month.quarter();
    if quarter.months()[0] == month {
        let closed = quarter.prev();
        Some(DueReport {
            kind: ReportKind::Quarterly,
            key: ReportKey::Quarter(closed),
            quarter: closed,
        })
    } else if monthly {
        Some(DueReport {
            kind: ReportKind::Monthly,
            key: ReportKey::Month(month.prev()),
            quarter,
        })
    } else {
        None
    }
}

/// The next moment after `now` a report is due by the same rule, and which report.
pub fn next_delivery(
    now: NaiveDateTime,
    day: u32,
    hour: u32,
    monthly: bool,
) -> Option<(NaiveDateTime, DueReport)> {
    let this = Month::from_date(now.date());
    (0..4).map(|i| this.add_months(i)).find_map(|m| {
        let at = m.first_day().with_day(day)?.and_hms_opt(hour, 0, 0)?;
        let due = due_report(at, day, hour, monthly)?;
        (at >= now).then_some((at, due))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .unwrap_or_default()
    }

    fn q(s: &str) -> Quarter {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn the_closed_quarter_goes_out_on_its_day_and_after() {
        assert_eq!(due_report(at(2025, 4, 4, 23), 5, 7, false), None);
        assert_eq!(due_report(at(2025, 4, 5, 6), 5, 7, false), None);
        let due = due_report(at(2025, 4, 5, 7), 5, 7, false);
        assert_eq!(
            due,
            Some(DueReport {
                kind: ReportKind::Quarterly,
                key: ReportKey::Quarter(q("2025-Q1")),
                quarter: q("2025-Q1"),
            })
        );
        // A server down on the day catches up later that month.
        assert_eq!(due_report(at(2025, 4, 30, 1), 5, 7, false), due);
        // January: the year's last quarter.
        let january = due_report(at(2026, 1, 10, 12), 1, 0, false);
        assert_eq!(january.map(|d| d.quarter), Some(q("2025-Q4")));
    }

    #[test]
    fn monthly_sends_the_quarter_to_date_in_the_other_months() {
        assert_eq!(due_report(at(2025, 5, 6, 9), 5, 7, false), None);
        let may = due_report(at(2025, 5, 6, 9), 5, 7, true);
        assert_eq!(
            may,
            Some(DueReport {
                kind: ReportKind::Monthly,
                key: ReportKey::Month("2025-04".parse().unwrap_or_else(|_| unreachable!())),
                quarter: q("2025-Q2"),
            })
        );
        assert_eq!(may.map(|d| d.key.to_string()).as_deref(), Some("2025-04"));
        // The quarter's first month still sends the closed quarter.
        let july = due_report(at(2025, 7, 5, 7), 5, 7, true);
        assert_eq!(july.map(|d| d.kind), Some(ReportKind::Quarterly));
    }

    #[test]
    fn the_next_delivery_is_the_next_day_that_sends_one() {
        let (at, due) = next_delivery(super::tests::at(2025, 4, 6, 0), 5, 7, false)
            .unwrap_or_else(|| unreachable!());
        assert_eq!(at, super::tests::at(2025, 7, 5, 7));
        assert_eq!(due.quarter, q("2025-Q2"));
        let (at, due) = next_delivery(super::tests::at(2025, 4, 6, 0), 5, 7, true)
            .unwrap_or_else(|| unreachable!());
        assert_eq!(at, super::tests::at(2025, 5, 5, 7));
        assert_eq!(due.kind, ReportKind::Monthly);
        let (at, _) = next_delivery(super::tests::at(2025, 4, 5, 6), 5, 7, false)
            .unwrap_or_else(|| unreachable!());
        assert_eq!(at, super::tests::at(2025, 4, 5, 7));
    }

    #[test]
    fn words_round_trip() {
        for e in NotifyEvent::ALL {
            assert_eq!(NotifyEvent::parse(e.as_str()), Some(*e));
            assert!(!e.label().is_empty());
        }
        assert_eq!(Channel::parse("teams"), Some(Channel::Teams));
        assert_eq!(NotifyEvent::parse("sms"), None);
    }
}
