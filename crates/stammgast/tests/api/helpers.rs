//! `spawn_app`: the whole application on a fresh database, served on a free port in a
//! thread of its own; and a small blocking client that speaks to it.

use crate::smtp::{self, Mailbox};
use serde_json::Value;
use stammgast_app::{App, Clock, NewStaffAccount};
use stammgast_core::member::StaffRole;
use stammgast_mail::SmtpMailer;
use stammgast_store::Store;
use stammgast_store_postgres::PostgresBackend;
use stammgast_store_sqlite::SqliteBackend;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub api_key: String,
    pub business_id: String,
    /// What the app's mail server received.
    pub mailbox: Mailbox,
    /// The key of a second business on the same server (for tenant isolation).
    pub other_api_key: String,
    agent: ureq::Agent,
}

/// The staff accounts `spawn_app` creates: (email, password) of each business's cashier
/// and owner.
pub const CASHIER: (&str, &str) = ("kasse@morgenrot.example", "kasse-passwort-1");
pub const OWNER: (&str, &str) = ("lena@morgenrot.example", "inhaberin-passwort-1");
pub const OTHER_CASHIER: (&str, &str) = ("kasse@schnitt.example", "schnitt-passwort-1");

pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

pub fn fresh_sqlite_path() -> PathBuf {
    std::env::temp_dir()
        .join("stammgast-tests")
        .join(format!("{}.db", uuid::Uuid::new_v4().simple()))
}

pub fn fresh_postgres_url() -> String {
    let server = std::env::var("STAMMGAST_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{server}/stammgast_test_{}", uuid::Uuid::new_v4().simple())
}

pub fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Sqlite)
}

/// Starts the app on a fresh database of `backend` with one business, and returns once it
/// accepts connections (the listener is bound before this returns).
pub fn spawn_app_on(backend: Backend) -> TestApp {
    let (ready, started) = mpsc::channel();
    let (smtp_url, mailbox) = smtp::start();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = format!("http://{}", listener.local_addr().unwrap());
            let store = match backend {
                Backend::Sqlite => Store::open(SqliteBackend::new(fresh_sqlite_path()))
                    .await
                    .unwrap(),
                Backend::Postgres => {
                    Store::open(PostgresBackend::from_url(&fresh_postgres_url()).unwrap())
                        .await
                        .unwrap()
                }
            };
            let mailer =
                SmtpMailer::new(&smtp_url, "Café Morgenrot <treue@morgenrot.example>", None)
                    .unwrap();
            let app = App::new(store, Clock::system())
                .with_mailer(Arc::new(mailer))
                .with_public_url(&address);
            let created = app.create_business("Café Morgenrot", None).await.unwrap();
            let other = app.create_business("Salon Schnitt", None).await.unwrap();
            for (business, (email, password), role) in [
                (created.business_id, CASHIER, StaffRole::Cashier),
                (created.business_id, OWNER, StaffRole::Owner),
                (other.business_id, OTHER_CASHIER, StaffRole::Cashier),
            ] {
                let account = NewStaffAccount {
                    email: email.into(),
                    name: "Tom".into(),
                    role,
                    password: password.into(),
                };
                app.create_staff(business, account).await.unwrap();
            }
            ready.send((address, created, other)).unwrap();
            stammgast_http::serve(
                listener,
                stammgast_http::router(app, stammgast_http::Site::default()),
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    let (address, created, other) = started.recv().expect("the app starts");
    TestApp {
        business_id: created.business_id.to_string(),
        mailbox,
        other_api_key: other.api_key,
        ..TestApp::attach(address, created.api_key)
    }
}

impl TestApp {
    /// A client for a server started some other way (the real binary).
    pub fn attach(address: String, api_key: String) -> Self {
        // A connection per request. Reusing one that the server closed after its last
        // answer failed the next request with "Peer disconnected" when the close arrived
        // too late (the OpenAPI test, which sends bodies to handlers that take none, under
        // load: 2 runs in 15; 0 in 15 with a connection per request).
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .build();
        Self {
            address,
            api_key,
            business_id: String::new(),
            mailbox: Mailbox::default(),
            other_api_key: String::new(),
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

impl TestApp {
    pub fn get(&self, path: &str) -> Reply {
        self.get_as(&self.api_key, path)
    }

    pub fn get_as(&self, key: &str, path: &str) -> Reply {
        let response = self
            .agent
            .get(format!("{}{path}", self.address))
            .header("Authorization", format!("Bearer {key}"))
            .call();
        try_reply(response).expect("the server answers")
    }

    pub fn post(&self, path: &str, idempotency_key: Option<&str>, body: &str) -> Reply {
        self.post_as(&self.api_key, path, idempotency_key, body)
    }

    pub fn post_as(
        &self,
        key: &str,
        path: &str,
        idempotency_key: Option<&str>,
        body: &str,
    ) -> Reply {
        self.try_post_as(key, path, idempotency_key, body)
            .expect("the server answers")
    }

    /// Like `post_as`, but a server that is gone is an error, not a failed test.
    pub fn try_post_as(
        &self,
        key: &str,
        path: &str,
        idempotency_key: Option<&str>,
        body: &str,
    ) -> Result<Reply, ureq::Error> {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.address))
            .header("Authorization", format!("Bearer {key}"))
            .content_type("application/json");
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        try_reply(request.send(body))
    }

    pub fn put_as(&self, key: &str, path: &str, body: &str) -> Reply {
        let response = self
            .agent
            .put(format!("{}{path}", self.address))
            .header("Authorization", format!("Bearer {key}"))
            .content_type("application/json")
            .send(body);
        try_reply(response).expect("the server answers")
    }

    pub fn delete_as(&self, key: &str, path: &str) -> Reply {
        let response = self
            .agent
            .delete(format!("{}{path}", self.address))
            .header("Authorization", format!("Bearer {key}"))
            .call();
        try_reply(response).expect("the server answers")
    }

    pub fn join(&self, first_name: &str, email: &str) -> String {
        let reply = self.post(
            "/api/v1/members",
            None,
            &format!(r#"{{"first_name": "{first_name}", "email": "{email}"}}"#),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    pub fn purchase(&self, member: &str, amount: &str, key: &str) -> Reply {
        self.post(
            "/api/v1/purchases",
            Some(key),
            &format!(r#"{{"member_id": "{member}", "amount": "{amount}", "currency": "EUR"}}"#),
        )
    }

    pub fn member(&self, member: &str) -> Value {
        let reply = self.get(&format!("/api/v1/members/{member}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }
}

fn try_reply(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Reply, ureq::Error> {
    let mut response = response?;
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.body_mut().read_to_string()?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply {
        status: response.status().as_u16(),
        content_type,
        body,
    })
}

/// Asserts a problem document with this status and code.
pub fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], code, "{}", reply.body);
    assert!(
        !reply.body["detail"].as_str().unwrap_or_default().is_empty(),
        "a message a person understands"
    );
}
