//! Double opt-in and the outbox with a real SMTP server: the confirmation mail arrives and
//! its link confirms the consent (which only then counts); a refused address bounces and
//! gets nothing more; a server that says "later" gets the message on a retry after the
//! pause; two workers delivering at once send each message once.

use crate::helpers::{fresh_sqlite_path, spawn_app};
use crate::pages::link_in;
use crate::smtp;
use crate::visitor::Visitor;
use chrono::{Duration, TimeZone, Utc};
use stammgast_app::{App, Clock, ClockHand, Delivered, JoinMember};
use stammgast_core::batch::Outcome;
use stammgast_core::ids::{BusinessId, MemberId};
use stammgast_core::member::{Channel, Consent, ConsentPurpose};
use stammgast_mail::SmtpMailer;
use stammgast_store::Store;
use stammgast_store_sqlite::SqliteBackend;
use std::sync::Arc;

fn consented(app: &crate::helpers::TestApp) -> u64 {
    let reply = app.post(
        "/api/v1/segments:preview",
        None,
        r#"{"filter": "consent email"}"#,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["members"].as_u64().unwrap()
}

#[test]
fn email_news_count_once_the_member_follows_the_link_in_the_confirmation_mail() {
    let app = spawn_app();
    let mut customer = Visitor::new(&app.address, "de");
    let joined = customer.post(
        &format!("/join/{}", app.business_id),
        &[
            ("first_name", "Anna"),
            ("email", "anna@example.com"),
            ("terms", "yes"),
            ("marketing_email", "yes"),
        ],
    );
    assert_eq!(joined.status, 303, "{}", joined.html);
    let mail = app.mailbox.wait_for("anna@example.com");
    assert!(
        mail.message.contains(
            "du möchtest Neuigkeiten und Angebote von Café Morgenrot per E-Mail bekommen"
        ),
        "{}",
        mail.message
    );
    assert!(mail.message.contains("Hallo Anna"), "{}", mail.message);
    assert_eq!(consented(&app), 0, "nothing counts before the confirmation");

    let link = link_in(&mail.message, "/consent/confirm/");
    let confirmed = customer.get(&link);
    assert_eq!(confirmed.status, 200, "{}", confirmed.html);
    assert!(
        confirmed
            .html
            .contains("Ab jetzt bekommst du Neuigkeiten von Café Morgenrot per E-Mail"),
        "{}",
        confirmed.html
    );
    assert_eq!(consented(&app), 1);
    let again = customer.get(&link);
    assert_eq!(again.status, 404);
    assert!(again.html.contains("abgelaufen oder wurde schon benutzt"));
    assert_eq!(
        app.mailbox.messages_to("anna@example.com").len(),
        1,
        "one confirmation mail"
    );
    let members = app.get("/api/v1/members?limit=10");
    let id = members.body["items"][0]["id"].as_str().unwrap().to_owned();
    let profile = crate::office::owner(&app).get(&format!("/office/members/{id}"));
    assert!(
        profile
            .html
            .contains("Bestätigung der E-Mail-Einwilligung</td><td>email</td><td>zugestellt"),
        "the owner sees each message's delivery: {}",
        profile.html
    );
}

/// A business on SQLite whose app sends to the test SMTP server on a clock the test moves.
pub struct Shop {
    pub store: Store,
    pub hand: ClockHand,
    pub business: BusinessId,
    api_key: String,
    pub mailbox: smtp::Mailbox,
    smtp_url: String,
}

impl Shop {
    pub async fn open() -> Self {
        let (smtp_url, mailbox) = smtp::start();
        let store = Store::open(SqliteBackend::new(fresh_sqlite_path()))
            .await
            .unwrap();
        // Noon in the shop's time zone (Berlin), outside its quiet hours.
        let hand = ClockHand::at(Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap());
        let shop = Self {
            store,
            hand,
            business: BusinessId::from_uuid(uuid::Uuid::nil()),
            api_key: String::new(),
            mailbox,
            smtp_url,
        };
        let created = shop
            .app()
            .create_business("Café Morgenrot", None)
            .await
            .unwrap();
        Self {
            business: created.business_id,
            api_key: created.api_key,
            ..shop
        }
    }

    /// An app server of the shop (each call another one, as on another machine).
    pub fn app(&self) -> App {
        let mailer = SmtpMailer::new(
            &self.smtp_url,
            "Café Morgenrot <treue@morgenrot.example>",
            None,
        )
        .unwrap();
        App::new(self.store.clone(), Clock::manual(&self.hand))
            .with_mailer(Arc::new(mailer))
            .with_public_url("http://shop.example")
    }

    /// Serves an app of the shop over HTTP on a free port (on the shop's clock); a client
    /// for it.
    pub async fn serve(&self) -> crate::helpers::TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let router = stammgast_http::router(self.app(), stammgast_http::Site::default());
        tokio::spawn(async move {
            stammgast_http::serve(listener, router, std::future::pending())
                .await
                .unwrap();
        });
        let mut client = crate::helpers::TestApp::attach(address, self.api_key.clone());
        client.business_id = self.business.to_string();
        client.mailbox = self.mailbox.clone();
        client
    }

    pub async fn caller(&self) -> stammgast_app::Caller {
        self.app().authenticate(&self.api_key).await.unwrap()
    }

    /// A member joining without consents.
    pub async fn member(&self, first_name: &str, email: &str, language: &str) -> MemberId {
        let join = JoinMember {
            first_name: first_name.into(),
            email: Some(email.into()),
            language: Some(language.into()),
            ..JoinMember::default()
        };
        let caller = self.caller().await;
        let Ok(Outcome::Joined { member_id, .. }) =
            self.app().join_member(&caller, None, join).await
        else {
            panic!("the member joins");
        };
        member_id
    }

    /// A member who agrees to email news; the confirmation waits in the outbox.
    pub async fn member_agreeing_to_email(
        &self,
        first_name: &str,
        email: &str,
        language: &str,
    ) -> MemberId {
        let member_id = self.member(first_name, email, language).await;
        let consent = Consent {
            purpose: consent_purpose(),
            text_version: "test".into(),
            source: "test".into(),
        };
        self.store
            .change_consents(
                self.business,
                member_id,
                vec![consent],
                vec![],
                self.app().now(),
            )
            .await
            .unwrap();
        member_id
    }

    /// A purchase of `euros` by the member, now.
    pub async fn buys(&self, member: MemberId, euros: i64) {
        let kind = stammgast_app::NewEventKind::Purchase {
            amount: stammgast_core::money::Cents::new(euros * 100).unwrap(),
            currency: stammgast_core::money::Currency::EUR,
            items: vec![],
        };
        self.records(member, kind).await;
    }

    /// An event of the member, now.
    pub async fn records(&self, member: MemberId, kind: stammgast_app::NewEventKind) {
        let event = stammgast_app::NewEvent {
            member_id: member,
            kind,
            location_id: None,
            occurred_at: None,
        };
        let caller = self.caller().await;
        self.app().record_event(&caller, None, event).await.unwrap();
    }

    /// `count` guests named Gast who confirmed email news and bought for 5 €, with their
    /// addresses.
    pub async fn guests(&self, count: usize) -> Vec<(MemberId, String)> {
        let mut guests = Vec::new();
        for n in 0..count {
            let address = format!("guest{n}@example.com");
            let member = self
                .member_confirmed_for_email("Gast", &address, "de")
                .await;
            self.buys(member, 5).await;
            guests.push((member, address));
        }
        guests
    }

    /// A member who agreed to email news and confirmed it from the mail.
    pub async fn member_confirmed_for_email(
        &self,
        first_name: &str,
        email: &str,
        language: &str,
    ) -> MemberId {
        let member_id = self
            .member_agreeing_to_email(first_name, email, language)
            .await;
        self.store
            .confirm_consent(
                self.business,
                member_id,
                consent_purpose(),
                self.app().now(),
            )
            .await
            .unwrap();
        member_id
    }

    /// Waits until the member's latest message was tried `attempts` times (delivery kicked
    /// off by a request runs in the background); its status.
    pub async fn tried(&self, member: MemberId, attempts: u32) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let (status, tried) = self.status(member).await;
            if tried >= attempts {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "tried {tried} times, not {attempts}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn status(&self, member: MemberId) -> (String, u32) {
        let messages = self
            .store
            .member_messages(self.business, member)
            .await
            .unwrap();
        (messages[0].status.clone(), messages[0].attempts)
    }
}

