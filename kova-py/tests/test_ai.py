"""Artifacts, code analysis, AI commands and scans, against the fake Anthropic and GitHub."""

from __future__ import annotations

import pytest

import kova
from conftest import ANTHROPIC_KEY, MODEL
from test_sync import APP_FILES


def test_generate_artifact_validates_stores_and_records_usage(full_engine, fake_anthropic):
    fake_anthropic.answers.append("Here you go:\n```python\nprint('hello')\n```\n")
    out = full_engine.generate_artifact("code", "hello script", language="python", description="Print hello.")
    assert isinstance(out, kova.GeneratedArtifact) and not out.replayed
    a = out.artifact
    assert isinstance(a, kova.Artifact)
    assert (a.kind, a.language, a.validation, a.version) == ("code", "python", "valid", 1)
    assert a.content.strip() == "print('hello')" and a.usage.output_tokens == 30 and a.model == MODEL
    assert full_engine.artifact(a.id) == a
    assert full_engine.usage_totals().calls == 1
    (ask,) = fake_anthropic.received("/v1/messages")
    assert "Print hello." in str(ask.json()["messages"])


def test_idempotency_key_replays_without_a_second_call(full_engine, fake_anthropic):
    fake_anthropic.default_answer = "```json\n{\"a\": 1}\n```"
    first = full_engine.generate_artifact("data", "numbers", format="json", idempotency_key="req-1")
    again = full_engine.generate_artifact("data", "numbers", format="json", idempotency_key="req-1")
    assert again.replayed and again.artifact.id == first.artifact.id
    assert len(fake_anthropic.received("/v1/messages")) == 1


def test_invalid_output_is_repaired_once(full_engine, fake_anthropic):
    fake_anthropic.answers.extend(["```json\n{not json\n```", "```json\n{\"ok\": true}\n```"])
    out = full_engine.generate_artifact("data", "flags", format="json")
    assert out.artifact.validation == "repaired" and '"ok"' in out.artifact.content
    assert full_engine.usage_totals().calls == 2


async def test_generate_and_analyze_async(full_engine, fake_anthropic):
    fake_anthropic.answers.extend(["```mermaid\ngraph TD; A-->B\n```", "No issues found."])
    diagram = await full_engine.generate_artifact_async("diagram", "flow", description="A to B")
    assert diagram.artifact.kind == "diagram" and diagram.artifact.validation == "valid"
    analysis = await full_engine.analyze_code_async("def f():\n    return 1\n", language="python")
    assert analysis.artifact.kind == "analysis" and "No issues" in analysis.artifact.content


def test_analyze_code(full_engine, fake_anthropic):
    fake_anthropic.answers.append("The loop never ends: add a bound.")
    out = full_engine.analyze_code("while True: pass\n", language="python", analysis_type="bugs", file_path="loop.py")
    assert out.artifact.kind == "analysis" and "never ends" in out.artifact.content
    assert out.to_dict()["artifact"]["kind"] == "analysis"


def test_bad_requests_raise_before_any_call(full_engine, fake_anthropic):
    with pytest.raises(kova.InvalidInputError) as err:
        full_engine.generate_artifact("poem", "roses")
    assert err.value.field == "kind"
    with pytest.raises(kova.InvalidInputError):
        full_engine.analyze_code("")
    with pytest.raises(kova.InvalidInputError):
        full_engine.command("   ")
    with pytest.raises(kova.InvalidInputError):
        full_engine.generate_artifact("code", "x", repository="nope")
    assert fake_anthropic.received() == []


def test_ai_methods_need_an_llm(engine):
    with pytest.raises(kova.ConfigError, match="llm"):
        engine.generate_artifact("code", "x", language="python")
    with pytest.raises(kova.ConfigError):
        engine.command("hello")


@pytest.mark.parametrize(
    "status, headers, body, error, attrs",
    [
        (429, {"retry-after": "7", "x-should-retry": "false"},
         {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
         kova.RateLimitedError, {"retry_after": 7.0, "service": "anthropic", "retryable": True}),
        (500, {"x-should-retry": "false"},
         {"type": "error", "error": {"type": "api_error", "message": "boom"}},
         kova.UpstreamError, {"status": 500, "service": "anthropic", "retryable": True, "retry_after": None}),
        (503, {"retry-after": "900"},
         {"type": "error", "error": {"type": "api_error", "message": "maintenance"}},
         kova.UpstreamError, {"status": 503, "retry_after": 900.0, "retryable": True}),
        (400, {}, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}},
         kova.KovaError, {"retryable": False}),
    ],
)
def test_anthropic_errors_map_to_exceptions(full_engine, fake_anthropic, status, headers, body, error, attrs):
    fake_anthropic.fail_with = (status, headers, body)
    with pytest.raises(error) as err:
        full_engine.command("hello")
    for k, v in attrs.items():
        assert getattr(err.value, k) == v, k
    assert ANTHROPIC_KEY not in str(err.value)


