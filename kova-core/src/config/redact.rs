//! Showing configured URLs in messages without the credentials they may carry.

/// A URL with any password replaced by `***`, for messages and logs:
/// `postgres://u:secret@h/db` → `postgres://u:***@h/db`. Works on text that does not parse as
/// a URL too (an error message about a malformed URL must not echo its password either).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("https://u:secret@h:99999/api"),
            "https://u:***@h:99999/api"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
