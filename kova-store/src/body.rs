//! How webhook bodies are stored, by the SQLite and PostgreSQL stores alike: LZ4-compressed
//! when that pays, with a codec column saying how.
//!
//! GitHub payloads are repetitive JSON (URLs, repeated user and repository objects): LZ4
//! shrinks the 9.8 KB `pull_request.opened` bench payload to 2.9 KB (3.4 times). For SQLite,
//! whose single write connection is the bottleneck and spends most of its time writing pages,
//! the row then fits in one page and the writer moves a third of the bytes; in the store bench,
//! 64 writers went from 14.3k to 20.2k deliveries/s with it. PostgreSQL's TOAST compresses a
//! body only when its row would not fit under `toast_tuple_target` otherwise, so it stored the
//! smaller bodies as received; compressed by Kova, every body sends a third to a quarter of the
//! bytes over the connection (and through TLS on both sides) and into the WAL and the table.
//! Compression runs on the caller's task, before its write joins a group commit.

use kova_core::{Error, Result};

/// Stored as received.
pub(crate) const RAW: i16 = 0;
/// LZ4 block, uncompressed length (u32 LE) in front.
pub(crate) const LZ4: i16 = 1;

/// Bodies shorter than this are stored as received: there is little to gain.
const MIN_COMPRESS: usize = 512;
/// A stored body never claims to unpack to more than this (a damaged row must not make the
/// reader allocate gigabytes). GitHub caps payloads at 25 MB.
const MAX_BODY: usize = 64 << 20;

/// A body ready for the `body` and `body_codec` columns.
#[derive(Debug, Clone)]
pub(crate) struct StoredBody {
    pub(crate) codec: i16,
    pub(crate) bytes: bytes::Bytes,
}

/// Compresses `body` when it is long enough and shrinks by at least an eighth.
pub(crate) fn encode(body: &bytes::Bytes) -> StoredBody {
    if body.len() >= MIN_COMPRESS && body.len() <= MAX_BODY {
        let packed = lz4_flex::compress_prepend_size(body);
        if packed.len() < body.len() - body.len() / 8 {
            return StoredBody {
                codec: LZ4,
                bytes: packed.into(),
            };
        }
    }
    StoredBody {
        codec: RAW,
        bytes: body.clone(),
    }
}

/// The body as received, from the stored columns; errors name `backend`.
pub(crate) fn decode(backend: &'static str, codec: i16, stored: Vec<u8>) -> Result<bytes::Bytes> {
    let damaged =
        |why: &str| Error::backend(backend, format!("a stored webhook body is damaged: {why}"));
    match codec {
        RAW => Ok(stored.into()),
        LZ4 => {
            let claimed = stored
                .get(..4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
            match claimed {
                Some(n) if n <= MAX_BODY => lz4_flex::decompress_size_prepended(&stored)
                    .map(Into::into)
                    .map_err(|e| damaged(&format!("it does not decompress: {e}"))),
                _ => Err(damaged("its length header is missing or too large")),
            }
        }
        other => Err(damaged(&format!("unknown body codec {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_repetitive_bodies_are_compressed_and_come_back_identical() {
        let body = bytes::Bytes::from(
            r#"{"url":"https://api.github.com/repos/octo/app","x":1}"#.repeat(200),
        );
        let stored = encode(&body);
        assert_eq!(stored.codec, LZ4);
        assert!(stored.bytes.len() * 3 < body.len());
        assert_eq!(
            decode("test", stored.codec, stored.bytes.to_vec()).unwrap(),
            body
        );
    }

    #[test]
    fn small_or_incompressible_bodies_are_stored_as_received() {
        let small = bytes::Bytes::from_static(b"{\"zen\":\"Keep it simple\"}");
        assert_eq!(encode(&small).codec, RAW);
        // Pseudo-random bytes do not shrink.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let noise = bytes::Bytes::from(noise);
        let stored = encode(&noise);
        assert_eq!(stored.codec, RAW);
        assert_eq!(decode("test", RAW, stored.bytes.to_vec()).unwrap(), noise);
    }

    #[test]
    fn damaged_bodies_are_clear_errors_not_panics_or_huge_allocations() {
        for bad in [
            vec![],
            vec![1, 2],
            vec![0xff, 0xff, 0xff, 0x7f, 1, 2, 3],
            vec![16, 0, 0, 0, 0xf0],
        ] {
            let e = decode("test", LZ4, bad).unwrap_err();
            assert!(e.to_string().contains("damaged"), "{e}");
        }
        assert!(decode("test", 7, vec![])
            .unwrap_err()
            .to_string()
            .contains("codec 7"));
    }
}
