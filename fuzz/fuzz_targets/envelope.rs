//! The webhook envelope (what ingest reads) and the typed, lenient event views (what handlers
//! read), on arbitrary bytes.

#![no_main]

use kova_github::events::{parse_event, GitHubEvent};
use kova_github::webhook::Envelope;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const EVENTS: &[&str] = &[
    "push",
    "pull_request",
    "issues",
    "issue_comment",
    "workflow_run",
    "ping",
    "installation",
    "installation_repositories",
    "star",
];

fuzz_target!(|body: &[u8]| {
    let parsed = serde_json::from_slice::<Value>(body);
    let error = parsed.as_ref().err().map(ToString::to_string);
    let error_is = |kinds: &[&str]| {
        error
            .as_deref()
            .is_some_and(|e| kinds.iter().any(|k| e.starts_with(k)))
    };
    // JSON's grammar allows any exponent, but a `Value` cannot hold 1e400; parsers that skip
    // the number (the envelope, the views) accept it. The grammar also allows a `\u` escape of
    // half a surrogate pair, which no string can hold: ingest rejects such a body wherever the
    // escape is (the envelope checks the strings it skips), while the views skip what they do
    // not read. Such bodies are compared no further.
    let huge_number = error_is(&["number out of range"]);
    let half_surrogate = error_is(&[
        "lone leading surrogate",
        "invalid unicode code point",
        "unexpected end of hex escape",
    ]);
    if huge_number || half_surrogate {
        let envelope = Envelope::parse(body);
        assert!(
            !half_surrogate || envelope.is_err(),
            "envelope of half a surrogate pair"
        );
        for &event in EVENTS {
            let _ = parse_event(event, body);
        }
        return;
    }
    let value = parsed.ok();
    let str_at = |path: &[&str]| -> Option<&str> {
        let mut v = value.as_ref()?;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str()
    };

    // The envelope reads a JSON object only, and reads what a full parse sees.
    if let Ok(envelope) = Envelope::parse(body) {
        let value = value.as_ref().expect("envelope of invalid JSON");
        assert!(value.is_object());
        assert_eq!(envelope.action.as_deref(), str_at(&["action"]));
        let full_name = envelope
            .repository
            .as_ref()
            .and_then(|r| r.full_name.as_deref());
        assert_eq!(full_name, str_at(&["repository", "full_name"]));
        assert_eq!(envelope.sender_login(), str_at(&["sender", "login"]));
        let id = value
            .get("installation")
            .and_then(|i| i.get("id"))
            .and_then(Value::as_i64);
        assert_eq!(envelope.installation_id(), id);
        if let Ok(Some(repo)) = envelope.repo() {
            assert!(repo.full_name().eq_ignore_ascii_case(full_name.unwrap()));
        }
    }

    for &event in EVENTS {
        match parse_event(event, body) {
            Ok(parsed) => {
                assert!(value.is_some(), "{event} view of invalid JSON");
                assert_eq!(parsed.name(), event);
                match parsed {
                    GitHubEvent::Push(push) => {
                        assert_eq!(push.git_ref, str_at(&["ref"]).unwrap_or(""));
                    }
                    GitHubEvent::PullRequest(pr) => {
                        assert_eq!(pr.action, str_at(&["action"]).unwrap_or(""));
                    }
                    GitHubEvent::Other { payload, .. } => {
                        assert_eq!(Some(&payload), value.as_ref());
                    }
                    _ => {}
                }
            }
            // Unknown events keep the raw JSON, so only invalid JSON fails them.
            Err(_) => assert!(value.is_none() || event != "star"),
        }
    }
});
