//! Where notifications and scheduled reports go out (`notify`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `SMTP_URL` | unset (no email) | `smtp://[user:password@]host[:port]` (port 587, STARTTLS required), `smtps://...` (port 465, TLS from the start); `?tls=opportunistic` or `?tls=none` (a relay on this machine only) |
//! | `QBR_MAIL_FROM` | unset | the sender, `QBR Dashboard <qbr@example.com>`; required with `SMTP_URL` |
//! | `QBR_WEBHOOK_HOSTS` | unset | more hosts Teams and Slack webhooks may point at (a relay, `*.example.com`); these may also use `http://` |
use super::Env;
use anyhow::Context;

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// `smtp://`: plain first, then STARTTLS, which the server must offer.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
    /// `?tls=opportunistic`: STARTTLS when offered, else plain.
    Opportunistic,
    /// `?tls=none`: plain text (a relay on the same machine, tests).
    None,
}

/// `SMTP_URL`, taken apart.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// User and password (percent-decoded), if the URL has them.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish_non_exhaustive()
    }
}

impl SmtpUrl {
    /// Reads `smtp://user:pass@host:port?tls=...`; the error says what is wrong
    /// (never the password).
    pub fn parse(url: &str) -> Result<SmtpUrl, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("it must start with smtp:// or smtps://")?;
        let (mut security, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            other => return Err(format!("unknown scheme '{other}' (smtp or smtps)")),
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let port_of = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| format!("the port '{p}' is not a number"))
        };
        let (host, port) = match hostport.strip_prefix('[') {
            Some(inner) => {
                let (h, after) = inner.split_once(']').ok_or("an unclosed [ in the host")?;
                match after.strip_prefix(':') {
                    Some(p) => (h, port_of(p)?),
                    None if after.is_empty() => (h, default_port),
                    None => return Err("text after the host's ]".into()),
                }
            }
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h, port_of(p)?),
                None => (hostport, default_port),
            },
        };
        if host.is_empty() || host.contains(['/', ' ']) {
            return Err("it names no host".into());
        }
        let credentials = match userinfo {
            Some(info) => {
                let (user, password) = info.split_once(':').unwrap_or((info, ""));
                Some((percent_decode(user)?, percent_decode(password)?))
            }
            None => None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", "required")) if scheme.eq_ignore_ascii_case("smtp") => {
                    security = SmtpSecurity::StartTls
                }
                Some(("tls", "opportunistic")) if scheme.eq_ignore_ascii_case("smtp") => {
                    security = SmtpSecurity::Opportunistic
                }
                Some(("tls", "none")) if scheme.eq_ignore_ascii_case("smtp") => {
                    security = SmtpSecurity::None
                }
                _ => {
                    return Err(format!(
                    "unknown option '{pair}' (smtp:// takes tls=required, opportunistic or none)"
                ))
                }
            }
        }
        Ok(SmtpUrl {
            host: host.to_string(),
            port,
            security,
            credentials,
        })
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a bad %-escape in the user or password")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the user or password is not UTF-8".to_string())
}

/// The settings of outgoing notifications.
#[derive(Clone, Debug, Default)]
pub struct NotifyConfig {
    pub smtp: Option<SmtpUrl>,
    /// `QBR_MAIL_FROM`, as written (the mailer checks it).
    pub mail_from: Option<String>,
    /// `QBR_WEBHOOK_HOSTS`: hosts allowed besides Microsoft's and Slack's.
    pub webhook_hosts: Vec<String>,
}

impl NotifyConfig {
    /// Reads the variables above; a malformed `SMTP_URL`, or one without
    /// `QBR_MAIL_FROM`, is an error naming the variable.
    pub fn from_env(env: &Env) -> anyhow::Result<NotifyConfig> {
        let smtp = env
            .var("SMTP_URL")
            .map(|url| SmtpUrl::parse(&url))
            .transpose()
            .map_err(|why| anyhow::anyhow!("SMTP_URL: {why}"))?;
        let mail_from = env.var("QBR_MAIL_FROM");
        if smtp.is_some() {
            mail_from.as_ref().context(
                "QBR_MAIL_FROM must name the sender when SMTP_URL is set (e.g. QBR Dashboard <qbr@example.com>)",
            )?;
        }
        Ok(NotifyConfig {
            smtp,
            mail_from,
            webhook_hosts: env
                .list("QBR_WEBHOOK_HOSTS", &[])
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_say_how_to_protect_the_connection() {
        let u = SmtpUrl::parse("smtp://mail.example.com").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.security),
            ("mail.example.com", 587, SmtpSecurity::StartTls)
        );
        assert_eq!(u.credentials, None);
        let u = SmtpUrl::parse("smtps://qbr%40example.com:p%3Ass@mail.example.com:2465")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.port, u.security), (2465, SmtpSecurity::Tls));
        assert_eq!(
            u.credentials,
            Some(("qbr@example.com".into(), "p:ss".into()))
        );
        assert!(!format!("{u:?}").contains("p:ss"), "{u:?}");
        let u = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.port, u.security), (2525, SmtpSecurity::None));
        let u =
            SmtpUrl::parse("smtp://[::1]:25?tls=opportunistic").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.security),
            ("::1", SmtpSecurity::Opportunistic)
        );
        for bad in [
            "mail.example.com",
            "http://mail.example.com",
            "smtp://mail.example.com:x",
            "smtps://mail.example.com?tls=none",
            "smtp://mail.example.com?tls=maybe",
            "smtp://",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sender_is_required_with_smtp() {
        let env = Env::from_pairs([("SMTP_URL", "smtp://mail.example.com")]);
        let err = NotifyConfig::from_env(&env).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("QBR_MAIL_FROM")));
        let env = Env::from_pairs([
            ("SMTP_URL", "smtp://mail.example.com"),
            ("QBR_MAIL_FROM", "QBR <qbr@example.com>"),
            (
                "QBR_WEBHOOK_HOSTS",
                "Relay.example.com, *.hooks.example.net",
            ),
        ]);
        let cfg = NotifyConfig::from_env(&env).unwrap_or_else(|e| panic!("{e}"));
        assert!(cfg.smtp.is_some());
        assert_eq!(
            cfg.webhook_hosts,
            vec!["relay.example.com", "*.hooks.example.net"]
        );
        assert!(NotifyConfig::from_env(&Env::from_pairs([("SMTP_URL", "ftp://x")])).is_err());
        assert!(NotifyConfig::from_env(&Env::default()).is_ok_and(|c| c.smtp.is_none()));
    }
}
