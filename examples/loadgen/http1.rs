//! A minimal HTTP/1.1 client for the load generator: one keep-alive connection, one request
//! at a time, the request's bytes written as given and the response read only as far as its
//! status and its end.
//!
//! The load generator shares two cores with the server it measures, so its own cost per
//! request is taken from the server's: a general client (reqwest on a work-stealing runtime)
//! left the HMAC-only floor receiver 38.6k requests/s where wrk left it 46.8k. This one does
//! what wrk does: write the bytes, find the end of the answer, count.

use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request that gets no whole answer in this long fails (and its connection is dropped).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where requests go: `http://host[:port]/path` (no TLS: the load generator measures a server
/// on this machine).
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`, to connect to and for the `Host` header.
    pub authority: String,
    /// The path and query, `/` at least.
    pub path: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, String> {
        let u = url::Url::parse(url).map_err(|e| format!("bad --url {url}: {e}"))?;
        if u.scheme() != "http" {
            return Err(format!(
                "--url {url}: only http:// is supported (the load generator measures a local server)"
            ));
        }
        let host = u
            .host_str()
            .ok_or_else(|| format!("--url {url} has no host"))?;
        let port = u.port_or_known_default().unwrap_or(80);
        let mut path = u.path().to_owned();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(Target {
            authority: format!("{host}:{port}"),
            path,
        })
    }
}

/// How a response ends.
enum Framing {
    Length(usize),
    Chunked,
    /// No length and not chunked: the body runs to the end of the connection.
    UntilClose,
}

/// One connection; reconnects on the next request after an error or a `Connection: close`.
pub struct Conn {
    authority: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(target: &Target) -> Conn {
        Conn {
            authority: target.authority.clone(),
            stream: None,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Sends `request` (a complete HTTP/1.1 request) and returns the response's status once
    /// the whole response has been read. On an error or after [`REQUEST_TIMEOUT`] the
    /// connection is dropped; the next request opens another.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<u16> {
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request))
            .await
            .unwrap_or_else(|_| {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no whole answer within the request timeout",
                ))
            });
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.authority).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.write_all(request).await?;
        self.buf.clear();
        // The head: read until it parses completely.
        let (status, framing, close, head_len) = loop {
            if read_more(stream, &mut self.buf).await? == 0 {
                return Err(eof("before the response head ended"));
            }
            if let Some(head) = parse_head(&self.buf)? {
                break head;
            }
        };
        match framing {
            Framing::Length(n) => {
                while self.buf.len() < head_len + n {
                    if read_more(stream, &mut self.buf).await? == 0 {
                        return Err(eof("inside the response body"));
                    }
                }
            }
            Framing::Chunked => {
                let mut at = head_len;
                loop {
                    match chunk_end(&self.buf, at)? {
                        Some(Chunk::Next(next)) => at = next,
                        Some(Chunk::Last) => break,
                        None => {
                            if read_more(stream, &mut self.buf).await? == 0 {
                                return Err(eof("inside a chunked response body"));
                            }
                        }
                    }
                }
            }
            Framing::UntilClose => {
                while read_more(stream, &mut self.buf).await? > 0 {}
                self.stream = None;
            }
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    buf.reserve(4096);
    stream.read_buf(buf).await
}

fn eof(at: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the server closed the connection {at}"),
    )
}

fn bad(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

/// The status, framing, whether the server closes, and the head's length; `None` while the
/// head is incomplete.
fn parse_head(buf: &[u8]) -> io::Result<Option<(u16, Framing, bool, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut res = httparse::Response::new(&mut headers);
    let head_len = match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(bad(format!("unreadable response head: {e}"))),
    };
    let status = res.code.unwrap_or(0);
    let mut framing = Framing::UntilClose;
    let mut close = res.version == Some(0);
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| bad("unreadable Content-Length"))?;
            framing = Framing::Length(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding")
            && h.value.eq_ignore_ascii_case(b"chunked")
        {
            framing = Framing::Chunked;
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = h.value.eq_ignore_ascii_case(b"close");
        }
    }
    // Answers that never carry a body (RFC 9112, 6.3).
    if status == 204 || status == 304 || (100..200).contains(&status) {
        framing = Framing::Length(0);
    }
    Ok(Some((status, framing, close, head_len)))
}

enum Chunk {
    /// The chunk at the offset ends where the next one starts.
    Next(usize),
    /// The last chunk (and the trailers' end) is in the buffer.
    Last,
}

/// Where the chunk starting at `at` ends; `None` while it is incomplete.
fn chunk_end(buf: &[u8], at: usize) -> io::Result<Option<Chunk>> {
    let (size_len, size) = match httparse::parse_chunk_size(&buf[at..]) {
        Ok(httparse::Status::Complete(v)) => v,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(bad("unreadable chunk size")),
    };
    if size == 0 {
        // The body ends at the first empty line: at once without trailers, after them with.
        let rest = &buf[at + size_len..];
        let ended = rest.starts_with(b"\r\n") || rest.windows(4).any(|w| w == b"\r\n\r\n");
        return Ok(ended.then_some(Chunk::Last));
    }
    let end = at + size_len + size as usize + 2;
    Ok((buf.len() >= end).then_some(Chunk::Next(end)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn only_plain_http_urls_are_taken() {
        let t = Target::parse("http://127.0.0.1:8000/webhooks/github?x=1").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:8000", "/webhooks/github?x=1")
        );
        assert_eq!(
            Target::parse("http://localhost").unwrap().authority,
            "localhost:80"
        );
        assert!(Target::parse("https://example.com/")
            .unwrap_err()
            .contains("only http://"));
        assert!(Target::parse("not a url").is_err());
    }

    #[test]
    fn a_head_is_read_only_when_complete_and_says_how_the_body_ends() {
        assert!(parse_head(b"HTTP/1.1 202 Accepted\r\nContent-Le")
            .unwrap()
            .is_none());
        let (status, framing, close, len) =
            parse_head(b"HTTP/1.1 202 Accepted\r\ncontent-length: 12\r\n\r\n{\"a\":")
                .unwrap()
                .unwrap();
        assert_eq!((status, close, len), (202, false, 45));
        assert!(matches!(framing, Framing::Length(12)));
        let (_, framing, close, _) = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(matches!(framing, Framing::Chunked) && close);
        let (_, framing, _, _) = parse_head(b"HTTP/1.1 204 No Content\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(framing, Framing::Length(0)));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }

    #[test]
    fn chunked_bodies_end_at_the_last_chunk_and_its_empty_line() {
        let body = b"5\r\nhello\r\n0\r\n\r\n";
        let Some(Chunk::Next(next)) = chunk_end(body, 0).unwrap() else {
            panic!("the first chunk is complete")
        };
        assert_eq!(next, 10);
        assert!(matches!(chunk_end(body, next).unwrap(), Some(Chunk::Last)));
        assert!(chunk_end(b"5\r\nhel", 0).unwrap().is_none());
        assert!(chunk_end(b"0\r\n", 0).unwrap().is_none());
        assert!(chunk_end(b"0\r\nx-trailer: 1\r\n", 0).unwrap().is_none());
        assert!(matches!(
            chunk_end(b"0\r\nx-trailer: 1\r\n\r\n", 0).unwrap(),
            Some(Chunk::Last)
        ));
        assert!(chunk_end(b"zz\r\n", 0).is_err());
    }

    /// A server that answers each request on a connection with the next of `answers` (read
    /// until the request's blank line; the test requests have no body), then closes.
    async fn serve(answers: Vec<&'static [u8]>) -> (Target, tokio::task::JoinHandle<usize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = Target::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let server = tokio::spawn(async move {
            let mut accepted = 0;
            let mut answers = answers.into_iter();
            while let Ok((mut s, _)) = listener.accept().await {
                accepted += 1;
                let mut req = Vec::new();
                loop {
                    if !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        if s.read_buf(&mut req).await.unwrap_or(0) == 0 {
                            break;
                        }
                        continue;
                    }
                    req.clear();
                    let Some(a) = answers.next() else {
                        return accepted;
                    };
                    s.write_all(a).await.unwrap();
                    if a.windows(17).any(|w| w == b"Connection: close") {
                        break;
                    }
                }
            }
            accepted
        });
        (target, server)
    }

    #[tokio::test]
    async fn a_connection_is_kept_across_answers_and_reopened_after_close() {
        let (target, server) = serve(vec![
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nno!\r\n0\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}",
        ])
        .await;
        let mut conn = Conn::new(&target);
        let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut statuses = Vec::new();
        for _ in 0..4 {
            statuses.push(conn.send(request).await.unwrap());
        }
        assert_eq!(statuses, [202, 401, 503, 202]);
        // A fifth request finds the server out of answers: it closes, and that is an error.
        assert!(conn.send(request).await.is_err());
        drop(conn);
        assert_eq!(
            server.await.unwrap(),
            2,
            "one reconnect, after Connection: close"
        );
    }
}
