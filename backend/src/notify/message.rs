//! What a message says, and how each channel wants it: an email's subject and text, a
//! Teams Adaptive Card (the `attachments` payload that incoming webhooks and the
//! Workflows app both read), Slack's `text` and Block Kit `blocks`. Pure.
use qbr_shared::notify::NotifyEvent;
use serde_json::{json, Value};

/// Most lines a message lists; the rest are counted.
const MAX_LINES: usize = 25;

/// How a message should look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Something is wrong (red).
    Alert,
    /// Worth a look (amber).
    Warning,
    /// Good news (green).
    Good,
    /// Neutral (a test, a report).
    Info,
}

impl Tone {
    pub fn of(event: NotifyEvent) -> Tone {
        match event {
            NotifyEvent::CollectionFailed | NotifyEvent::SmartNumberRed => Tone::Alert,
            NotifyEvent::CollectionFlags | NotifyEvent::Drift | NotifyEvent::QuickBooksStale => {
                Tone::Warning
            }
            NotifyEvent::SmartNumberRecovered => Tone::Good,
        }
    }

    /// Adaptive Cards' colour name.
    fn card_color(self) -> &'static str {
        match self {
            Tone::Alert => "Attention",
            Tone::Warning => "Warning",
            Tone::Good => "Good",
            Tone::Info => "Default",
        }
    }

    fn emoji(self) -> &'static str {
        match self {
            Tone::Alert => ":red_circle:",
            Tone::Warning => ":warning:",
            Tone::Good => ":large_green_circle:",
            Tone::Info => ":information_source:",
        }
    }
}

/// One message, whatever the channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// "Collection run failed".
    pub title: String,
    /// The organization it is about.
    pub organization: String,
    /// One or two sentences.
    pub summary: String,
    /// The details, one per line.
    pub lines: Vec<String>,
    /// Where to look (the dashboard), if known.
    pub link: Option<String>,
    pub tone: Tone,
    /// Why the recipient gets it (the email's footer).
    pub footer: String,
}

/// An event as the worker hands it over.
#[derive(Clone, Debug)]
pub struct Raised {
    pub summary: String,
    pub details: Vec<String>,
}

/// The one message of the day for `event`: the events raised together, each with its
/// summary and details.
pub fn compose(
    organization: &str,
    event: NotifyEvent,
    raised: &[Raised],
    link: Option<String>,
) -> Message {
    let summary = match raised {
        [one] => one.summary.clone(),
        many => format!(
            "{} ({} events)",
            many.last().map(|r| r.summary.as_str()).unwrap_or_default(),
            many.len()
        ),
    };
    let mut lines: Vec<String> = Vec::new();
    for r in raised.iter().rev() {
        if raised.len() > 1 {
            lines.push(r.summary.clone());
        }
        lines.extend(r.details.iter().cloned());
    }
    lines.dedup();
    Message {
        title: event.label().to_string(),
        organization: organization.to_string(),
        summary,
        lines,
        link,
        tone: Tone::of(event),
        footer: format!(
            "You get this because you chose \"{}\" in the QBR Dashboard's notification \
             settings of {organization}. At most one message per event type and day.",
            event.label()
        ),
    }
}

impl Message {
    /// The lines shown, at most [`MAX_LINES`] and a count of the rest.
    fn shown_lines(&self) -> Vec<String> {
        let mut shown: Vec<String> = self.lines.iter().take(MAX_LINES).cloned().collect();
        if self.lines.len() > MAX_LINES {
            shown.push(format!("… and {} more", self.lines.len() - MAX_LINES));
        }
        shown
    }

    pub fn email_subject(&self) -> String {
        format!("[QBR] {}: {}", self.organization, self.title)
    }

    /// The email's plain-text body.
    pub fn email_text(&self) -> String {
        let mut out = format!(
            "{} — {}\n\n{}\n",
            self.title, self.organization, self.summary
        );
        let lines = self.shown_lines();
        if !lines.is_empty() {
            out.push('\n');
            for l in lines {
                out.push_str(&format!("  - {l}\n"));
            }
        }
        if let Some(link) = &self.link {
            out.push_str(&format!("\nOpen the dashboard: {link}\n"));
        }
        out.push_str(&format!("\n-- \n{}\n", self.footer));
        out
    }

