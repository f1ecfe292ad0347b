//! The webhook envelope: the few fields ingest needs, read without building the payload.

use kova_core::{Error, RepoRef, Result};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;

mod fast;

/// What ingest reads from a payload: action, repository, installation and sender.
///
/// [`Envelope::parse`] first tries a fast path: a single validating scan that reads these
/// fields, borrowing them from the body, and checks the rest is JSON without building anything.
/// Whenever it is not certain of serde's answer (escapes in the wanted strings or in keys,
/// control bytes, repeated fields, unusual types or numbers, deep nesting, any error) it falls
/// back to serde, which deserializes only these fields and skips everything else without
/// allocating. Both keep ingest far cheaper than parsing the payload into a `serde_json::Value`
/// (see the `webhook` bench).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct Envelope<'a> {
    /// The payload's `action`, e.g. `opened`.
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub action: Option<Cow<'a, str>>,
    /// `repository.full_name`.
    #[serde(borrow, default, deserialize_with = "object")]
    pub repository: Option<RepositoryField<'a>>,
    /// `installation.id`.
    #[serde(default, deserialize_with = "object")]
    pub installation: Option<InstallationField>,
    /// `sender.login`.
    #[serde(borrow, default, deserialize_with = "object")]
    pub sender: Option<SenderField<'a>>,
}

/// The part of `repository` the envelope reads.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct RepositoryField<'a> {
    /// `owner/name`.
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub full_name: Option<Cow<'a, str>>,
}

/// The part of `installation` the envelope reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct InstallationField {
    /// The installation id.
    #[serde(default)]
    pub id: Option<i64>,
}

/// The part of `sender` the envelope reads.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct SenderField<'a> {
    /// The sender's login.
    #[serde(borrow, default, deserialize_with = "borrowed")]
    pub login: Option<Cow<'a, str>>,
}

/// Deserializes an optional string, borrowing it from the input when it has no escapes.
///
/// serde borrows a bare `Cow<str>` field but not one inside an `Option`, hence the newtype.
fn borrowed<'de: 'a, 'a, D>(d: D) -> std::result::Result<Option<Cow<'a, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Borrowed<'a>>::deserialize(d)?.map(|b| b.0))
}

/// Deserializes a struct from a JSON object only: serde's derived struct visitors also accept a
/// sequence (fields by position), which would read `[]` as an empty envelope and
/// `"installation":[42]` as installation 42.
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// Deserializes an optional struct field that must be a JSON object (or null).
fn object<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Object<T>(T);
    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
        fn deserialize<D2: Deserializer<'de>>(d: D2) -> std::result::Result<Self, D2::Error> {
            T::deserialize(ObjectOnly(d)).map(Object)
        }
    }
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

impl<'a> Envelope<'a> {
    /// Reads the envelope of a JSON payload. Malformed JSON (or a payload that is not an object)
    /// is [`Error::Invalid`] naming `body`.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        // serde_json checks UTF-8 only in the strings it reads, not in the ones it skips, so a
        // body that no handler could parse would pass; check the whole body first.
        let text = std::str::from_utf8(body)
            .map_err(|e| Error::invalid("body", format!("not valid UTF-8: {e}")))?;
        match fast::parse(text) {
            Some(envelope) => Ok(envelope),
            None => Self::parse_with_serde(text),
        }
    }

    /// The serde path: the only one that reports errors, and the reference the fast path is
    /// tested against.
    fn parse_with_serde(text: &'a str) -> Result<Self> {
        let mut de = serde_json::Deserializer::from_str(text);
        let envelope = Envelope::deserialize(ObjectOnly(&mut de))
            .and_then(|envelope| de.end().map(|()| envelope))
            .map_err(|e| Error::invalid("body", e.to_string()))?;
        match lone_surrogate(text) {
            None => Ok(envelope),
            Some(at) => Err(Error::invalid(
                "body",
                format!("a \\u escape at byte {at} is half of a surrogate pair: not Unicode text"),
            )),
        }
    }

    /// The repository as a validated reference, if the payload names one.
    pub fn repo(&self) -> Result<Option<RepoRef>> {
        match self
            .repository
            .as_ref()
            .and_then(|r| r.full_name.as_deref())
        {
            None => Ok(None),
            Some(full) => full.parse().map(Some).map_err(|_| {
                Error::invalid(
                    "repository.full_name",
                    format!("'{full}' is not a repository name"),
                )
            }),
        }
    }

    /// `installation.id`.
    pub fn installation_id(&self) -> Option<i64> {
        self.installation.and_then(|i| i.id)
    }

    /// `sender.login`.
    pub fn sender_login(&self) -> Option<&str> {
        self.sender.as_ref().and_then(|s| s.login.as_deref())
    }
}

