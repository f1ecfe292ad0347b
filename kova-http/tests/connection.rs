//! Over a real socket: a request refused before its body was read (413) still leaves the
//! connection usable, so the client sees the answer instead of a reset and can send the next
//! request on the same connection.

mod support;

use kova_http::HttpConfig;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Reads one HTTP/1.1 response (status line, headers, Content-Length body): its status.
async fn read_response(r: &mut BufReader<TcpStream>) -> u16 {
    let mut line = String::new();
    r.read_line(&mut line).await.expect("status line");
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {line:?}"));
    let mut length = 0usize;
    loop {
        line.clear();
        r.read_line(&mut line).await.expect("header");
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().expect("length");
            }
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await.expect("body");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_gets_413_and_the_connection_serves_the_next_request() {
    let a = app_with(
        HttpConfig::default().with_body_limits(64 << 10, 16 << 10),
        true,
        true,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, a.router).await });

    let stream = TcpStream::connect(addr).await.unwrap();
    let mut conn = BufReader::new(stream);
    // Four times the webhook limit, sent whole as a client that does not wait would.
    let big = vec![b' '; 256 << 10];
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nhost: kova\r\ncontent-type: application/json\r\n\
         x-github-event: ping\r\nx-github-delivery: big-1\r\nx-hub-signature-256: {}\r\n\
         content-length: {}\r\n\r\n",
        sign(&big),
        big.len()
    );
    let w = conn.get_mut();
    w.write_all(head.as_bytes()).await.unwrap();
    w.write_all(&big)
        .await
        .expect("the server reads the whole body");
    let first = tokio::time::timeout(Duration::from_secs(10), read_response(&mut conn))
        .await
        .expect("an answer, not a reset");
    assert_eq!(first, 413);

    conn.get_mut()
        .write_all(b"GET /health HTTP/1.1\r\nhost: kova\r\n\r\n")
        .await
        .unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), read_response(&mut conn))
        .await
        .expect("the same connection answers the next request");
    assert_eq!(second, 200);
    server.abort();
}
