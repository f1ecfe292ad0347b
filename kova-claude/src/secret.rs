//! The API key, kept out of `Debug`, `Display`, logs and errors.

use std::fmt;

/// An Anthropic API key. Its `Debug` prints `***`; the key itself is only read when the
/// request headers are built, where it is marked sensitive so the HTTP stack never logs it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key, for the one place that sends it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces any occurrence of the key in `text` (an upstream message that echoed it).
    pub(crate) fn redact(&self, text: &str) -> String {
        // A short or empty key would turn every message into asterisks; real keys are long.
        if self.0.len() >= 8 && text.contains(&self.0) {
            text.replace(&self.0, "***")
        } else {
            text.to_owned()
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for ApiKey {
    fn from(s: String) -> Self {
        ApiKey(s)
    }
}

impl From<&str> for ApiKey {
    fn from(s: &str) -> Self {
        ApiKey(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_and_redact_removes_the_key() {
        let key = ApiKey::new("sk-ant-test-not-a-real-key");
        assert_eq!(format!("{key:?}"), "***");
        assert_eq!(
            key.redact("bad key sk-ant-test-not-a-real-key given"),
            "bad key *** given"
        );
        assert_eq!(key.redact("nothing here"), "nothing here");
    }
}
