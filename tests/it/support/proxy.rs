//! A loopback "proxy" that only listens and records: every connection made to it and every
//! byte sent, answered with `502` (a request that went to it fails, loudly). Set as
//! `HTTP_PROXY`, `http_proxy`, `HTTPS_PROXY`, `ALL_PROXY` (and lower-case) around a run to
//! prove a loopback request never goes through a proxy.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running recording proxy; it stops accepting when the test process ends.
pub struct RecordingProxy {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    /// Listen on a free loopback port.
    pub fn start() -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recording proxy");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
                let mut got = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                log.lock()
                    .unwrap()
                    .push(format!("connection: {}", String::from_utf8_lossy(&got)));
                let _ = conn.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        RecordingProxy { url, received }
    }

    /// Every proxy variable a client library may read, pointing here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .into_iter()
        .map(|k| (k, self.url.clone()))
        .collect()
    }

    /// What reached the proxy (one entry per connection).
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}
