//! Sending what the app decided to send: mail over SMTP (lettre) and SMS and push through a
//! provider's webhook (ureq). The binary wires them in when they are configured.
//!
//! The SMTP server is an address: `smtp://host:port` (plain, for a relay on the same
//! machine or network), `smtp+starttls://user:password@host:587` (STARTTLS required) or
//! `smtps://user:password@host:465` (TLS from the start). Certificates are checked against
//! the usual public roots and, when given, one more CA certificate (a company's own).

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use stammgast_app::{Mail, MailError, Mailer, Sending, Text, Texter};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    Plain,
    StartTls,
    Tls,
}

/// An SMTP server's address, taken apart.
#[derive(Debug, PartialEq, Eq)]
struct Server {
    security: Security,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Server {
    fn parse(url: &str) -> Result<Self, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("\"{url}\" is not an smtp://, smtp+starttls:// or smtps:// address")
        })?;
        let (security, default_port) = match scheme {
            "smtp" => (Security::Plain, 25),
            "smtp+starttls" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            other => return Err(format!("\"{other}\" is not smtp, smtp+starttls or smtps")),
        };
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((user_info, address)) => {
                let (user, password) = user_info
                    .split_once(':')
                    .ok_or("give the user and the password as user:password@host")?;
                (Some((decode(user)?, decode(password)?)), address)
            }
            None => (None, rest),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => {
                let port = port
                    .parse()
                    .map_err(|_| format!("\"{port}\" is not a port number"))?;
                (host, port)
            }
            None => (address, default_port),
        };
        if host.is_empty() {
            return Err(format!("\"{url}\" names no host"));
        }
        if credentials.is_some() && security == Security::Plain {
            return Err(
                "a password is only sent over TLS: use smtp+starttls:// or smtps://".into(),
            );
        }
        Ok(Self {
            security,
            host: host.to_owned(),
            port,
            credentials,
        })
    }
}

/// Undoes `%XX` in a user name or password (an `@` in a password is written `%40`).
fn decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail
                .get(..2)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a % in the address is not followed by two hex digits")?;
            bytes.push(hex);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| "the user or password is not UTF-8".to_owned())
}

impl SmtpMailer {
    /// `url` as the module describes; `from` a mailbox such as
    /// `Café Morgenrot <treue@cafe-morgenrot.de>`; `extra_ca` a PEM certificate to trust
    /// besides the public roots.
    pub fn new(url: &str, from: &str, extra_ca: Option<&[u8]>) -> Result<Self, String> {
        let server = Server::parse(url)?;
        let from = from
            .parse()
            .map_err(|e| format!("\"{from}\" is not a sender address: {e}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .port(server.port)
            .timeout(Some(Duration::from_secs(30)));
        if server.security != Security::Plain {
            let mut parameters = TlsParameters::builder(server.host.clone());
            if let Some(pem) = extra_ca {
                if !String::from_utf8_lossy(pem).contains("-----BEGIN CERTIFICATE-----") {
                    return Err("the CA file holds no PEM certificate".into());
                }
                let certificate = Certificate::from_pem(pem)
                    .map_err(|e| format!("the CA certificate cannot be read: {e}"))?;
                parameters = parameters.add_root_certificate(certificate);
            }
            let parameters = parameters
                .build_rustls()
                .map_err(|e| format!("TLS cannot be set up: {e}"))?;
            builder = builder.tls(match server.security {
                Security::StartTls => Tls::Required(parameters),
                _ => Tls::Wrapper(parameters),
            });
        }
        if let Some((user, password)) = server.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
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

/// SMS and push through the provider's webhook: each message is POSTed as JSON
/// `{"id", "channel", "to", "text"}`, with the token as a bearer token. A 2xx answer is
/// delivered, a 4xx one refused for good, anything else (5xx, no answer) tried again later.
/// The `id` stays the same on a retry, so the provider can drop a repeated delivery.
#[derive(Clone, Debug)]
pub struct WebhookTexter {
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl WebhookTexter {
    pub fn new(url: &str, token: &str) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("\"{url}\" is not an http:// or https:// address"));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Ok(Self {
            url: url.to_owned(),
            token: Some(token.trim().to_owned()).filter(|t| !t.is_empty()),
            agent,
        })
    }
}

impl Texter for WebhookTexter {
    fn send(&self, text: Text) -> Sending<'_> {
        let webhook = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || webhook.post(&text))
                .await
                .map_err(|e| MailError::Transient(format!("the webhook call was lost: {e}")))?
        })
    }
}

impl WebhookTexter {
    fn post(&self, text: &Text) -> Result<(), MailError> {
        let body = serde_json::json!({
            "id": text.id.to_string(),
            "channel": text.channel.as_str(),
            "to": text.to,
            "text": text.text,
        });
        let mut request = self.agent.post(&self.url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let response = request
            .send_json(&body)
            .map_err(|e| MailError::Transient(format!("the provider did not answer: {e}")))?;
        let status = response.status();
        let reason = format!("the provider answered {status}");
        match status.as_u16() {
            200..=299 => Ok(()),
            400..=499 => Err(MailError::Permanent(reason)),
            _ => Err(MailError::Transient(reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_addresses_name_the_protection_the_host_the_port_and_the_login() {
        let relay = Server::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((relay.security, relay.port), (Security::Plain, 2525));
        assert_eq!(Server::parse("smtp://mail.example.org").unwrap().port, 25);
        let provider =
            Server::parse("smtp+starttls://treue%40cafe.de:g%3Aheim@mail.example.org").unwrap();
        assert_eq!(
            provider,
            Server {
                security: Security::StartTls,
                host: "mail.example.org".into(),
                port: 587,
                credentials: Some(("treue@cafe.de".into(), "g:heim".into())),
            }
        );
        assert_eq!(
            Server::parse("smtps://a:b@mail.example.org").unwrap().port,
            465
        );
        for url in [
            "http://x:25",
            "smtp://:25",
            "smtp://x:port",
            "smtp://a:b@x",
            "smtps://a@x",
        ] {
            assert!(Server::parse(url).is_err(), "{url}");
        }
        assert!(SmtpMailer::new("smtp://x:25", "not an address", None).is_err());
        assert!(SmtpMailer::new("smtps://x:465", "a@b.de", Some(b"not a certificate")).is_err());
    }

    #[test]
    fn the_webhook_must_be_an_http_address() {
        assert!(WebhookTexter::new("https://sms.example/send", "t").is_ok());
        assert!(WebhookTexter::new("ftp://sms.example", "t").is_err());
    }
}
