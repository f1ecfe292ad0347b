//! The repositories file (`kova_repos_config.json`): parse, validate, write back, parse again.

#![no_main]

use kova_core::config::ReposConfig;
use kova_core::Error;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The file is read with `read_to_string`, so it is always UTF-8.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match ReposConfig::parse(text) {
        Ok(config) => config,
        Err(Error::Invalid { field, message }) => {
            assert!(!field.is_empty() && !message.is_empty());
            return;
        }
        Err(other) => panic!("parse errors are Invalid, got {other:?}"),
    };
    assert!(config.validate().is_ok());

    // Round trip: what is written parses back to the same configuration, and writing that
    // gives the same text (unknown fields kept, order stable).
    let written = config.to_json_string();
    let again = ReposConfig::parse(&written).expect("written config parses");
    assert_eq!(again, config);
    assert_eq!(again.to_json_string(), written);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&written).unwrap(),
        config.to_json()
    );

    // Lookups agree with the list.
    let enabled = config.enabled_by_priority();
    assert_eq!(
        enabled.len(),
        config.repositories.iter().filter(|e| e.enabled).count()
    );
    assert!(enabled
        .windows(2)
        .all(|w| w[0].sync_priority <= w[1].sync_priority));
    for entry in &config.repositories {
        assert!((1..=5).contains(&entry.sync_priority));
        let found = config.entry(&entry.repo).expect("entry finds itself");
        assert!(found.repo.same_as(&entry.repo));
        assert_eq!(
            entry.repo.to_string().parse().ok(),
            Some(entry.repo.clone())
        );
        if let Some(pattern) = &config.discovery_settings.repo_name_pattern {
            pattern.matches(entry.repo.name());
        }
    }
    if let Some(pattern) = &config.discovery_settings.repo_name_pattern {
        // A pattern matches at least the literal text it was written as when it has no
        // metacharacters.
        let source = pattern.as_str();
        if !source.contains(['*', '?', '[', '\\']) {
            assert!(pattern.matches(source));
        }
        pattern.matches(text);
    }

    // Replacing an entry by an equal one changes nothing.
    if let Some(first) = config.repositories.first() {
        let mut edited = config.clone();
        edited.upsert_entry(first.clone());
        assert_eq!(edited, config);
    }
});
