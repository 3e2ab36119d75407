//! The `.qwc` file the bookkeeper adds to the Web Connector ("Add an application"): it
//! names our SOAP service, the user to sign in as and how often to run. The owner and
//! file ids are GUIDs derived from the service URL and the user name, so the same
//! settings always give the same file (the Web Connector keys its application by them).
use sha2::{Digest, Sha256};

/// How often the Web Connector runs the sync, in minutes.
pub const RUN_EVERY_MINUTES: u32 = 60;

/// Why a `.qwc` file can't be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QwcError {
    #[error("the URL must be https:// (the Web Connector refuses plain http except for localhost), got '{0}'")]
    NotHttps(String),
    #[error("the user name must be 1 to 100 printable characters")]
    BadUserName,
}

/// A GUID in braces (`{8-4-4-4-12}`, upper case) from a hash of `parts`.
fn stable_guid(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    let id = uuid::Builder::from_custom_bytes(bytes).into_uuid();
    format!("{{{}}}", id.hyphenated().to_string().to_uppercase())
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The `.qwc` file for the service at `url` (`https://host/api/qbwc`) and `username`.
pub fn qwc_file(url: &str, username: &str) -> Result<String, QwcError> {
    let url = url.trim();
    let local = url.starts_with("http://localhost") || url.starts_with("http://127.0.0.1");
    if !(url.starts_with("https://") || local) {
        return Err(QwcError::NotHttps(url.chars().take(200).collect()));
    }
    if qbr_shared::text::check(username, qbr_shared::text::NAME).is_err() || username.is_empty() {
        return Err(QwcError::BadUserName);
    }
    let support = url.trim_end_matches("/api/qbwc");
    Ok(format!(
        r#"<?xml version="1.0"?>
<QBWCXML>
  <AppName>QBR Dashboard</AppName>
  <AppID></AppID>
  <AppURL>{url}</AppURL>
  <AppDescription>Monthly profit and loss and head count for the QBR Dashboard (read only)</AppDescription>
  <AppSupport>{support}/</AppSupport>
  <UserName>{user}</UserName>
  <OwnerID>{owner}</OwnerID>
  <FileID>{file}</FileID>
  <QBType>QBFS</QBType>
  <Scheduler>
    <RunEveryNMinutes>{RUN_EVERY_MINUTES}</RunEveryNMinutes>
  </Scheduler>
  <IsReadOnly>true</IsReadOnly>
</QBWCXML>
"#,
        url = escape(url),
        support = escape(support),
        user = escape(username),
        owner = stable_guid(&["owner", url, username]),
        file = stable_guid(&["file", url, username]),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_stable_and_names_the_service() {
        let a = qwc_file("https://qbr.example.com/api/qbwc", "books").unwrap_or_default();
        let b = qwc_file("https://qbr.example.com/api/qbwc", "books").unwrap_or_default();
        assert_eq!(a, b, "the GUIDs are kept stable");
        assert!(a.contains("<AppURL>https://qbr.example.com/api/qbwc</AppURL>"));
        assert!(a.contains("<UserName>books</UserName>"));
        assert!(a.contains("<QBType>QBFS</QBType>"));
        let other = qwc_file("https://qbr.example.com/api/qbwc", "other").unwrap_or_default();
        let owner = |f: &str| {
            f.lines()
                .find(|l| l.contains("OwnerID"))
                .map(str::to_string)
        };
        assert_ne!(owner(&a), owner(&other));
        assert!(owner(&a).is_some_and(|l| l.contains("<OwnerID>{") && l.len() > 40));
    }

    #[test]
    fn plain_http_and_odd_names_are_refused() {
        assert!(matches!(
            qwc_file("http://qbr.example.com/api/qbwc", "books"),
            Err(QwcError::NotHttps(_))
        ));
        assert!(qwc_file("http://localhost:5400/api/qbwc", "books").is_ok());
        assert_eq!(
            qwc_file("https://x/api/qbwc", "a\nb"),
            Err(QwcError::BadUserName)
        );
    }
}