    /// A Teams message: an Adaptive Card (1.4) in the `attachments` of a `message`, as
    /// Teams incoming webhooks and the Workflows "post to a channel when a webhook
    /// request is received" flow take it.
    pub fn teams_payload(&self) -> Value {
        let mut body = vec![
            json!({"type": "TextBlock", "text": format!("{} — {}", self.title, self.organization),
                   "weight": "Bolder", "size": "Medium", "wrap": true,
                   "color": self.tone.card_color()}),
            json!({"type": "TextBlock", "text": self.summary, "wrap": true}),
        ];
        let lines = self.shown_lines();
        if !lines.is_empty() {
            let list: Vec<String> = lines.iter().map(|l| format!("- {l}")).collect();
            body.push(
                json!({"type": "TextBlock", "text": list.join("\r"), "wrap": true,
                             "spacing": "Medium"}),
            );
        }
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": body,
        });
        if let Some(link) = &self.link {
            card["actions"] =
                json!([{"type": "Action.OpenUrl", "title": "Open the dashboard", "url": link}]);
        }
        json!({
            "type": "message",
            "summary": format!("{}: {}", self.title, self.organization),
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }

    /// A Slack message: `text` (notifications and fallback) and Block Kit `blocks`.
    pub fn slack_payload(&self) -> Value {
        let title = format!("{} — {}", self.title, self.organization);
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text",
                   "text": truncate(&title, 150), "emoji": true}}),
            json!({"type": "section", "text": {"type": "mrkdwn",
                   "text": truncate(&format!("{} {}", self.tone.emoji(), slack_escape(&self.summary)), 3000)}}),
        ];
        let lines = self.shown_lines();
        if !lines.is_empty() {
            let list: Vec<String> = lines
                .iter()
                .map(|l| format!("• {}", slack_escape(l)))
                .collect();
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                               "text": truncate(&list.join("\n"), 3000)}}));
        }
        if let Some(link) = &self.link {
            blocks.push(json!({"type": "actions", "elements": [{"type": "button",
                "text": {"type": "plain_text", "text": "Open the dashboard"}, "url": link}]}));
        }
        json!({
            "text": format!("{}: {}", slack_escape(&title), slack_escape(&self.summary)),
            "blocks": blocks,
        })
    }
}

/// Slack's mrkdwn reads `&`, `<` and `>` as markup.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters (Slack's limits per field).
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Message {
        compose(
            "Acme MSP",
            NotifyEvent::CollectionFailed,
            &[Raised {
                summary: "The scheduled collection run failed: NinjaOne: HTTP 500 <down> & out"
                    .into(),
                details: vec!["Run 12 (schedule): 2025-01 to 2025-03".into()],
            }],
            Some("https://qbr.example.com/o/acme/".into()),
        )
    }

    #[test]
    fn one_event_makes_one_message_with_its_details() {
        let m = failed();
        assert_eq!(m.email_subject(), "[QBR] Acme MSP: Collection run failed");
        let text = m.email_text();
        assert!(text.contains("NinjaOne: HTTP 500"), "{text}");
        assert!(text.contains("  - Run 12 (schedule)"), "{text}");
        assert!(text.contains("Open the dashboard: https://qbr.example.com/o/acme/"));
        assert!(text.contains("At most one message per event type and day"));
    }

    #[test]
    fn teams_gets_an_adaptive_card() {
        let p = failed().teams_payload();
        assert_eq!(p["type"], "message");
        let a = &p["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(a["content"]["type"], "AdaptiveCard");
        assert_eq!(a["content"]["body"][0]["color"], "Attention");
        assert!(a["content"]["body"][1]["text"]
            .as_str()
            .is_some_and(|t| t.contains("NinjaOne")));
        assert_eq!(a["content"]["actions"][0]["type"], "Action.OpenUrl");
    }

    #[test]
    fn slack_gets_text_and_blocks_escaped() {
        let p = failed().slack_payload();
        let text = p["text"].as_str().unwrap_or_default();
        assert!(text.contains("&lt;down&gt; &amp; out"), "{text}");
        assert_eq!(p["blocks"][0]["type"], "header");
        assert_eq!(p["blocks"][1]["text"]["type"], "mrkdwn");
        assert_eq!(
            p["blocks"][3]["elements"][0]["url"],
            "https://qbr.example.com/o/acme/"
        );
    }

    #[test]
    fn several_events_share_one_message_and_long_lists_are_cut() {
        let raised: Vec<Raised> = (0..30)
            .map(|i| Raised {
                summary: format!("event {i}"),
                details: vec![],
            })
            .collect();
        let m = compose("Acme", NotifyEvent::Drift, &raised, None);
        assert_eq!(m.summary, "event 29 (30 events)");
        let text = m.email_text();
        assert!(text.contains("… and 5 more"), "{text}");
        assert!(!text.contains("Open the dashboard"));
        assert_eq!(m.tone, Tone::Warning);
    }
}
