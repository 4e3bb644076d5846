//! The one way an HTTP client that may carry a secret is built (usage check, OAuth token and
//! device endpoints, the Telegram Bot API client). Every caller adds only its timeouts.
//!
//! What the builder guarantees, for any target [`crate::engine::endpoint`] accepted:
//! - **No side door through a proxy.** A loopback target is connected to directly: the
//!   `HTTP_PROXY`/`http_proxy`/`HTTPS_PROXY`/`ALL_PROXY` variables would otherwise send the
//!   bearer token, the authorization code and the PKCE verifier (or the bot token, which is
//!   in the Bot API's request path) to the proxy in clear text. A public target keeps the
//!   system proxy (a corporate proxy reaches `chatgpt.com` with `CONNECT`, so TLS stays end
//!   to end).
//! - **`localhost` is loopback.** It is pinned to `127.0.0.1` and `::1`; the system resolver
//!   (and so `/etc/hosts`, which may map it anywhere) is never asked.
//! - **No redirects**: a redirect would carry a token to a host nobody checked.
//! - rustls, and `User-Agent: codex-profiler/<version>`.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

use super::endpoint;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("codex-profiler/", env!("CARGO_PKG_VERSION"));

/// Where `localhost` goes. Port 0: the connector uses the URL's port.
pub const LOCALHOST_ADDRS: [SocketAddr; 2] = [
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
    SocketAddr::new(std::net::IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
];

/// A client builder for requests to `target` (and only to its origin: the client follows no
/// redirect). Callers add their timeouts and call `build()`.
pub fn builder(target: &Url) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs("localhost", &LOCALHOST_ADDRS);
    if endpoint::is_loopback(target) {
        builder.no_proxy()
    } else {
        builder
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::{Arc, Mutex};

    use reqwest::dns::{Addrs, Name, Resolve, Resolving};

    use super::*;

    /// Stands in for the system resolver: records every name it is asked about and answers
    /// 127.0.0.2 (a hosts file that maps every name there, where nothing listens).
    struct Recording {
        asked: Arc<Mutex<Vec<String>>>,
    }

    impl Resolve for Recording {
        fn resolve(&self, name: Name) -> Resolving {
            self.asked.lock().unwrap().push(name.as_str().to_owned());
            let answer = SocketAddr::from(([127, 0, 0, 2], 0));
            Box::pin(async move { Ok(Box::new(std::iter::once(answer)) as Addrs) })
        }
    }

    /// A listener on 127.0.0.1 that answers one request per connection with `200 ok`.
    fn loopback_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            }
        });
        addr
    }

    /// How this proves `localhost` never goes through the system resolver: the client is
    /// given a resolver of our own in place of the system one (`dns_resolver`), which records
    /// every name and maps it to 127.0.0.2, where nothing listens (the listener is bound to
    /// 127.0.0.1 only). If the client asked it about
    /// `localhost`, the request would fail (connection refused) and the name would be
    /// recorded. It succeeds, against the listener on 127.0.0.1, and nothing is recorded: the
    /// pin answered. The control request to another name shows the recording resolver is
    /// really in the path for names that are not pinned.
    #[tokio::test]
    async fn localhost_is_pinned_to_loopback_and_never_resolved() {
        let server = loopback_server();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let target = Url::parse(&format!("http://localhost:{}/", server.port())).unwrap();
        let client = builder(&target)
            .dns_resolver(Arc::new(Recording {
                asked: asked.clone(),
            }))
            .build()
            .unwrap();

        let reply = client.get(target.clone()).send().await.unwrap();
        assert_eq!(reply.text().await.unwrap(), "ok");
        assert!(
            asked.lock().unwrap().is_empty(),
            "localhost was looked up: {:?}",
            asked.lock().unwrap()
        );

        let control = client
            .get(format!("http://not-pinned.test:{}/", server.port()))
            .send()
            .await;
        assert!(control.is_err(), "the recording resolver sent it nowhere");
        assert_eq!(*asked.lock().unwrap(), vec!["not-pinned.test".to_owned()]);
    }
}
