use super::*;

const SECRET: &str = "test-webhook-secret-not-real";
const BODY: &[u8] = br#"{"action":"opened","repository":{"full_name":"octo-org/hello-world"},"installation":{"id":7},"sender":{"login":"octocat"}}"#;

fn headers(sig: Option<&str>) -> Vec<(String, String)> {
    let mut h = vec![
        ("x-github-event".to_string(), "issues".to_string()),
        ("X-GitHub-Delivery".to_string(), "d-1".to_string()),
        ("X-GitHub-Hook-ID".to_string(), "123".to_string()),
        (
            "X-GitHub-Hook-Installation-Target-Type".to_string(),
            "repository".to_string(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-ID".to_string(),
            "456".to_string(),
        ),
        ("User-Agent".to_string(), "GitHub-Hookshot/abc".to_string()),
    ];
    if let Some(sig) = sig {
        h.push(("X-Hub-Signature-256".to_string(), sig.to_string()));
    }
    h
}

fn receiver() -> GitHubWebhooks {
    GitHubWebhooks::new(vec![Secret::new(SECRET)])
}

// A `&[_]` is unsized and cannot become a `&dyn HeaderSource`; a `&Vec` can.
#[allow(clippy::ptr_arg)]
fn receive(r: &GitHubWebhooks, h: &Vec<(String, String)>, body: &[u8]) -> Result<WebhookDelivery> {
    r.receive(h, Bytes::copy_from_slice(body), chrono::Utc::now())
}

fn signature_error(r: Result<WebhookDelivery>) -> SignatureError {
    match r {
        Err(Error::Signature(e)) => e,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

#[test]
fn a_signed_delivery_is_read_whole() {
    let sig = sign(&Secret::new(SECRET), BODY);
    let d = receive(&receiver(), &headers(Some(&sig)), BODY).unwrap();
    assert_eq!(d.event, "issues");
    assert_eq!(d.delivery_id, "d-1");
    assert_eq!(d.hook_id, Some(123));
    assert_eq!(d.target_type.as_deref(), Some("repository"));
    assert_eq!(d.target_id, Some(456));
    assert_eq!(d.user_agent.as_deref(), Some("GitHub-Hookshot/abc"));
    assert_eq!(d.action.as_deref(), Some("opened"));
    assert_eq!(d.repo.unwrap().to_string(), "octo-org/hello-world");
    assert_eq!(d.installation_id, Some(7));
    assert_eq!(d.sender.as_deref(), Some("octocat"));
    assert_eq!(&d.body[..], BODY);
}

#[test]
fn signature_failures_are_distinct() {
    let r = receiver();
    assert_eq!(
        signature_error(receive(&r, &headers(None), BODY)),
        SignatureError::Missing
    );
    let mut sha1_only = headers(None);
    sha1_only.push((
        "X-Hub-Signature".into(),
        "sha1=0000000000000000000000000000000000000000".into(),
    ));
    assert_eq!(
        signature_error(receive(&r, &sha1_only, BODY)),
        SignatureError::UnsupportedAlgorithm
    );
    assert!(matches!(
        signature_error(receive(&r, &headers(Some("garbage")), BODY)),
        SignatureError::Malformed(_)
    ));
    let wrong = sign(&Secret::new("another secret"), BODY);
    assert_eq!(
        signature_error(receive(&r, &headers(Some(&wrong)), BODY)),
        SignatureError::Mismatch
    );
    // One changed byte of the body.
    let sig = sign(&Secret::new(SECRET), BODY);
    let mut tampered = BODY.to_vec();
    tampered[12] ^= 1;
    assert_eq!(
        signature_error(receive(&r, &headers(Some(&sig)), &tampered)),
        SignatureError::Mismatch
    );
}

#[test]
fn rotation_accepts_old_and_new_secret() {
    let r = GitHubWebhooks::new(vec![Secret::new("new-secret"), Secret::new(SECRET)]);
    for s in ["new-secret", SECRET] {
        let sig = sign(&Secret::new(s), BODY);
        assert!(receive(&r, &headers(Some(&sig)), BODY).is_ok());
    }
}

#[test]
fn no_secret_fails_closed_unless_allowed() {
    let closed = GitHubWebhooks::new(vec![Secret::new("")]);
    let sig = sign(&Secret::new(SECRET), BODY);
    assert_eq!(
        signature_error(receive(&closed, &headers(Some(&sig)), BODY)),
        SignatureError::NoSecretConfigured
    );
    let open = GitHubWebhooks::new(vec![]).allow_unsigned(true);
    assert_eq!(
        receive(&open, &headers(None), BODY).unwrap().event,
        "issues"
    );
    // A configured secret always wins over allow_unsigned.
    let both = receiver().allow_unsigned(true);
    assert_eq!(
        signature_error(receive(&both, &headers(None), BODY)),
        SignatureError::Missing
    );
}

#[test]
fn missing_headers_and_bad_bodies_are_invalid() {
    let r = receiver();
    let sig = sign(&Secret::new(SECRET), BODY);
    for name in [headers::EVENT, headers::DELIVERY] {
        let h: Vec<_> = headers(Some(&sig))
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
            .collect();
        match receive(&r, &h, BODY) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, name),
            other => panic!("{other:?}"),
        }
    }
    let mut h = headers(Some(&sig));
    h[2].1 = "not-a-number".into();
    assert!(
        matches!(receive(&r, &h, BODY), Err(Error::Invalid { field, .. }) if field == headers::HOOK_ID)
    );

    let bad = b"{\"action\": ";
    let sig = sign(&Secret::new(SECRET), bad);
    assert!(
        matches!(receive(&r, &headers(Some(&sig)), bad), Err(Error::Invalid { field, .. }) if field == "body")
    );

    let bad_repo = br#"{"repository":{"full_name":"no slash"}}"#;
    let sig = sign(&Secret::new(SECRET), bad_repo);
    assert!(matches!(
        receive(&r, &headers(Some(&sig)), bad_repo),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn form_encoded_bodies_are_refused_with_a_hint() {
    let body = b"payload=%7B%7D";
    let sig = sign(&Secret::new(SECRET), body);
    let mut h = headers(Some(&sig));
    h.push((
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    match receive(&receiver(), &h, body) {
        Err(Error::Invalid { field, message }) => {
            assert_eq!(field, headers::CONTENT_TYPE);
            assert!(message.contains("application/json"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn debug_never_shows_secrets() {
    let dbg = format!("{:?}", receiver());
    assert!(!dbg.contains(SECRET), "{dbg}");
    assert!(dbg.contains("***"));
}

#[test]
fn secrets_from_the_environment() {
    let env = |k: &str| match k {
        "GITHUB_WEBHOOK_SECRET" => Some("current".to_string()),
        "KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET" => Some(SECRET.to_string()),
        _ => None,
    };
    let r = GitHubWebhooks::with_env_lookup(env);
    assert_eq!(r.secret_count(), 2);
    let sig = sign(&Secret::new(SECRET), BODY);
    assert!(receive(&r, &headers(Some(&sig)), BODY).is_ok());
    let none = GitHubWebhooks::with_env_lookup(|_| None);
    assert_eq!(
        signature_error(receive(&none, &headers(Some(&sig)), BODY)),
        SignatureError::NoSecretConfigured
    );
}
