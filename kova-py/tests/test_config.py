"""Construction from arguments and the environment, standalone functions, error mapping."""

from __future__ import annotations

import json

import pytest

import kova
from conftest import ANTHROPIC_KEY, GITHUB_TOKEN, WEBHOOK_SECRET, delivery, ping_payload

ENV_VARS = [
    "KOVA_DATABASE_URL", "DATABASE_URL", "KOVA_GITHUB_TOKEN", "GITHUB_TOKEN", "KOVA_GITHUB_API_URL",
    "KOVA_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY", "KOVA_ANTHROPIC_BASE_URL", "ANTHROPIC_BASE_URL",
    "KOVA_CLAUDE_MODEL", "KOVA_GITHUB_WEBHOOK_SECRET", "GITHUB_WEBHOOK_SECRET",
    "KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET", "KOVA_REPOS_CONFIG",
]

REPOS_FILE = {
    "github_owner": "octo-org",
    "repositories": [
        {"name": "app", "full_name": "octo-org/app", "type": "core", "sync_priority": 1,
         "features": ["api"], "respond": True},
        {"name": "web", "full_name": "octo-org/web", "type": "frontend", "enabled": False},
    ],
    "worlds": ["alpha"],
    "sync_settings": {"auto_sync_enabled": True, "sync_interval_minutes": 15},
    "discovery_settings": {"repo_name_pattern": "app-*"},
    "integration_settings": {"claude_api_enabled": True},
}


@pytest.fixture
def clean_env(monkeypatch):
    for v in ENV_VARS:
        monkeypatch.delenv(v, raising=False)
    return monkeypatch


def test_defaults_to_an_in_memory_store_and_nothing_configured(clean_env):
    k = kova.Kova()
    assert k.store_backend == "memory" and kova.DEFAULT_STORE == "memory:"
    assert not k.llm_configured and not k.github_configured


def test_environment_configures_what_arguments_leave_unset(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", f"sqlite://{tmp_path / 'env.db'}")
    clean_env.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    clean_env.setenv("KOVA_GITHUB_API_URL", "http://127.0.0.1:9/api/v3")
    clean_env.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    clean_env.setenv("KOVA_CLAUDE_MODEL", "claude-haiku-4-5")
    clean_env.setenv("GITHUB_WEBHOOK_SECRET", f"older-not-real, {WEBHOOK_SECRET}")
    clean_env.setenv("KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET", "old-not-real")
    k = kova.Kova()
    assert k.store_backend == "sqlite" and (tmp_path / "env.db").exists()
    assert k.llm_configured and k.github_configured
    text = repr(k)
    assert "webhook_secrets=3" in text and "claude-haiku-4-5" in text and "127.0.0.1:9/api/v3" in text
    for secret in (GITHUB_TOKEN, ANTHROPIC_KEY, WEBHOOK_SECRET, "old-not-real", "older-not-real"):
        assert secret not in text
    assert k.ingest_webhook(*delivery("ping", ping_payload(), secret="old-not-real")).accepted
    # Arguments win over the environment; env=False ignores it entirely.
    assert kova.Kova("memory:").store_backend == "memory"
    bare = kova.Kova(env=False)
    assert bare.store_backend == "memory" and not bare.llm_configured and not bare.github_configured


def test_repos_config_from_the_environment_and_argument(clean_env, tmp_path):
    path = tmp_path / "kova_repos_config.json"
    path.write_text(json.dumps(REPOS_FILE))
    clean_env.setenv("KOVA_REPOS_CONFIG", str(path))
    assert str(path) in repr(kova.Kova())
    assert str(path) in repr(kova.Kova(repos_config=path, env=False))


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"store": "mysql://u:hunter2@h/db"}, kova.ConfigError),
        ({"store": "memory:/x"}, kova.ConfigError),
        ({"store": "sqlite:///nonexistent-dir-for-kova/kova.db"}, kova.StoreError),
        ({"github_api_url": "ftp://example.invalid"}, kova.ConfigError),
        ({"anthropic_api_key": ANTHROPIC_KEY, "anthropic_base_url": "not a url"}, kova.ConfigError),
        ({"repos_config": "/nonexistent/kova_repos_config.json"}, kova.ConfigError),
        ({"poll_interval": -1.0}, kova.InvalidInputError),
        ({"lease": 0.5}, kova.InvalidInputError),
    ],
)
def test_bad_configuration_raises(kwargs, error):
    with pytest.raises(error) as err:
        kova.Kova(env=False, **kwargs)
    assert isinstance(err.value, kova.KovaError)
    assert "hunter2" not in str(err.value) and ANTHROPIC_KEY not in str(err.value)


