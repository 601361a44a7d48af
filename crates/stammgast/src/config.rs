//! One typed configuration, layered: defaults → file (`--config` or `STAMMGAST_CONFIG`) →
//! `STAMMGAST_*` environment variables → command-line flags. Validated once into
//! [`Settings`] and passed explicitly.

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite:///path/to/file.db` or `postgres://user:password@host/database`.
    pub database: String,
    /// Where the HTTP server listens.
    pub listen: SocketAddr,
    /// The address customers and staff reach the product at (`https://…` behind a proxy),
    /// for QR codes, share links and mail. Empty: the address the browser used.
    pub public_url: String,
    /// The mail server: `smtp://host:port` (plain, a relay nearby),
    /// `smtp+starttls://user:password@host:587` or `smtps://user:password@host:465`.
    /// Empty: mail is written to the log instead.
    pub smtp_url: String,
    /// A PEM file with one more CA certificate to trust for the mail server's TLS (a
    /// company's own CA). Empty: the public roots only.
    pub smtp_ca_file: String,
    /// The sender of the mail Stammgast sends.
    pub mail_from: String,
    /// The SMS and push provider's webhook (`https://…`), which gets each message as JSON.
    /// Empty: journeys send email only.
    pub text_webhook_url: String,
    /// The bearer token for that webhook.
    pub text_webhook_token: String,
    /// Seconds between maintenance passes (point expiry, tier evaluation).
    pub worker_interval_seconds: u64,
    /// Members handled per business and kind of work in one maintenance pass.
    pub worker_batch_size: usize,
    /// The most visits a report counts exactly from the history (periods other than
    /// calendar months, quarters and years, and single locations); larger histories answer
    /// calendar spans only.
    pub analytics_history_visits_max: u64,
}

impl Settings {
    /// The app on `store` with these settings' limits (the mailer is the caller's choice).
    pub fn app(&self, store: stammgast_app::Store) -> stammgast_app::App {
        stammgast_app::App::new(store, stammgast_app::Clock::system())
            .with_history_visits_max(self.analytics_history_visits_max)
            .with_public_url(&self.base_url())
    }

    /// Where members reach the app: `public_url`, or the listening address.
    pub fn base_url(&self) -> String {
        match self.public_url.trim() {
            "" => format!("http://{}", self.listen),
            url => url.to_owned(),
        }
    }

    /// The mailer: SMTP when a server is configured, the log otherwise.
    pub fn mailer(&self) -> anyhow::Result<std::sync::Arc<dyn stammgast_app::Mailer>> {
        if self.smtp_url.trim().is_empty() {
            tracing::warn!("no smtp_url configured: mail (sign-in links) is written to the log");
            return Ok(std::sync::Arc::new(stammgast_app::LogMailer));
        }
        let extra_ca = match self.smtp_ca_file.trim() {
            "" => None,
            path => Some(std::fs::read(path).with_context(|| format!("smtp_ca_file {path}"))?),
        };
        let mailer = stammgast_mail::SmtpMailer::new(
            self.smtp_url.trim(),
            &self.mail_from,
            extra_ca.as_deref(),
        )
        .map_err(|reason| anyhow::anyhow!("smtp_url: {reason}"))?;
        Ok(std::sync::Arc::new(mailer))
    }

    /// The SMS and push provider, when its webhook is configured.
    pub fn texter(&self) -> anyhow::Result<Option<std::sync::Arc<dyn stammgast_app::Texter>>> {
        match self.text_webhook_url.trim() {
            "" => Ok(None),
            url => {
                let texter = stammgast_mail::WebhookTexter::new(url, &self.text_webhook_token)
                    .map_err(|reason| anyhow::anyhow!("text_webhook_url: {reason}"))?;
                Ok(Some(std::sync::Arc::new(texter)))
            }
        }
    }

    /// What the web pages need to know about where they are served.
    pub fn site(&self) -> stammgast_http::Site {
        stammgast_http::Site {
            public_url: Some(self.public_url.trim().to_owned()).filter(|url| !url.is_empty()),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database: "sqlite://stammgast.db".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            smtp_url: String::new(),
            smtp_ca_file: String::new(),
            mail_from: "Stammgast <noreply@localhost>".into(),
            text_webhook_url: String::new(),
            text_webhook_token: String::new(),
            worker_interval_seconds: 60,
            worker_batch_size: 500,
            analytics_history_visits_max: 500_000,
        }
    }
}

