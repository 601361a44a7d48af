//! A small SMTP server for the tests: it speaks enough of RFC 5321 for a real client
//! (lettre) to deliver to it, and keeps every message so a test can read it and follow
//! its links. Like a real server it refuses some recipients: an address starting with
//! `bounce` for good (550), one starting with `busy` for now (451) on its first try.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message as received: the envelope's recipients and the decoded text.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub message: String,
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
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let mailbox = Mailbox::default();
    let kept = mailbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || {
                let _ = session(stream, &kept);
            });
        }
    });
    (url, mailbox)
}

fn session(stream: TcpStream, mailbox: &Mailbox) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 test-sink ESMTP\r\n")?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 test-sink\r\n"
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
            writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
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
            };
            mailbox.0.lock().unwrap().push(received);
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            writer.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        writer.write_all(reply)?;
    }
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
