//! A small HTTP server standing in for an SMS and push provider: it keeps every request
//! (its authorization and JSON body) and answers with the statuses it is told to, in turn
//! (then 200).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Delivery {
    pub authorization: String,
    pub body: serde_json::Value,
}

#[derive(Clone, Default)]
pub struct Provider {
    received: Arc<Mutex<Vec<Delivery>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Provider {
    /// Starts the provider on a free port, answering first with `answers`; its URL.
    pub fn start(answers: &[u16]) -> (String, Self) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/send", listener.local_addr().unwrap());
        let provider = Self::default();
        provider.answers.lock().unwrap().extend(answers);
        let kept = provider.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                kept.answer(stream);
            }
        });
        (url, provider)
    }

    pub fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }

    fn answer(&self, mut stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let (mut length, mut authorization) = (0, String::new());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((&line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        self.received.lock().unwrap().push(Delivery {
            authorization,
            body: serde_json::from_slice(&body).unwrap_or_default(),
        });
        let status = self.answers.lock().unwrap().pop_front().unwrap_or(200);
        let reply = format!(
            "HTTP/1.1 {status} Answer\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
        );
        stream.write_all(reply.as_bytes()).unwrap();
    }
}
