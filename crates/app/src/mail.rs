//! Mail the app sends (sign-in links, confirmations, journeys), through a [`Mailer`] the
//! binary chooses: SMTP when a server is configured, otherwise the log; and SMS and push
//! through a [`Texter`], the provider's webhook, when one is configured.

use std::future::Future;
use std::pin::Pin;

/// One message to one recipient: plain text, and an HTML version where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// Why mail was not delivered, with the server's reason: worth trying again later, or
/// refused for good (the address does not exist, say), when the address gets nothing more.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Delivers mail.
pub trait Mailer: Send + Sync {
    fn send(&self, mail: Mail) -> Sending<'_>;
}

/// A short text for the SMS or push provider: `to` is the phone number for SMS and the
/// member's id for push (the provider knows their devices by it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    /// The outbox message's id: the provider can drop a repeated delivery by it.
    pub id: uuid::Uuid,
    pub channel: stammgast_core::member::Channel,
    pub to: String,
    pub text: String,
}

/// Delivers SMS and push messages (through a provider's webhook); its errors are read as
/// mail's are: try again later, or refused for good.
pub trait Texter: Send + Sync {
    fn send(&self, text: Text) -> Sending<'_>;
}

/// Without a mail server, mail is written to the log, so a local installation (and the
/// demo) can still follow a sign-in link. Production configures SMTP.
#[derive(Debug, Default)]
pub struct LogMailer;

impl Mailer for LogMailer {
    fn send(&self, mail: Mail) -> Sending<'_> {
        Box::pin(async move {
            tracing::warn!(
                to = %mail.to,
                subject = %mail.subject,
                text = %mail.text,
                "no mail server is configured: this mail was only logged"
            );
            Ok(())
        })
    }
}
