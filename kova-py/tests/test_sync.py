"""Sync, discovery and adding repositories, against the fake GitHub (and fake Anthropic)."""

from __future__ import annotations

import json

import pytest

import kova
from conftest import GITHUB_TOKEN, WEBHOOK_SECRET

APP_FILES = {
    "README.md": "# app\nThe app.\n",
    "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\n\n[dependencies]\nserde = "1"\ntokio = "1"\n',
    "src/main.rs": "fn main() {}\n",
}


@pytest.fixture
def synced_engine(full_engine, fake_github):
    fake_github.add_repo("octo-org/app", APP_FILES)
    fake_github.add_repo("octo-org/app-web", {"README.md": "# web\n", "package.json": '{"name": "web", "dependencies": {"react": "18"}}'})
    fake_github.add_repo("octo-org/other", {"README.md": "# other\n"})
    return full_engine


def test_add_repository_records_what_github_says(synced_engine):
    out = synced_engine.add_repository("octo-org/app", kind="core", sync_priority=1, features=["api"])
    assert out.found and not out.existed and not out.saved_config
    repo = out.repository
    assert isinstance(repo, kova.Repository)
    assert (repo.full_name, repo.kind, repo.sync_priority, repo.features) == ("octo-org/app", "core", 1, ["api"])
    assert repo.default_branch == "main" and repo.status == "active"
    assert synced_engine.repository("octo-org/app") == repo
    assert synced_engine.add_repository("octo-org/app", kind="core").existed
    missing = synced_engine.add_repository("octo-org/planned")
    assert not missing.found and missing.repository.status == "planned"
    assert [r.full_name for r in synced_engine.repositories()] == ["octo-org/app", "octo-org/planned"]


async def test_add_repository_async_and_bad_input(synced_engine):
    out = await synced_engine.add_repository_async("octo-org/app-web", kind="frontend")
    assert out.found and out.to_dict()["repository"]["kind"] == "frontend"
    with pytest.raises(kova.InvalidInputError) as err:
        synced_engine.add_repository("octo-org/app", kind="world")
    assert err.value.field == "type"
    with pytest.raises(kova.InvalidInputError) as err:
        synced_engine.add_repository("octo-org/app", sync_priority=9)
    assert err.value.field == "sync_priority"
    with pytest.raises(kova.InvalidInputError):
        await synced_engine.add_repository_async("not a repo")


def test_sync_with_progress_then_unchanged_with_conditional_requests(synced_engine, fake_github):
    synced_engine.add_repository("octo-org/app", kind="core")
    seen = []
    report = synced_engine.sync(progress=seen.append)
    assert report.totals.updated == 1 and report.totals.failed == 0
    (result,) = report.results
    assert isinstance(result, kova.RepoSyncResult)
    assert (result.repo, result.outcome, result.status) == ("octo-org/app", "updated", "active")
    assert result.head_sha == "c" * 40 and result.files == 3 and result.error is None
    assert "serde" in json.dumps(result.summary)
    assert report.started_at <= report.finished_at and report.started_at.tzinfo is not None
    stages = [p.stage for p in seen]
    assert stages[0] == "started" and stages[-1] == "done" and "tree" in stages
    tree = next(p for p in seen if p.stage == "tree")
    assert tree.files == 3 and tree.repo == "octo-org/app" and tree.at.tzinfo is not None
    assert all(isinstance(p, kova.SyncProgress) for p in seen)
    assert all(r.headers["authorization"] == f"Bearer {GITHUB_TOKEN}" for r in fake_github.received("/repos/"))

    again = synced_engine.sync(["octo-org/app"])
    assert again.results[0].outcome == "unchanged" and again.totals.unchanged == 1
    meta = [r for r in fake_github.received("/repos/octo-org/app") if r.path == "/repos/octo-org/app"]
    assert "if-none-match" in meta[-1].headers  # the second sync asked conditionally
    assert synced_engine.repository("octo-org/app").last_synced_at is not None
    d = again.to_dict()
    assert d["results"][0]["outcome"] == "unchanged" and isinstance(d["totals"], dict)


async def test_sync_async_with_progress(synced_engine):
    await synced_engine.add_repository_async("octo-org/app")
    seen = []
    report = await synced_engine.sync_async(include_analysis=False, progress=lambda p: seen.append(p.stage))
    assert report.totals.updated == 1 and seen[-1] == "done"


def test_sync_with_analysis_records_the_llm_call(synced_engine, fake_anthropic):
    synced_engine.add_repository("octo-org/app")
    fake_anthropic.default_answer = "A small Rust service using serde and tokio."
    report = synced_engine.sync(include_analysis=True)
    assert report.results[0].analysis["error"] is None
    assert synced_engine.usage_totals().calls == 1
    assert any(a.kind == "analysis" for a in synced_engine.artifacts(repo="octo-org/app"))


def test_progress_callback_exception_stops_the_sync_and_propagates(synced_engine):
    synced_engine.add_repository("octo-org/app")

    def boom(p):
        raise ValueError(f"stop at {p.stage}")

    with pytest.raises(ValueError, match="stop at started"):
        synced_engine.sync(progress=boom)


