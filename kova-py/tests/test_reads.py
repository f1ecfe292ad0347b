"""Reads over the store: filters, pagination, records (repr, to_dict, ==, tz-aware datetimes)."""

from __future__ import annotations

import datetime

import pytest

import kova
from conftest import delivery, ping_payload, pull_request_payload


@pytest.fixture
def stocked(engine):
    """Three pings for two repositories, one pull request, one ignored star."""
    for i, repo in enumerate(["octo-org/app", "octo-org/app", "octo-org/lib"]):
        engine.ingest_webhook(*delivery("ping", ping_payload(repo), f"ping-{i}"))
    engine.ingest_webhook(*delivery("pull_request", pull_request_payload(), "pr-1"))
    engine.ingest_webhook(*delivery("star", {"action": "created", "repository": ping_payload()["repository"]}, "star-1"))
    return engine


def test_events_filter_by_repo_type_and_status(stocked):
    assert len(stocked.events()) == 5
    assert {e.delivery_id for e in stocked.events(repo="octo-org/lib")} == {"ping-2"}
    assert len(stocked.events(event="ping")) == 3
    assert [e.delivery_id for e in stocked.events(status="ignored")] == ["star-1"]
    assert len(stocked.events(repo="octo-org/app", event="ping", status="received")) == 2


async def test_events_async_filters(stocked):
    page = await stocked.events_async(event="pull_request")
    assert [e.action for e in page] == ["opened"]


def test_events_paginate_newest_first_without_repeats(stocked):
    seen = []
    page = stocked.events(limit=2)
    while True:
        assert len(page) <= 2
        seen.extend(e.id for e in page)
        if page.next_cursor is None:
            break
        page = stocked.events(limit=2, cursor=page.next_cursor)
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 5


def test_page_behaves_like_a_sequence(stocked):
    page = stocked.events(limit=3)
    assert len(page) == 3 and page[0].id == page.items[0].id and page[-1].id == page.items[2].id
    assert [e.id for e in page] == [e.id for e in page.items]
    with pytest.raises(IndexError):
        page[3]
    page.items.clear()  # a copy: the page itself is unchanged
    assert len(page.items) == 3
    d = page.to_dict()
    assert d["next_cursor"] == page.next_cursor and d["items"][0]["id"] == page[0].id
    assert repr(page).startswith("Page(items=3, next_cursor=")


def test_event_by_id_and_not_found(stocked):
    first = stocked.events(event="pull_request")[0]
    assert stocked.event(first.id) == first
    assert stocked.event(first.id) != stocked.events(event="ping")[0]
    with pytest.raises(kova.NotFoundError):
        stocked.event(999_999)


async def test_event_async_not_found(engine):
    with pytest.raises(kova.NotFoundError):
        await engine.event_async(12345)


def test_event_record_is_read_only_and_dict_like(stocked):
    e = stocked.events(event="pull_request")[0]
    with pytest.raises(AttributeError):
        e.status = "processed"
    d = e.to_dict()
    assert d["delivery_id"] == "pr-1" and d["repo"] == "octo-org/app" and isinstance(d["body"], bytes)
    assert isinstance(d["received_at"], datetime.datetime)
    assert d["received_at"].utcoffset() == datetime.timedelta(0)
    assert "body" not in repr(e) and "pr-1" in repr(e)
    assert e.payload()["pull_request"]["number"] == 7


def test_jobs_and_summary(stocked):
    summary = stocked.jobs_summary()
    assert (summary.queued, summary.running, summary.done) == (4, 0, 0)
    assert summary.oldest_queued_at.tzinfo is not None
    jobs = stocked.jobs(kind="pr_review")
    assert len(jobs) == 1 and jobs[0].status == "queued" and jobs[0].dedupe_key.startswith("pr_review:octo-org/app#7@")
    assert len(stocked.jobs(status="queued", limit=2)) == 2
    stocked.process_pending()
    assert stocked.jobs_summary().done == 3  # the pings; the review needs GitHub
    (dead,) = stocked.jobs(status="dead")
    assert "github is not configured" in dead.last_error


async def test_jobs_async(stocked):
    assert (await stocked.jobs_summary_async()).queued == 4
    assert len(await stocked.jobs_async(status="queued")) == 4


def test_empty_reads(engine):
    assert len(engine.repositories()) == 0 and engine.repositories().next_cursor is None
    assert len(engine.artifacts()) == 0
    assert len(engine.interactions()) == 0
    assert len(engine.repo_errors()) == 0
    totals = engine.usage_totals()
    assert (totals.calls, totals.failures, totals.cost_usd) == (0, 0, 0.0)
    assert totals.usage.to_dict() == {
        "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_creation_tokens": 0,
    }
    with pytest.raises(kova.NotFoundError):
        engine.repository("octo-org/app")
    with pytest.raises(kova.NotFoundError):
        engine.artifact(1)


async def test_empty_reads_async(engine):
    assert len(await engine.repositories_async(limit=10)) == 0
    assert len(await engine.artifacts_async(kind="code")) == 0
    assert len(await engine.interactions_async(purpose="pr_review")) == 0
    assert (await engine.usage_totals_async(model="x")).calls == 0
    assert len(await engine.repo_errors_async(repo="octo-org/app")) == 0
    with pytest.raises(kova.NotFoundError):
        await engine.repository_async("octo-org/app")
    with pytest.raises(kova.NotFoundError):
        await engine.artifact_async(1)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda k: k.events(repo="not-a-repo"), "repository"),
        (lambda k: k.events(status="sideways"), "status"),
        (lambda k: k.events(cursor="garbage"), "cursor"),
        (lambda k: k.artifacts(kind="poem"), "kind"),
        (lambda k: k.jobs(status="asleep"), "status"),
        (lambda k: k.interactions(repo="a/b/c"), "repository"),
        (lambda k: k.repository("-bad/name"), "owner"),
    ],
)
def test_invalid_arguments_raise_invalid_input_with_the_field(engine, call, field):
    with pytest.raises(kova.InvalidInputError) as err:
        call(engine)
    assert err.value.field == field and not err.value.retryable


async def test_invalid_arguments_async(engine):
    with pytest.raises(kova.InvalidInputError):
        await engine.events_async(cursor="garbage")
    with pytest.raises(kova.InvalidInputError):
        engine.events_async(status="sideways")  # raised before an awaitable exists


def test_wrong_argument_types_raise_type_error(engine):
    with pytest.raises(TypeError):
        engine.events(limit="ten")
    with pytest.raises(TypeError):
        engine.event("1")
    with pytest.raises(OverflowError):
        engine.events(limit=-1)


def test_page_is_generic_at_run_time_too(engine):
    alias = kova.Page[kova.Event]
    assert alias.__origin__ is kova.Page and alias.__args__ == (kova.Event,)
    assert isinstance(engine.events(), kova.Page)