/// Where the first `\u` escape that is half of a surrogate pair without its other half starts.
///
/// JSON's grammar allows such an escape, but the string it is in is not Unicode text: no
/// handler can read it into a string and a full parse rejects the body. serde skips the strings
/// the envelope does not read without decoding their escapes, so ingest checks them here, as it
/// checks UTF-8 (the fast path gives up on every surrogate escape, so only this path needs it).
/// `text` must be JSON that serde accepted: every backslash then starts an escape in a string.
fn lone_surrogate(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // A high surrogate's escape, waiting for a low one right after it.
    let mut high: Option<usize> = None;
    let mut from = 0;
    while let Some(found) = bytes[from..].iter().position(|&b| b == b'\\') {
        let at = from + found;
        let unit = (bytes.get(at + 1) == Some(&b'u'))
            .then(|| text.get(at + 2..at + 6))
            .flatten()
            .and_then(|hex| u16::from_str_radix(hex, 16).ok());
        match (high.take(), unit) {
            (None, Some(0xD800..=0xDBFF)) => high = Some(at),
            (Some(h), Some(0xDC00..=0xDFFF)) if at == h + 6 => {}
            (Some(h), _) => return Some(h),
            (None, Some(0xDC00..=0xDFFF)) => return Some(at),
            (None, _) => {}
        }
        from = at + if unit.is_some() { 6 } else { 2 };
    }
    high
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_the_envelope() {
        let body =
            br#"{"action":"opened","number":1,"pull_request":{"title":"x","nested":[1,{"a":null}]},
            "repository":{"id":1,"full_name":"octo-org/hello-world","owner":{"login":"octo-org"}},
            "installation":{"id":42,"node_id":"x"},"sender":{"login":"octo\u0063at","id":2}}"#;
        let env = Envelope::parse(body).unwrap();
        assert_eq!(env.action.as_deref(), Some("opened"));
        // Unescaped strings borrow from the body; escaped ones are owned.
        assert!(matches!(env.action, Some(Cow::Borrowed(_))));
        assert_eq!(
            env.repo().unwrap().unwrap().to_string(),
            "octo-org/hello-world"
        );
        assert_eq!(env.installation_id(), Some(42));
        assert_eq!(env.sender_login(), Some("octocat"));
    }

    #[test]
    fn missing_and_null_fields_are_none() {
        let env = Envelope::parse(br#"{"zen":"hi","repository":null,"sender":{}}"#).unwrap();
        assert_eq!(
            env,
            Envelope {
                sender: Some(SenderField::default()),
                ..Envelope::default()
            }
        );
        assert_eq!(env.repo().unwrap(), None);
    }

    #[test]
    fn invalid_utf8_in_a_skipped_field_is_malformed() {
        // Found by the `envelope` fuzz target: the bad byte sits in a key the envelope skips.
        let body = b"{\"action\":\"opened\",\"pull_request\":{\"tit\xfale\":1}}";
        assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
        match Envelope::parse(body) {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "body");
                assert!(message.contains("UTF-8"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn half_a_surrogate_pair_anywhere_is_malformed() {
        // Found reading the `envelope` fuzz target's differential check: serde skipped the
        // escape in a field the envelope does not read, while a full parse rejects the body.
        for (bad, at) in [
            (r#"{"x":"\ud800","action":"a"}"#, 6),
            (r#"{"x":"\uDFFF"}"#, 6),
            (r#"{"x":["ok","a\ud83dz"]}"#, 13),
            (r#"{"x":"\ud83d\n\ude00"}"#, 6),
            (r#"{"x":"\ud83d\ud83d\ude00"}"#, 6),
            (r#"{"x":"\ud83d","y":"\ude00"}"#, 6),
        ] {
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
            match Envelope::parse(bad.as_bytes()) {
                Err(Error::Invalid { field, message }) => {
                    assert_eq!(field, "body");
                    assert!(message.contains(&format!("byte {at}")), "{bad}: {message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        // Pairs, escaped backslashes before a `u`, and other escapes are text.
        for good in [
            r#"{"x":"\ud83d\ude00","action":"\uD83D\uDE00"}"#,
            r#"{"x":"\\ud800","y":"\\\\","z":"\u00e9\"\\"}"#,
        ] {
            serde_json::from_str::<serde_json::Value>(good).unwrap();
            Envelope::parse(good.as_bytes()).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
    }

    #[test]
    fn arrays_are_not_objects() {
        // Found by the `envelope` fuzz target: `[]` read as an empty envelope.
        for bad in [
            &b"[]"[..],
            b"[\"opened\"]",
            br#"{"installation":[42]}"#,
            br#"{"repository":["o/r"]}"#,
            br#"{"sender":[]}"#,
            b"{} x",
        ] {
            match Envelope::parse(bad) {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, "body"),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
        let env = Envelope::parse(br#" {"installation":{"id":42},"sender":null} "#).unwrap();
        assert_eq!(env.installation_id(), Some(42));
    }

    #[test]
    fn malformed_json_names_the_body() {
        for bad in [&b"{"[..], b"not json", b"[1,2]", b"", b"{\"action\":1}"] {
            match Envelope::parse(bad) {
                Err(Error::Invalid { field, .. }) => assert_eq!(field, "body"),
                other => panic!("{other:?}"),
            }
        }
    }
}