async def test_progress_callback_exception_async(synced_engine):
    await synced_engine.add_repository_async("octo-org/app")

    def boom(p):
        raise RuntimeError("no thanks")

    with pytest.raises(RuntimeError, match="no thanks"):
        await synced_engine.sync_async(progress=boom)


def test_sync_of_an_untracked_repository_is_reported_as_skipped(synced_engine):
    report = synced_engine.sync(["octo-org/app"])
    assert report.results == [] or report.results[0].outcome in ("updated", "missing")
    with pytest.raises(kova.InvalidInputError):
        synced_engine.sync(["bad"])


def test_discover_lists_matching_repositories_and_adds_them(store_url, fake_github, tmp_path):
    fake_github.add_repo("octo-org/app", APP_FILES)
    fake_github.add_repo("octo-org/app-web", {"README.md": "# web\n"})
    fake_github.add_repo("octo-org/other", {"README.md": "# other\n"})
    config = tmp_path / "kova_repos_config.json"
    config.write_text(json.dumps({
        "github_owner": "octo-org",
        "repositories": [{"name": "app", "full_name": "octo-org/app", "type": "core"}],
        "discovery_settings": {"repo_name_pattern": "app*", "auto_discover_new_repos": False},
    }))
    k = kova.Kova(store_url, github_token=GITHUB_TOKEN, github_api_url=fake_github.url,
                  repos_config=config, webhook_secrets=[WEBHOOK_SECRET], env=False)
    report = k.discover()
    assert report.owner == "octo-org" and report.pattern == "app*" and report.scanned == 3
    assert report.new == ["octo-org/app-web"] and report.added == []
    # All three pages of the owner's listing were followed.
    assert len(fake_github.received("/orgs/octo-org/repos")) == 3
    added = k.discover(add=True, kind="frontend")
    assert added.added == ["octo-org/app-web"]
    assert k.repository("octo-org/app-web").kind == "frontend"
    assert "octo-org/app-web" in config.read_text()  # written back to the repositories file
    assert kova.parse_repos_config(config).repositories[-1].full_name == "octo-org/app-web"


async def test_discover_async(store_url, fake_github, tmp_path):
    fake_github.add_repo("octo-org/app", APP_FILES)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"github_owner": "octo-org", "repositories": []}))
    k = kova.Kova(store_url, github_api_url=fake_github.url, repos_config=config, env=False)
    report = await k.discover_async(add=False)
    assert report.new == ["octo-org/app"]


def test_sync_methods_need_github(engine):
    for call in (lambda: engine.sync(), lambda: engine.discover(), lambda: engine.add_repository("a/b")):
        with pytest.raises(kova.ConfigError, match="github"):
            call()


def test_github_errors_map_to_upstream_exceptions(synced_engine, fake_github):
    fake_github.fail_with = (401, {}, {"message": "Bad credentials"})
    with pytest.raises(kova.UpstreamError) as err:
        synced_engine.add_repository("octo-org/app")
    assert err.value.status == 401 and err.value.service == "github" and not err.value.retryable
    assert GITHUB_TOKEN not in str(err.value)
    fake_github.fail_with = (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"},
                             {"message": "API rate limit exceeded"})
    with pytest.raises(kova.RateLimitedError) as err:
        synced_engine.add_repository("octo-org/app")
    assert isinstance(err.value, kova.UpstreamError) and err.value.retryable
    assert err.value.retry_after is not None and err.value.retry_after > 3600


def test_sync_status_counts_tracked_repositories(synced_engine):
    synced_engine.add_repository("octo-org/app", kind="core")
    synced_engine.add_repository("octo-org/planned")
    synced_engine.sync()
    status = synced_engine.sync_status()
    assert (status.total, status.enabled, status.active, status.planned) == (2, 2, 1, 1)
    assert status.syncing == [] and status.last_synced_at.tzinfo is not None
    assert [r.full_name for r in status.repositories] == ["octo-org/app", "octo-org/planned"]
    assert isinstance(status.repositories[0], kova.Repository)
    assert status.to_dict()["repositories"][0]["kind"] == "core"


async def test_sync_status_async(synced_engine):
    assert (await synced_engine.sync_status_async()).total == 0


def test_blocking_sync_progress_runs_in_the_callers_thread(synced_engine):
    import threading

    synced_engine.add_repository("octo-org/app")
    me = threading.get_ident()
    seen = []

    def progress(p):
        seen.append((threading.get_ident(), len(synced_engine.repositories())))

    synced_engine.sync(progress=progress)
    assert seen and all(t == me and n == 1 for t, n in seen)


async def test_blocking_call_inside_an_async_callback_raises_instead_of_deadlocking(synced_engine):
    await synced_engine.add_repository_async("octo-org/app")

    def progress(p):
        synced_engine.jobs_summary()  # blocking call on a Kova runtime thread

    with pytest.raises(RuntimeError, match="_async"):
        await synced_engine.sync_async(progress=progress)
