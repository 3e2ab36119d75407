//! A fake SMTP server: real SMTP over TCP on 127.0.0.1 (RFC 5321: the greeting, EHLO
//! or HELO, AUTH PLAIN and LOGIN, MAIL FROM, RCPT TO, DATA with its dot-stuffing, RSET,
//! NOOP, QUIT; no STARTTLS, so the product connects with `?tls=none`). It keeps every
//! message it accepts for the test to read (MIME decoded by `mail-parser`), and can
//! answer a message with a temporary failure (451) or refuse an address (550).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use mail_parser::{MessageParser, MimeHeaders};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A message the server accepted.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The envelope: `MAIL FROM` and every `RCPT TO`.
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, dot-stuffing undone).
    pub data: Vec<u8>,
}

/// A file attached to a message.
#[derive(Clone, Debug)]
pub struct MailFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Mail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(&self.data)
            .expect("a MIME message")
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// The `From` header's address.
    pub fn from_header(&self) -> String {
        let parsed = self.parsed();
        parsed
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string()
    }

    /// The first text part, decoded.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    /// The attachments, decoded.
    pub fn files(&self) -> Vec<MailFile> {
        self.parsed()
            .attachments()
            .map(|a| MailFile {
                name: a.attachment_name().unwrap_or_default().to_string(),
                content_type: a
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{sub}", c.ctype()),
                        None => c.ctype().to_string(),
                    })
                    .unwrap_or_default(),
                bytes: a.contents().to_vec(),
            })
            .collect()
    }
}

/// What the server gets wrong on purpose.
#[derive(Default)]
pub struct SmtpFaults {
    /// The next n messages are answered `451` at the end of DATA (not kept).
    pub defer_next: AtomicU32,
    /// Addresses refused at `RCPT TO` with `550`.
    pub unknown_recipients: Mutex<Vec<String>>,
}

/// The fake server.
pub struct FakeSmtp {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<Mail>>>,
    pub faults: Arc<SmtpFaults>,
    /// `(user, password)` of every AUTH.
    pub logins: Arc<Mutex<Vec<(String, String)>>>,
    /// Messages answered with a failure (deferred or refused).
    pub refused: Arc<AtomicU32>,
}

impl FakeSmtp {
    pub async fn start() -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = FakeSmtp {
            port,
            messages: Arc::default(),
            faults: Arc::default(),
            logins: Arc::default(),
            refused: Arc::default(),
        };
        let shared = Shared {
            messages: server.messages.clone(),
            faults: server.faults.clone(),
            logins: server.logins.clone(),
            refused: server.refused.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                });
            }
        });
        server
    }

    /// `SMTP_URL` for this server (plain text: it offers no STARTTLS).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// The messages kept so far.
    pub fn received(&self) -> Vec<Mail> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits (polling, at most `within`) until `n` messages were kept; the messages.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

#[derive(Clone)]
struct Shared {
    messages: Arc<Mutex<Vec<Mail>>>,
    faults: Arc<SmtpFaults>,
    logins: Arc<Mutex<Vec<(String, String)>>>,
    refused: Arc<AtomicU32>,
}

/// The address inside `<...>` of a `MAIL FROM:`/`RCPT TO:` argument.
fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].trim().to_string()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

async fn session(stream: TcpStream, shared: Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 fake-smtp.test ESMTP ready\r\n")
        .await?;
    let (mut from, mut to): (Option<String>, Vec<String>) = (None, Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']).to_string();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-fake-smtp.test greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE 52428800\r\n250 AUTH PLAIN LOGIN\r\n".into()
        } else if upper.starts_with("HELO") {
            "250 fake-smtp.test\r\n".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let creds = b64(command.get(10..).unwrap_or_default());
            let parts: Vec<&str> = creds.split('\0').collect();
            if parts.len() == 3 {
                shared
                    .logins
                    .lock()
                    .unwrap()
                    .push((parts[1].to_string(), parts[2].to_string()));
            }
            "235 2.7.0 Authentication successful\r\n".into()
        } else if upper.starts_with("AUTH LOGIN") {
            write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
            line.clear();
            lines.read_line(&mut line).await?;
            let user = b64(&line);
            write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
            line.clear();
            lines.read_line(&mut line).await?;
            shared.logins.lock().unwrap().push((user, b64(&line)));
            "235 2.7.0 Authentication successful\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = Some(address(&command[10..]));
            to.clear();
            "250 2.1.0 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = address(&command[8..]);
            if shared
                .faults
                .unknown_recipients
                .lock()
                .unwrap()
                .contains(&rcpt)
            {
                shared.refused.fetch_add(1, Ordering::SeqCst);
                "550 5.1.1 No such user here\r\n".into()
            } else if from.is_none() {
                "503 5.5.1 MAIL first\r\n".into()
            } else {
                to.push(rcpt);
                "250 2.1.5 OK\r\n".into()
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                "554 5.5.1 No valid recipients\r\n".into()
            } else {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = Vec::new();
                let mut raw = Vec::new();
                loop {
                    raw.clear();
                    if lines.read_until(b'\n', &mut raw).await? == 0 {
                        return Ok(());
                    }
                    if raw == b".\r\n" || raw == b".\n" {
                        break;
                    }
                    let unstuffed = if raw.starts_with(b"..") {
                        &raw[1..]
                    } else {
                        &raw[..]
                    };
                    data.extend_from_slice(unstuffed);
                }
                let deferred = shared
                    .faults
                    .defer_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let mail = Mail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                };
                if deferred {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    "451 4.3.0 Mailbox busy, try again later\r\n".into()
                } else {
                    shared.messages.lock().unwrap().push(mail);
                    "250 2.0.0 OK: queued\r\n".into()
                }
            }
        } else if upper == "RSET" {
            from = None;
            to.clear();
            "250 2.0.0 OK\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 OK\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 Command not recognized\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
}
