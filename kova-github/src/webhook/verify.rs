//! `X-Hub-Signature-256` verification: HMAC-SHA256 over the raw body, compared in constant time
//! against every configured secret (so secrets can be rotated without dropping deliveries).

use crate::secret::Secret;
use hmac::{Hmac, Mac};
use kova_core::SignatureError;
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

type HmacSha256 = Hmac<Sha256>;

/// Length of a SHA-256 digest in bytes.
const DIGEST_LEN: usize = 32;

/// Parses a `sha256=<64 hex digits>` header value into the digest bytes.
///
/// The reasons are distinct so a misconfigured sender can be told from a forged request.
pub fn parse_signature(value: &str) -> Result<[u8; DIGEST_LEN], SignatureError> {
    let value = value.trim();
    let (algorithm, hex_digest) = value
        .split_once('=')
        .ok_or(SignatureError::Malformed("expected 'sha256=<hex digest>'"))?;
    if algorithm.eq_ignore_ascii_case("sha1") {
        return Err(SignatureError::UnsupportedAlgorithm);
    }
    if !algorithm.eq_ignore_ascii_case("sha256") {
        return Err(SignatureError::Malformed(
            "unknown algorithm, expected sha256",
        ));
    }
    if hex_digest.len() != DIGEST_LEN * 2 {
        return Err(SignatureError::Malformed(
            "digest must be 64 hexadecimal digits",
        ));
    }
    let mut digest = [0u8; DIGEST_LEN];
    hex::decode_to_slice(hex_digest, &mut digest)
        .map_err(|_| SignatureError::Malformed("digest is not hexadecimal"))?;
    Ok(digest)
}

/// The signature GitHub would send for `body` signed with `secret`: `sha256=<hex>`.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(digest(secret, body)))
}

fn digest(secret: &Secret, body: &[u8]) -> [u8; DIGEST_LEN] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Checks `expected` against the HMAC of `body` under each secret.
///
/// Every secret is tried even after a match, and the comparisons are constant time, so the
/// time taken says nothing about which secret (or how many bytes) matched.
pub fn verify(secrets: &[Secret], body: &[u8], expected: &[u8; DIGEST_LEN]) -> bool {
    let mut matched = Choice::from(0);
    for secret in secrets {
        matched |= digest(secret, body).ct_eq(expected);
    }
    matched.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // GitHub's published test vector (docs: "Validating webhook deliveries").
    const SECRET: &str = "It's a Secret to Everybody";
    const PAYLOAD: &[u8] = b"Hello, World!";
    const SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn githubs_test_vector_verifies() {
        let secret = Secret::new(SECRET);
        assert_eq!(sign(&secret, PAYLOAD), SIGNATURE);
        let digest = parse_signature(SIGNATURE).unwrap();
        assert!(verify(&[secret], PAYLOAD, &digest));
    }

    #[test]
    fn any_of_several_secrets_verifies() {
        let digest = parse_signature(SIGNATURE).unwrap();
        let secrets = [Secret::new("old"), Secret::new(SECRET), Secret::new("new")];
        assert!(verify(&secrets, PAYLOAD, &digest));
        assert!(!verify(&secrets[..1], PAYLOAD, &digest));
        assert!(!verify(&[], PAYLOAD, &digest));
        assert!(!verify(&secrets, b"Hello, World?", &digest));
    }

    #[test]
    fn malformed_headers_are_distinct_errors() {
        use SignatureError::*;
        assert!(matches!(parse_signature("757107ea"), Err(Malformed(_))));
        assert!(matches!(parse_signature("sha256=abc"), Err(Malformed(_))));
        assert!(matches!(parse_signature("sha256="), Err(Malformed(_))));
        let not_hex = format!("sha256={}", "zz".repeat(32));
        assert!(matches!(parse_signature(&not_hex), Err(Malformed(_))));
        let too_long = format!("{SIGNATURE}00");
        assert!(matches!(parse_signature(&too_long), Err(Malformed(_))));
        assert!(matches!(parse_signature("md5=00"), Err(Malformed(_))));
        assert_eq!(
            parse_signature("sha1=0123456789abcdef0123456789abcdef01234567"),
            Err(UnsupportedAlgorithm)
        );
        // Multi-byte characters must not make the length check slice inside a character.
        assert!(matches!(
            parse_signature(&format!("sha256={}", "é".repeat(32))),
            Err(Malformed(_))
        ));
        assert!(parse_signature(&SIGNATURE.to_uppercase().replace("SHA256", "sha256")).is_ok());
    }
}
