//! `X-Hub-Signature-256` parsing and full webhook verification through the `WebhookReceiver`
//! trait, on arbitrary headers and body.
//!
//! Input: an HTTP-like header block (`Name: value` lines), an empty line, then the raw body.

#![no_main]

use bytes::Bytes;
use kova_core::{Error, SignatureError, Timestamp, WebhookReceiver};
use kova_github::webhook::{headers, parse_signature, sign, Envelope, GitHubWebhooks};
use kova_github::Secret;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "It's a Secret to Everybody";

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &b""[..]),
    };
    let head = String::from_utf8_lossy(head);
    let fuzzed: Vec<(String, String)> = head
        .split('\n')
        .filter_map(|line| {
            let (name, value) = line.trim_end_matches('\r').split_once(':')?;
            let value = value.strip_prefix(' ').unwrap_or(value);
            Some((name.trim().to_string(), value.to_string()))
        })
        .collect();
    let body = Bytes::copy_from_slice(body);
    let at = Timestamp::from_timestamp(1_700_000_000, 0).expect("valid time");
    let secret = Secret::new(SECRET);
    let correct = sign(&secret, &body);

    // The parser: a digest comes back only from `sha256=<64 hex digits>`, and it is exactly
    // the one written there.
    for (_, value) in fuzzed
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(headers::SIGNATURE_256))
    {
        if let Ok(digest) = parse_signature(value) {
            let canonical = format!("sha256={}", hex(&digest));
            assert!(canonical.eq_ignore_ascii_case(value.trim()), "{value:?}");
        }
    }

    // The fuzzed headers as sent: accepted only if they carry the body's real signature.
    let receiver = GitHubWebhooks::new(vec![secret.clone()]);
    let as_sent = receiver.receive(&fuzzed, body.clone(), at);
    if as_sent.is_ok() {
        let value = header(&fuzzed, headers::SIGNATURE_256).expect("signature header");
        assert_eq!(
            parse_signature(value).ok(),
            parse_signature(&correct).ok(),
            "accepted a wrong signature"
        );
    }

    // The same request signed correctly: verification passes, so any error is about the
    // headers or the payload, never the signature.
    let mut signed: Vec<(String, String)> = fuzzed
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(headers::SIGNATURE_256))
        .cloned()
        .collect();
    signed.push((headers::SIGNATURE_256.into(), correct.clone()));
    let result = receiver.receive(&signed, body.clone(), at);
    match &result {
        Ok(delivery) => {
            let envelope = Envelope::parse(&body).expect("an accepted body has an envelope");
            assert_eq!(delivery.body, body);
            assert_eq!(
                delivery.event,
                header(&signed, headers::EVENT).unwrap().trim()
            );
            assert_eq!(
                delivery.delivery_id,
                header(&signed, headers::DELIVERY).unwrap().trim()
            );
            assert_eq!(delivery.action.as_deref(), envelope.action.as_deref());
            assert_eq!(delivery.repo, envelope.repo().unwrap());
            assert_eq!(delivery.installation_id, envelope.installation_id());
            assert_eq!(delivery.sender.as_deref(), envelope.sender_login());
            assert!(delivery.validate().is_ok());
        }
        Err(Error::Signature(e)) => panic!("correctly signed delivery refused: {e}"),
        Err(_) => {}
    }

    // Rotation: any of several secrets verifies, with the same outcome.
    let rotating = GitHubWebhooks::new(vec![Secret::new("previous"), secret, Secret::new("")]);
    assert_eq!(
        rotating.receive(&signed, body.clone(), at).ok(),
        result.as_ref().ok().cloned()
    );

    // Unsigned: refused without a secret unless explicitly allowed, then read the same way.
    let unsigned = GitHubWebhooks::new(vec![]);
    assert!(matches!(
        unsigned.receive(&fuzzed, body.clone(), at),
        Err(Error::Signature(SignatureError::NoSecretConfigured))
    ));
    let allowed = unsigned.allow_unsigned(true);
    assert_eq!(
        allowed.receive(&signed, body, at).ok(),
        result.as_ref().ok().cloned()
    );
});

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    kova_core::HeaderSource::header(headers, name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
