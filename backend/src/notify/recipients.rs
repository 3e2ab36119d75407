//! A webhook's URL is the secret that lets anyone post to the channel: it is stored
//! sealed with `QBR_SECRET_KEY` (`secrets::sealing`; the purpose names the
//! organization, so a value copied into another organization's row does not open) and
//! shown only by its hint.
use crate::secrets::sealing::SecretKey;
use crate::store::notifications::RecipientRow;

fn purpose(org: i32) -> String {
    format!("notification-webhook:{org}")
}

/// Seals `url` for `org`.
pub fn seal(key: &SecretKey, org: i32, url: &str) -> anyhow::Result<Vec<u8>> {
    key.seal(url, &purpose(org))
        .map_err(|e| anyhow::anyhow!("sealing a webhook URL: {e}"))
}

/// The URL of a webhook recipient, or why it can't be had.
pub fn webhook_url(
    key: Option<&SecretKey>,
    org: i32,
    recipient: &RecipientRow,
) -> Result<String, String> {
    let sealed = recipient
        .webhook_sealed
        .as_deref()
        .ok_or("the recipient has no webhook URL")?;
    let key = key.ok_or("QBR_SECRET_KEY is not set: the webhook URL can't be opened")?;
    key.open(sealed, &purpose(org)).map_err(|e| {
        format!(
            "the webhook URL does not open ({e}): was QBR_SECRET_KEY changed? Enter the URL again"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_url_opens_only_for_its_organization() {
        let key =
            SecretKey::from_base64(&SecretKey::random_base64()).unwrap_or_else(|e| panic!("{e}"));
        let url = "https://hooks.slack.com/services/T/B/secret";
        let sealed = seal(&key, 3, url).unwrap_or_else(|e| panic!("{e}"));
        assert!(!String::from_utf8_lossy(&sealed).contains("secret"));
        let row = |sealed: Vec<u8>| RecipientRow {
            id: 1,
            channel: "slack".into(),
            name: String::new(),
            email: None,
            webhook_sealed: Some(sealed),
            webhook_hint: Some("hooks.slack.com/…cret".into()),
            events: vec![],
            updated_by: "t".into(),
            updated_at: chrono::Utc::now(),
        };
        assert_eq!(
            webhook_url(Some(&key), 3, &row(sealed.clone())).as_deref(),
            Ok(url)
        );
        assert!(webhook_url(Some(&key), 4, &row(sealed.clone())).is_err());
        assert!(webhook_url(None, 3, &row(sealed))
            .err()
            .is_some_and(|e| e.contains("QBR_SECRET_KEY")));
    }
}
