//! Email over SMTP (lettre on tokio, TLS by rustls with Mozilla's roots): STARTTLS
//! (`smtp://`, required unless the URL says otherwise) or TLS from the start
//! (`smtps://`), a login when the URL has one, a pool of connections.
use super::SendError;
use crate::config::notify::{SmtpSecurity, SmtpUrl};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one SMTP exchange may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A file sent with a message.
pub struct File {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Sends mail through `SMTP_URL` as `QBR_MAIL_FROM`.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    describe: String,
}

impl Mailer {
    pub fn new(smtp: &SmtpUrl, from: &str) -> anyhow::Result<Mailer> {
        let from: Mailbox = from.parse().map_err(|e| {
            anyhow::anyhow!("QBR_MAIL_FROM: '{from}' is not a sender (Name <address>): {e}")
        })?;
        let host = smtp.host.as_str();
        let builder = match smtp.security {
            SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpSecurity::Opportunistic => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    .tls(Tls::Opportunistic(TlsParameters::new(host.to_string())?))
            }
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let security = match smtp.security {
            SmtpSecurity::StartTls => "STARTTLS",
            SmtpSecurity::Tls => "TLS",
            SmtpSecurity::Opportunistic => "STARTTLS if offered",
            SmtpSecurity::None => "no TLS",
        };
        Ok(Mailer {
            transport: builder.build(),
            from,
            describe: format!("{}:{} ({security})", smtp.host, smtp.port),
        })
    }

    /// The server and how it is reached, for the start-up log.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Sends one message to `to` (one try): the plain-text body and any files.
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        files: &[File],
    ) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::permanent(format!("'{to}' is not an address: {e}")))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject);
        let body = SinglePart::plain(text.to_string());
        let message = if files.is_empty() {
            builder.singlepart(body)
        } else {
            let mut parts = MultiPart::mixed().singlepart(body);
            for f in files {
                let content_type = ContentType::parse(f.content_type)
                    .map_err(|e| SendError::permanent(format!("{}: {e}", f.content_type)))?;
                parts = parts.singlepart(
                    Attachment::new(f.name.clone()).body(f.bytes.clone(), content_type),
                );
            }
            builder.multipart(parts)
        }
        .map_err(|e| SendError::permanent(format!("the message could not be built: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                // SMTP's 5xx, a refused login or a bad certificate won't change by
                // themselves; 4xx, timeouts and dropped connections may.
                retryable: !(e.is_permanent() || e.is_client() || e.is_tls()),
                message: format!("SMTP: {e}"),
                retry_after: None,
            })
    }
}
