//! A small SMTP server for the tests: it speaks enough of RFC 5321 for a real client
//! (lettre) to deliver to it, and keeps every message so a test can read it and follow
//! its links. Like a real server it refuses some recipients: an address starting with
//! `bounce` for good (550), one starting with `busy` for now (451) on its first try.
//! Started with TLS, it offers STARTTLS with a certificate of its own test CA and takes
//! a login (AUTH PLAIN) over it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message as received: the envelope's recipients and the decoded text, and how it
/// came: over TLS, after which login (`user:password`).
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub message: String,
    pub tls: bool,
    pub login: Option<String>,
}

#[derive(Clone, Default)]
pub struct Mailbox(Arc<Mutex<Vec<Received>>>, Arc<Mutex<Vec<String>>>);

impl Mailbox {
    /// The first message to `address`, waiting up to five seconds for it.
    pub fn wait_for(&self, address: &str) -> Received {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(found) = self.messages_to(address).into_iter().next() {
                return found;
            }
            assert!(Instant::now() < deadline, "no mail to {address} arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How often a client named `address` as a recipient, refused or not.
    pub fn attempts_to(&self, address: &str) -> usize {
        self.1
            .lock()
            .unwrap()
            .iter()
            .filter(|a| *a == address)
            .count()
    }

    pub fn messages_to(&self, address: &str) -> Vec<Received> {
        let messages = self.0.lock().unwrap();
        messages
            .iter()
            .filter(|m| m.to.iter().any(|to| to == address))
            .cloned()
            .collect()
    }
}

/// Starts the server on a free port; returns its `smtp://` address and its mailbox.
pub fn start() -> (String, Mailbox) {
    let (address, mailbox) = listen(None);
    (format!("smtp://{address}"), mailbox)
}

/// Starts the server with STARTTLS; returns its address (`127.0.0.1:port`), its mailbox
/// and the PEM certificate of the CA that signed its certificate.
pub fn start_tls() -> (String, Mailbox, Vec<u8>) {
    let (config, ca) = tls_config();
    let (address, mailbox) = listen(Some(Arc::new(config)));
    (address, mailbox, ca)
}

fn listen(tls: Option<Arc<rustls::ServerConfig>>) -> (String, Mailbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mailbox = Mailbox::default();
    let kept = mailbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (kept, tls) = (kept.clone(), tls.clone());
            std::thread::spawn(move || {
                let _ = session(stream, &kept, tls);
            });
        }
    });
    (address, mailbox)
}

/// How a dialog ended: the client left, or asked for TLS.
enum Ended {
    Quit,
    StartTls,
}

fn session(
    mut stream: TcpStream,
    mailbox: &Mailbox,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    stream.write_all(b"220 test-sink ESMTP\r\n")?;
    let offer = tls.is_some();
    if let (Ended::StartTls, Some(config)) = (dialog(&stream, mailbox, offer, false)?, tls) {
        let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
        dialog(
            rustls::StreamOwned::new(connection, stream),
            mailbox,
            false,
            true,
        )?;
    }
    Ok(())
}

/// One SMTP dialog on `stream`; `offer_tls` advertises STARTTLS, `over_tls` says the
/// stream is encrypted (and so may carry a login).
fn dialog<S: Read + Write>(
    stream: S,
    mailbox: &Mailbox,
    offer_tls: bool,
    over_tls: bool,
) -> std::io::Result<Ended> {
    let mut reader = BufReader::new(stream);
    let mut to = Vec::new();
    let mut login = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(Ended::Quit);
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            match (offer_tls, over_tls) {
                (true, _) => b"250-test-sink\r\n250 STARTTLS\r\n",
                (_, true) => b"250-test-sink\r\n250 AUTH PLAIN\r\n",
                _ => b"250 test-sink\r\n",
            }
        } else if command == "STARTTLS" && offer_tls {
            reader.get_mut().write_all(b"220 go ahead\r\n")?;
            return Ok(Ended::StartTls);
        } else if command.starts_with("AUTH PLAIN ") && over_tls {
            login = plain_login(&line.trim_end()["AUTH PLAIN ".len()..]);
            b"235 2.7.0 accepted\r\n"
        } else if command.starts_with("RCPT TO:") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_matches(['<', '>'])
                .to_owned();
            let tried_before = {
                let mut tried = mailbox.1.lock().unwrap();
                let before = tried.contains(&address);
                tried.push(address.clone());
                before
            };
            if address.starts_with("bounce") {
                b"550 5.1.1 no such user here\r\n"
            } else if address.starts_with("busy") && !tried_before {
                b"451 4.3.2 try again later\r\n"
            } else {
                to.push(address);
                b"250 OK\r\n"
            }
        } else if command == "DATA" {
            reader
                .get_mut()
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                if line == ".\r\n" || line.is_empty() {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let received = Received {
                to: std::mem::take(&mut to),
                message: decode(&data),
                tls: over_tls,
                login: login.clone(),
            };
            mailbox.0.lock().unwrap().push(received);
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            reader.get_mut().write_all(b"221 bye\r\n")?;
            return Ok(Ended::Quit);
        } else {
            b"250 OK\r\n"
        };
        reader.get_mut().write_all(reply)?;
    }
}

/// `user:password` from an AUTH PLAIN answer (base64 of `\0user\0password`).
fn plain_login(answer: &str) -> Option<String> {
    use base64ct::Encoding;
    let bytes = base64ct::Base64::decode_vec(answer.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('\0').skip(1);
    Some(format!("{}:{}", parts.next()?, parts.next()?))
}

/// A server configuration with a certificate for 127.0.0.1 signed by a fresh test CA
/// (made with openssl), and that CA's certificate.
fn tls_config() -> (rustls::ServerConfig, Vec<u8>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = std::env::temp_dir().join(format!("stammgast-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("openssl runs");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=Stammgast Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "server.ext",
    ]);
    let file = |name: &str| dir.join(name);
    let certificates: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(file("server.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(file("server.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .unwrap();
    (config, std::fs::read(Path::new(&file("ca.pem"))).unwrap())
}

/// Undoes quoted-printable (soft line breaks and `=XX`) when the message uses it.
fn decode(data: &str) -> String {
    if !data
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return data.to_owned();
    }
    let joined = data.replace("=\r\n", "");
    let mut bytes = Vec::with_capacity(joined.len());
    let raw = joined.as_bytes();
    let mut index = 0;
    while index < raw.len() {
        let hex = raw
            .get(index + 1..index + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (raw[index], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                bytes.push(byte);
                index += 3;
            }
            (byte, _) => {
                bytes.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
