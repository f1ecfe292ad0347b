"""Processing jobs: one round at a time, and long-running workers that stop on request."""

from __future__ import annotations

import _thread
import asyncio
import json
import threading
import time

import pytest

import kova
from conftest import ANTHROPIC_KEY, GITHUB_TOKEN, MODEL, delivery, ping_payload, pull_request_payload

DEADLINE = 20.0


def wait_until(predicate, what: str) -> None:
    """Waits on a condition with a deadline (the condition is checked, never a fixed sleep)."""
    end = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_process_pending_runs_due_jobs(engine):
    for i in range(3):
        engine.ingest_webhook(*delivery("ping", ping_payload(), f"p-{i}"))
    report = engine.process_pending(2)
    assert (report.claimed, report.completed, report.dead) == (2, 2, 0)
    report = engine.process_pending()
    assert report.to_dict() == {"claimed": 1, "completed": 1, "retried": 0, "deferred": 0, "dead": 0, "lost": 0}
    assert engine.process_pending().claimed == 0
    assert engine.jobs_summary().done == 3
    assert {e.status for e in engine.events()} == {"processed"}


async def test_process_pending_async(engine):
    await engine.ingest_webhook_async(*delivery("ping", ping_payload()))
    report = await engine.process_pending_async(10, worker="async-worker")
    assert report.completed == 1
    jobs = await engine.jobs_async(status="done")
    assert jobs[0].kind == "ping" and jobs[0].attempts == 1


def test_pull_request_review_against_fake_github_and_anthropic(full_engine, fake_github, fake_anthropic):
    fake_github.pr_files["octo-org/app#7"] = [
        {"sha": "1" * 40, "filename": "src/retry.rs", "status": "modified", "additions": 3, "deletions": 1,
         "changes": 4, "patch": "@@ -1 +1,3 @@\n-fn call() {}\n+fn call() {\n+    retry(3)\n+}"},
        {"sha": "2" * 40, "filename": "README.md", "status": "modified", "additions": 1, "deletions": 0,
         "changes": 1, "patch": "@@ -1 +1,2 @@\n # app\n+Retries."},
    ]
    fake_anthropic.answers.append("The retry loop lacks a backoff; otherwise fine.")
    r = full_engine.ingest_webhook(*delivery("pull_request", pull_request_payload()))
    report = full_engine.process_pending()
    assert report.completed == 1, full_engine.jobs().to_dict()

    # GitHub: both pages fetched by following Link, with the token and API version sent.
    calls = fake_github.received("/repos/octo-org/app/pulls/7/files")
    assert [c.query.get("page", ["1"])[0] for c in calls] == ["1", "2"]
    assert all(c.headers["authorization"] == f"Bearer {GITHUB_TOKEN}" for c in calls)
    assert all(c.headers["x-github-api-version"] == "2022-11-28" for c in calls)
    # Anthropic: one Messages call with the key header, both diffs in the prompt.
    (ask,) = fake_anthropic.received("/v1/messages")
    assert ask.headers["x-api-key"] == ANTHROPIC_KEY and "anthropic-version" in ask.headers
    sent = ask.json()
    assert sent["model"] == MODEL
    prompt = json.dumps(sent["messages"])
    assert "src/retry.rs" in prompt and "README.md" in prompt

    (artifact,) = full_engine.artifacts(event_id=r.event_id)
    assert artifact.kind == "analysis" and artifact.repo == "octo-org/app"
    assert "backoff" in artifact.content and artifact.source == "event" and artifact.source_id == r.event_id
    assert artifact.usage.output_tokens == 30 and artifact.model == MODEL
    assert full_engine.artifact(artifact.id) == artifact
    (interaction,) = full_engine.interactions(purpose="pr_review")
    assert interaction.success and interaction.event_id == r.event_id
    assert interaction.usage.input_tokens == 120 and interaction.repo == "octo-org/app"
    totals = full_engine.usage_totals(repo="octo-org/app")
    assert (totals.calls, totals.failures, totals.usage.output_tokens) == (1, 0, 30)
    assert full_engine.events(event="pull_request")[0].status == "processed"


def test_upstream_failure_is_retried_with_the_error_recorded(full_engine, fake_github, fake_anthropic):
    fake_github.pr_files["octo-org/app#7"] = [
        {"filename": "a.rs", "status": "added", "additions": 1, "deletions": 0, "patch": "+fn a() {}"}
    ]
    fake_anthropic.fail_with = (
        400,
        {},
        {"type": "error", "error": {"type": "invalid_request_error", "message": "bad request from test"}},
    )
    full_engine.ingest_webhook(*delivery("pull_request", pull_request_payload()))
    report = full_engine.process_pending()
    assert report.dead == 1
    (job,) = full_engine.jobs(status="dead")
    assert "bad request from test" in job.last_error
    assert ANTHROPIC_KEY not in job.last_error
    (failed,) = full_engine.interactions()
    assert not failed.success and full_engine.usage_totals().failures == 1
    assert full_engine.events()[0].status == "failed"


def test_run_worker_until_stop_workers(store_url):
    k = kova.Kova(store_url, webhook_secrets=["test-webhook-secret-not-real"], env=False, poll_interval=0.01)
    for i in range(5):
        k.ingest_webhook(*delivery("ping", ping_payload(), f"w-{i}"))
    errors = []

    def stopper() -> None:
        try:
            wait_until(lambda: k.jobs_summary().done == 5, "5 jobs done")
        except AssertionError as e:  # pragma: no cover - reported below
            errors.append(e)
        k.stop_workers()

    t = threading.Thread(target=stopper)
    t.start()
    k.run_worker(2, name="blocking")
    t.join()
    assert not errors
    assert k.jobs_summary().done == 5


def test_run_worker_stops_gracefully_on_keyboard_interrupt(engine):
    engine.ingest_webhook(*delivery("ping", ping_payload(), "ki"))

    def interrupt() -> None:
        wait_until(lambda: engine.jobs_summary().done == 1, "job done")
        _thread.interrupt_main()

    t = threading.Thread(target=interrupt)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        engine.run_worker()
    t.join()
    assert engine.jobs_summary().done == 1


async def test_run_worker_async_stops_on_stop_workers_and_on_cancel(store_url):
    k = kova.Kova(store_url, webhook_secrets=["test-webhook-secret-not-real"], env=False, poll_interval=0.01)
    await k.ingest_webhook_async(*delivery("ping", ping_payload(), "a-1"))
    task = asyncio.ensure_future(k.run_worker_async(2))
    await wait_async(lambda: k.jobs_summary_async(), lambda s: s.done == 1)
    k.stop_workers()
    assert await asyncio.wait_for(task, DEADLINE) is None

    task = asyncio.ensure_future(k.run_worker_async(name="cancelled"))
    await k.ingest_webhook_async(*delivery("ping", ping_payload(), "a-2"))
    await wait_async(lambda: k.jobs_summary_async(), lambda s: s.done == 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    summary = await k.jobs_summary_async()
    assert summary.running == 0 and summary.queued == 0


async def wait_async(fetch, ok) -> None:
    end = time.monotonic() + DEADLINE
    while not ok(await fetch()):
        if time.monotonic() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)



def test_run_worker_rejects_a_bad_concurrency(engine):
    with pytest.raises(kova.InvalidInputError) as err:
        engine.run_worker(0)
    assert err.value.field == "concurrency"
    with pytest.raises(kova.InvalidInputError):
        engine.run_worker_async(5000)