/// The database URL may carry a password: never print it.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database", &redact(&self.database))
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("smtp_url", &redact(&self.smtp_url))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .field("text_webhook_url", &self.text_webhook_url)
            .field("text_webhook_token", &"***")
            .field("worker_interval_seconds", &self.worker_interval_seconds)
            .field("worker_batch_size", &self.worker_batch_size)
            .field(
                "analytics_history_visits_max",
                &self.analytics_history_visits_max,
            )
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Flags that override the other layers when given.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
}

pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Settings> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(file) = file {
        anyhow::ensure!(
            file.exists(),
            "the configuration file {} does not exist",
            file.display()
        );
        figment = figment.merge(Toml::file(file));
    }
    figment
        .merge(Env::prefixed("STAMMGAST_").ignore(&["config"]))
        .merge(Serialized::defaults(overrides))
        .extract()
        .context("the configuration is not valid")
}

pub const EXAMPLE: &str = r#"# Stammgast configuration. Every setting can also be given as an environment variable
# (STAMMGAST_DATABASE, STAMMGAST_LISTEN, …) or, where it exists, as a flag; flags win over
# the environment, the environment over this file, this file over the defaults shown here.

# Where the data lives: an embedded SQLite file (created when missing) or PostgreSQL.
database = "sqlite://stammgast.db"
# database = "postgres://stammgast:secret@127.0.0.1:5432/stammgast"

# Where the HTTP server listens.
listen = "127.0.0.1:8080"

# The address customers and staff reach Stammgast at, for QR codes, share links and mail,
# e.g. "https://treue.cafe-morgenrot.de". Empty: the address the browser used. Cookies are
# marked Secure when it starts with https://.
public_url = ""

# The mail server for sign-in links, confirmations and journeys. Empty: mail is written to
# the log, which is enough for a local trial but not for customers.
#   smtp://127.0.0.1:25                             plain, to a relay on this machine
#   smtp+starttls://user:password@mail.example:587   STARTTLS required
#   smtps://user:password@mail.example:465           TLS from the start
# (write an @ in the user or password as %40).
smtp_url = ""
# A PEM file with one more CA certificate to trust for the mail server (a company's own).
smtp_ca_file = ""
# The sender of that mail.
mail_from = "Stammgast <noreply@localhost>"

# The SMS and push provider's webhook: each message is POSTed to it as JSON
# {"id", "channel": "sms"|"push", "to", "text"} with the token as a bearer token. Empty:
# journeys send email only.
text_webhook_url = ""
text_webhook_token = ""

# Seconds between maintenance passes (expiring points, re-evaluating tiers).
worker_interval_seconds = 60

# Members handled per business and kind of work in one maintenance pass.
worker_batch_size = 500

# The most visits a report counts exactly from the history (other periods than calendar
# months, quarters and years, and single locations); larger businesses get calendar spans.
analytics_history_visits_max = 500000
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        let settings = Settings {
            database: "postgres://u:pw@h/db".into(),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("pw"));
    }

    #[test]
    fn the_example_is_a_valid_configuration_equal_to_the_defaults() {
        let dir = std::env::temp_dir().join(format!("stammgast-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("stammgast.toml");
        std::fs::write(&file, EXAMPLE).unwrap();
        let settings = load(Some(&file), Overrides::default()).unwrap();
        assert_eq!(settings.listen, Settings::default().listen);
        assert_eq!(settings.worker_batch_size, 500);
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir =
            std::env::temp_dir().join(format!("stammgast-config-flags-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("stammgast.toml");
        std::fs::write(&file, "database = \"sqlite://from-file.db\"\n").unwrap();
        let overrides = Overrides {
            database: Some("sqlite://from-flag.db".into()),
            listen: None,
        };
        assert_eq!(
            load(Some(&file), overrides).unwrap().database,
            "sqlite://from-flag.db"
        );
        assert_eq!(
            load(Some(&file), Overrides::default()).unwrap().database,
            "sqlite://from-file.db"
        );
    }
}