def test_wrong_key_is_an_upstream_401(store_url, fake_anthropic):
    k = kova.Kova(store_url, anthropic_api_key="sk-ant-wrong-not-real", anthropic_base_url=fake_anthropic.url, env=False)
    with pytest.raises(kova.UpstreamError) as err:
        k.command("hello")
    assert err.value.status == 401 and "sk-ant-wrong" not in str(err.value)


async def test_rate_limit_async(full_engine, fake_anthropic):
    fake_anthropic.fail_with = (429, {"retry-after": "3", "x-should-retry": "false"},
                                {"type": "error", "error": {"type": "rate_limit_error", "message": "later"}})
    with pytest.raises(kova.RateLimitedError) as err:
        await full_engine.command_async("hello")
    assert err.value.retry_after == 3.0


def test_command_free_form_and_about_a_repository(full_engine, fake_anthropic, fake_github):
    fake_anthropic.answers.append("Kova automates GitHub with Claude.")
    r = full_engine.command("Describe Kova in one line")
    assert isinstance(r, kova.CommandResponse)
    assert r.answer == "Kova automates GitHub with Claude." and r.usage.input_tokens == 120
    assert full_engine.interactions()[0].id == r.interaction_id
    fake_github.add_repo("octo-org/app", APP_FILES)
    fake_anthropic.answers.append("It depends on serde and tokio.")
    r = full_engine.command("What does it depend on?", action="ask", repository="octo-org/app")
    assert r.action == "ask" and r.repository == "octo-org/app" and "serde" in r.answer
    assert any(f["path"] == "Cargo.toml" for f in r.files_used)


async def test_command_async(full_engine, fake_anthropic):
    fake_anthropic.answers.append("Fine.")
    r = await full_engine.command_async("How are things?", model=MODEL, max_tokens=100)
    assert r.answer == "Fine." and r.model == MODEL


def test_scan_local_directory(full_engine, tmp_path):
    tmp_path = tmp_path / "project"  # beside, not around, the SQLite store's files
    (tmp_path / "src").mkdir(parents=True)
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    (tmp_path / "Cargo.toml").write_text(APP_FILES["Cargo.toml"])
    (tmp_path / "tool.py").write_text("print(1)\n")
    report = full_engine.scan(path=tmp_path)
    assert isinstance(report, kova.ScanReport)
    assert report.file_count == 3 and not report.truncated and report.target["type"] == "local"
    assert {"Rust", "Python"} <= set(report.languages)
    assert any(m["path"] == "Cargo.toml" for m in report.manifests)


async def test_scan_repository_async(full_engine, fake_github):
    fake_github.add_repo("octo-org/app", APP_FILES)
    report = await full_engine.scan_async(repository="octo-org/app")
    assert report.file_count == 3 and report.target["repository"] == "octo-org/app"
    assert report.host_languages == {"Rust": 4096, "Python": 512}


def test_scan_needs_exactly_one_target(full_engine, tmp_path):
    for kwargs in ({}, {"repository": "octo-org/app", "path": tmp_path}):
        with pytest.raises(kova.InvalidInputError) as err:
            full_engine.scan(**kwargs)
        assert err.value.field == "target"
    with pytest.raises(kova.KovaError):
        full_engine.scan(path=tmp_path / "missing")


def test_scan_repository_needs_github(engine):
    with pytest.raises(kova.ConfigError):
        engine.scan(repository="octo-org/app")


def test_sync_command_action_uses_the_sync_service(full_engine, fake_github, fake_anthropic):
    fake_github.add_repo("octo-org/app", APP_FILES)
    full_engine.add_repository("octo-org/app")
    fake_anthropic.answers.append("Synced.")
    r = full_engine.command("sync it", action="sync", repository="octo-org/app")
    assert r.action == "sync" and r.data is not None
    assert full_engine.repository("octo-org/app").head_sha == "c" * 40


def test_engine_without_webhook_secret_still_generates(store_url, fake_anthropic):
    k = kova.Kova(store_url, anthropic_api_key=ANTHROPIC_KEY, anthropic_base_url=fake_anthropic.url, env=False)
    fake_anthropic.answers.append("```yaml\nkey: value\n```")
    assert k.generate_artifact("config", "settings", format="yaml").artifact.validation == "valid"


def test_supported_types_describe_what_generation_accepts():
    t = kova.supported_types()
    assert {k["kind"] for k in t.kinds} >= {"code", "document", "diagram", "config", "data"}
    assert any(lang["id"] == "python" for lang in t.languages)
    assert any(f["id"] == "yaml" for f in t.config_formats)
    assert "ask" in t.command_actions
    assert t.to_dict()["analysis_types"] == t.analysis_types and repr(t).startswith("SupportedTypes(command_actions=[")
