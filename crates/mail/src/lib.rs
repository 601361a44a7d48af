//! Mail over SMTP (lettre): the [`Mailer`] the binary wires in when a mail server is
//! configured as `smtp://host:port`. Plain SMTP to a relay for now; TLS comes with the
//! campaign mail.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use stammgast_app::{Mail, MailError, Mailer, Sending};

#[derive(Clone, Debug)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// `url` is `smtp://host:port` (port 25 when left out); `from` a mailbox such as
    /// `Café Morgenrot <treue@cafe-morgenrot.de>`.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let address = url
            .strip_prefix("smtp://")
            .ok_or_else(|| format!("\"{url}\" is not an smtp://host:port address"))?
            .trim_end_matches('/');
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse()
                    .map_err(|_| format!("\"{port}\" is not a port number"))?;
                (host, port)
            }
            None => (address, 25),
        };
        if host.is_empty() {
            return Err(format!("\"{url}\" names no host"));
        }
        let from = from
            .parse()
            .map_err(|e| format!("\"{from}\" is not a sender address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .build();
        Ok(Self { transport, from })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> Sending<'_> {
        Box::pin(async move {
            let to = mail.to.parse().map_err(|e| {
                MailError::Permanent(format!("\"{}\" is not an address: {e}", mail.to))
            })?;
            let builder = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(mail.subject);
            let message = match mail.html {
                Some(html) => builder.multipart(MultiPart::alternative_plain_html(mail.text, html)),
                None => builder.body(mail.text),
            }
            .map_err(|e| MailError::Permanent(format!("the message could not be built: {e}")))?;
            self.transport.send(message).await.map(|_| ()).map_err(|e| {
                let reason = format!("the mail server refused the message: {e}");
                // A 5xx reply is final; anything else (4xx, no connection) may pass later.
                if e.is_permanent() {
                    MailError::Permanent(reason)
                } else {
                    MailError::Transient(reason)
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_must_be_smtp_urls_with_a_host_and_a_numeric_port() {
        assert!(SmtpMailer::new("smtp://127.0.0.1:2525", "a@b.de").is_ok());
        assert!(SmtpMailer::new("smtp://mail.example.org", "a@b.de").is_ok());
        for url in ["http://x:25", "smtp://:25", "smtp://x:port"] {
            assert!(SmtpMailer::new(url, "a@b.de").is_err(), "{url}");
        }
        assert!(SmtpMailer::new("smtp://x:25", "not an address").is_err());
    }
}