def test_store_error_attributes():
    with pytest.raises(kova.StoreError) as err:
        kova.Kova("sqlite:///nonexistent-dir-for-kova/kova.db", env=False)
    assert err.value.backend == "sqlite" and err.value.retryable is False


def test_wrong_types_in_the_constructor():
    with pytest.raises(TypeError):
        kova.Kova(env=False, webhook_secrets="one-string-not-a-list")
    with pytest.raises(TypeError):
        kova.Kova(42)


def test_exception_hierarchy():
    for cls in (kova.InvalidInputError, kova.SignatureError, kova.NotFoundError, kova.ConflictError,
                kova.UpstreamError, kova.RateLimitedError, kova.StoreError, kova.ConfigError):
        assert issubclass(cls, kova.KovaError) and cls.__module__ == "kova"
    assert issubclass(kova.RateLimitedError, kova.UpstreamError)
    assert issubclass(kova.KovaError, Exception)


def test_verify_signature_with_githubs_test_vector():
    secret, body = "It's a Secret to Everybody", b"Hello, World!"
    good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert kova.verify_signature(secret, body, good) is True
    assert kova.verify_signature(["rotated-out-not-real", secret], body, good) is True
    assert kova.verify_signature(secret, body + b"!", good) is False
    assert kova.verify_signature("other-not-real", body, good) is False
    assert kova.verify_signature(secret, body, None) is False
    assert kova.verify_signature(secret, body, "sha256=nothex") is False
    assert kova.verify_signature(secret, body, "sha1=" + "0" * 40) is False
    assert kova.verify_signature(secret, body, good.upper().replace("SHA256", "sha256")) is True
    with pytest.raises(kova.SignatureError) as err:
        kova.verify_signature("", body, good)
    assert err.value.reason == "no_secret_configured"
    with pytest.raises(TypeError):
        kova.verify_signature(secret, "text", good)


def test_parse_repos_config(tmp_path):
    path = tmp_path / "kova_repos_config.json"
    path.write_text(json.dumps(REPOS_FILE))
    c = kova.parse_repos_config(path)
    assert c.github_owner == "octo-org"
    app, web = c.repositories
    assert (app.full_name, app.kind, app.sync_priority, app.features) == ("octo-org/app", "core", 1, ["api"])
    assert app.extra == {"respond": True} and app.enabled and not web.enabled and web.sync_priority == 3
    assert c.sync_settings["sync_interval_minutes"] == 15
    assert c.discovery_settings["repo_name_pattern"] == "app-*"
    assert c.extra == {"worlds": ["alpha"]}
    assert c.to_dict()["repositories"][1]["full_name"] == "octo-org/web"
    assert "octo-org" in repr(c) and repr(app).startswith("RepoEntry(full_name='octo-org/app'")
    again = tmp_path / "again.json"
    again.write_text(c.to_json())
    assert kova.parse_repos_config(str(again)) == c
    assert list(json.loads(c.to_json()))[:2] == ["github_owner", "repositories"]


def test_parse_repos_config_names_the_field(tmp_path):
    bad = dict(REPOS_FILE, repositories=[{"name": "app", "full_name": "octo-org/app", "type": "world"}])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(kova.InvalidInputError) as err:
        kova.parse_repos_config(path)
    assert err.value.field == "repositories[0].type"
    assert str(err.value) == "invalid repositories[0].type: must be core|service|frontend|experimental (got 'world')"
    path.write_text("{not json")
    with pytest.raises(kova.InvalidInputError):
        kova.parse_repos_config(path)
    with pytest.raises(kova.ConfigError):
        kova.parse_repos_config(tmp_path / "missing.json")