fn consent_purpose() -> ConsentPurpose {
    ConsentPurpose::Marketing(Channel::Email)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_address_bounces_for_good_and_a_busy_server_gets_the_mail_on_a_retry() {
    let shop = Shop::open().await;
    let bounce = shop
        .member_agreeing_to_email("Ida", "bounce@example.com", "de")
        .await;
    let busy = shop
        .member_agreeing_to_email("Ida", "busy@example.com", "de")
        .await;
    let fine = shop
        .member_agreeing_to_email("Ida", "fine@example.com", "de")
        .await;
    let app = shop.app();

    let first = app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(
        first,
        Delivered {
            sent: 1,
            retried: 1,
            failed: 0,
            skipped: 0,
            bounced: 1
        }
    );
    assert_eq!(shop.status(fine).await, ("sent".into(), 1));
    assert_eq!(shop.status(bounce).await, ("bounced".into(), 1));
    assert_eq!(shop.status(busy).await, ("pending".into(), 1));
    assert_eq!(
        app.deliver_messages(shop.business).await.unwrap(),
        Delivered::default(),
        "the busy server's message waits a minute"
    );

    shop.hand.set(app.now() + Duration::minutes(1));
    let retried = app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(retried.sent, 1);
    assert_eq!(shop.status(busy).await, ("sent".into(), 2));
    assert_eq!(shop.mailbox.messages_to("busy@example.com").len(), 1);

    let withdraw = vec![ConsentPurpose::Marketing(Channel::Email)];
    shop.store
        .change_consents(shop.business, bounce, vec![], withdraw, app.now())
        .await
        .unwrap();
    let consent = Consent {
        purpose: ConsentPurpose::Marketing(Channel::Email),
        text_version: "test".into(),
        source: "test".into(),
    };
    shop.store
        .change_consents(shop.business, bounce, vec![consent], vec![], app.now())
        .await
        .unwrap();
    let after_bounce = app.deliver_messages(shop.business).await.unwrap();
    assert_eq!(
        after_bounce.failed, 1,
        "a bounced address gets nothing more"
    );
    assert_eq!(shop.mailbox.attempts_to("bounce@example.com"), 1);
    assert!(shop.mailbox.messages_to("bounce@example.com").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_mail_whose_consent_was_withdrawn_meanwhile_is_dropped_not_sent() {
    let shop = Shop::open().await;
    let member = shop
        .member_agreeing_to_email("Ida", "ida@example.com", "de")
        .await;
    let withdraw = vec![consent_purpose()];
    shop.store
        .change_consents(shop.business, member, vec![], withdraw, shop.app().now())
        .await
        .unwrap();

    let delivered = shop.app().deliver_messages(shop.business).await.unwrap();
    assert_eq!((delivered.skipped, delivered.failed), (1, 0));
    assert_eq!(shop.status(member).await, ("skipped".into(), 1));
    let messages = shop
        .store
        .member_messages(shop.business, member)
        .await
        .unwrap();
    assert_eq!(
        messages[0].last_error.as_deref(),
        Some("the consent was withdrawn or confirmed already")
    );
    assert_eq!(shop.mailbox.attempts_to("ida@example.com"), 0);
    assert_eq!(
        shop.app().deliver_messages(shop.business).await.unwrap(),
        Delivered::default(),
        "a dropped message is not tried again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_delivering_at_once_send_each_message_once() {
    let shop = Shop::open().await;
    let addresses: Vec<String> = (0..12).map(|n| format!("guest{n}@example.com")).collect();
    for address in &addresses {
        shop.member_agreeing_to_email("Ida", address, "de").await;
    }
    let (one, other) = (shop.app(), shop.app());
    let (a, b) = tokio::join!(
        one.deliver_messages(shop.business),
        other.deliver_messages(shop.business)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, addresses.len(), "{a:?} {b:?}");
    for address in &addresses {
        assert_eq!(shop.mailbox.messages_to(address).len(), 1, "{address}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_over_starttls_with_the_login_and_only_to_a_server_whose_certificate_checks_out()
{
    let (address, mailbox, ca) = smtp::start_tls();
    let url = format!("smtp+starttls://treue%40morgenrot.example:g%3Aheim@{address}");
    let from = "Café Morgenrot <treue@morgenrot.example>";
    let mail = |to: &str| stammgast_app::Mail {
        to: to.into(),
        subject: "Hallo".into(),
        text: "Hallo über TLS".into(),
        html: None,
    };
    let trusting = SmtpMailer::new(&url, from, Some(&ca)).unwrap();
    use stammgast_app::Mailer;
    trusting.send(mail("anna@example.com")).await.unwrap();
    let received = mailbox.wait_for("anna@example.com");
    assert!(received.tls, "the mail went over TLS");
    assert_eq!(
        received.login.as_deref(),
        Some("treue@morgenrot.example:g:heim")
    );
    assert!(received.message.contains("Hallo über TLS"));

    let untrusting = SmtpMailer::new(&url, from, None).unwrap();
    let refused = untrusting.send(mail("ben@example.com")).await;
    assert!(
        matches!(refused, Err(stammgast_app::MailError::Transient(_))),
        "a certificate from an unknown CA is not trusted: {refused:?}"
    );
    assert!(mailbox.messages_to("ben@example.com").is_empty());
}
