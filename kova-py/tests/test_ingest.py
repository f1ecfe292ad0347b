"""Webhook ingest: verification, durability, duplicates, bad input; sync and async."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

import kova
from conftest import WEBHOOK_SECRET, delivery, ping_payload, pull_request_payload, sign


def test_accepts_a_signed_delivery_and_recognises_its_redelivery(engine):
    headers, body = delivery("ping", ping_payload(), "d-1")
    first = engine.ingest_webhook(headers, body)
    assert first.status == "accepted" and first.accepted and not first.duplicate
    assert first.event == "ping" and first.delivery_id == "d-1"
    assert first.handler == "ping" and first.job_id is not None
    again = engine.ingest_webhook(headers, body)
    assert again.status == "duplicate" and again.duplicate and not again.accepted
    assert again.event_id == first.event_id and again.job_id is None
    events = engine.events()
    assert len(events) == 1
    stored = events[0]
    assert stored.body == body and stored.payload()["zen"] == "Keep it logically awesome."
    assert stored.repo == "octo-org/app" and stored.hook_id == 4242
    assert stored.sender == "octocat" and stored.user_agent == "GitHub-Hookshot/test"
    assert stored.received_at.tzinfo is not None
    assert engine.jobs_summary().queued == 1


async def test_ingest_async(engine):
    headers, body = delivery("ping", ping_payload(), "d-async")
    first = await engine.ingest_webhook_async(headers, body)
    again = await engine.ingest_webhook_async(headers, body)
    assert first.accepted and again.duplicate
    assert (await engine.events_async()).items[0].delivery_id == "d-async"


def test_headers_as_pairs_any_case_and_body_as_bytearray(engine):
    headers, body = delivery("ping", ping_payload(), "d-pairs")
    pairs = [(k.lower(), v) for k, v in headers.items()]
    r = engine.ingest_webhook(pairs, bytearray(body))
    assert r.accepted
    assert engine.ingest_webhook(headers, memoryview(body)).duplicate


def test_thousand_deliveries_and_every_redelivery_rejected(engine):
    sent = []
    for i in range(1000):
        headers, body = delivery("ping", {**ping_payload(), "n": i}, f"bulk-{i:04d}")
        r = engine.ingest_webhook(headers, body)
        assert r.accepted, i
        sent.append((headers, body))
    for headers, body in sent:
        assert engine.ingest_webhook(headers, body).duplicate
    ids = set()
    cursor = None
    while True:
        page = engine.events(limit=300, cursor=cursor)
        ids.update(e.delivery_id for e in page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == {f"bulk-{i:04d}" for i in range(1000)}
    assert engine.jobs_summary().queued == 1000


def test_concurrent_redeliveries_from_threads_store_one_event(engine):
    headers, body = delivery("ping", ping_payload(), "raced")
    results = []
    lock = threading.Lock()

    def send() -> None:
        r = engine.ingest_webhook(headers, body)
        with lock:
            results.append(r.status)

    threads = [threading.Thread(target=send) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count("accepted") == 1 and results.count("duplicate") == 15
    assert len(engine.events()) == 1


async def test_concurrent_async_redeliveries_store_one_event(engine):
    headers, body = delivery("ping", ping_payload(), "raced-async")
    results = await asyncio.gather(*(engine.ingest_webhook_async(headers, body) for _ in range(32)))
    assert sum(r.accepted for r in results) == 1
    assert len(await engine.events_async()) == 1


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Hub-Signature-256"}, b), "missing"),
        (lambda h, b: ({**h, "X-Hub-Signature-256": sign(b, "wrong-secret")}, b), "mismatch"),
        (lambda h, b: (h, b + b" "), "mismatch"),
        (lambda h, b: ({**h, "X-Hub-Signature-256": "sha256=xyz"}, b), "malformed"),
        (
            lambda h, b: (
                {**{k: v for k, v in h.items() if k != "X-Hub-Signature-256"}, "X-Hub-Signature": "sha1=" + "0" * 40},
                b,
            ),
            "unsupported_algorithm",
        ),
    ],
)
def test_bad_signatures_raise_signature_error_and_store_nothing(engine, mutate, reason):
    headers, body = mutate(*delivery("ping", ping_payload()))
    with pytest.raises(kova.SignatureError) as err:
        engine.ingest_webhook(headers, body)
    assert err.value.reason == reason
    assert isinstance(err.value, kova.KovaError) and err.value.retryable is False
    assert WEBHOOK_SECRET not in str(err.value)
    assert len(engine.events()) == 0


async def test_bad_signature_async(engine):
    headers, body = delivery("ping", ping_payload(), secret="wrong-secret")
    with pytest.raises(kova.SignatureError) as err:
        await engine.ingest_webhook_async(headers, body)
    assert err.value.reason == "mismatch"


def test_no_secret_fails_closed_unless_unsigned_is_allowed(store_url):
    headers, body = delivery("ping", ping_payload())
    closed = kova.Kova(store_url, env=False)
    with pytest.raises(kova.SignatureError) as err:
        closed.ingest_webhook(headers, body)
    assert err.value.reason == "no_secret_configured"
    open_dev = kova.Kova("memory:", env=False, allow_unsigned_webhooks=True)
    assert open_dev.ingest_webhook({k: v for k, v in headers.items() if "Signature" not in k}, body).accepted


def test_rotated_secrets_both_verify(store_url):
    k = kova.Kova(store_url, webhook_secrets=["old-secret-not-real", WEBHOOK_SECRET], env=False)
    assert k.ingest_webhook(*delivery("ping", ping_payload(), secret="old-secret-not-real")).accepted
    assert k.ingest_webhook(*delivery("ping", ping_payload())).accepted


def test_signed_but_invalid_requests_raise_invalid_input(engine):
    body = b"{not json"
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "bad-json", "X-Hub-Signature-256": sign(body)}
    with pytest.raises(kova.InvalidInputError):
        engine.ingest_webhook(headers, body)
    body = json.dumps(ping_payload()).encode()
    with pytest.raises(kova.InvalidInputError) as err:
        engine.ingest_webhook({"X-Hub-Signature-256": sign(body), "X-GitHub-Delivery": "x"}, body)
    assert err.value.field == "X-GitHub-Event"
    assert len(engine.events()) == 0


def test_wrong_python_types_raise_type_error(engine):
    headers, body = delivery("ping", ping_payload())
    with pytest.raises(TypeError, match="body must be bytes"):
        engine.ingest_webhook(headers, body.decode())
    with pytest.raises(TypeError):
        engine.ingest_webhook({"X-GitHub-Event": 1}, body)
    with pytest.raises(TypeError):
        engine.ingest_webhook(42, body)


def test_event_no_handler_wants_is_stored_as_ignored(engine):
    r = engine.ingest_webhook(*delivery("star", {"action": "created", "repository": ping_payload()["repository"]}))
    assert r.accepted and r.handler is None and r.job_id is None
    assert engine.events(status="ignored")[0].event == "star"


def test_pull_request_job_is_deduplicated_by_head(engine):
    first = engine.ingest_webhook(*delivery("pull_request", pull_request_payload()))
    second = engine.ingest_webhook(*delivery("pull_request", pull_request_payload()))
    assert first.accepted and second.accepted and first.event_id != second.event_id
    assert first.handler == "pr_review"
    assert second.job_id == first.job_id
    assert engine.jobs_summary().queued == 1
