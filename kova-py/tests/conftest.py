"""Shared fixtures: stores, signed deliveries, and local fakes of GitHub and Anthropic.

The fakes speak the real wire formats (GitHub REST JSON with ETag and Link headers, the
Anthropic Messages API) on 127.0.0.1 and record every request, so tests assert on what Kova
sent as well as on what it stored. No test touches the internet. Every credential here is an
obviously fake value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest

import kova

WEBHOOK_SECRET = "test-webhook-secret-not-real"
GITHUB_TOKEN = "ghp_test_not_a_real_token"
ANTHROPIC_KEY = "sk-ant-test-not-a-real-key"
MODEL = "claude-sonnet-4-5"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(
    event: str,
    payload: Dict[str, Any],
    delivery_id: Optional[str] = None,
    secret: str = WEBHOOK_SECRET,
) -> Tuple[Dict[str, str], bytes]:
    """Headers and body of a signed GitHub delivery, as GitHub sends them."""
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "4242",
        "X-Hub-Signature-256": sign(body, secret),
        "User-Agent": "GitHub-Hookshot/test",
        "Content-Type": "application/json",
    }
    return headers, body


def repo_payload(full_name: str = "octo-org/app") -> Dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": 1296269,
        "name": name,
        "full_name": full_name,
        "owner": {"login": owner, "type": "Organization"},
        "default_branch": "main",
        "description": "An app",
        "language": "Rust",
        "topics": [],
    }


def ping_payload(full_name: str = "octo-org/app") -> Dict[str, Any]:
    return {
        "zen": "Keep it logically awesome.",
        "hook_id": 4242,
        "repository": repo_payload(full_name),
        "sender": {"login": "octocat", "type": "User"},
    }


def pull_request_payload(number: int = 7, head: str = "a" * 40) -> Dict[str, Any]:
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "title": "Add retries",
            "body": "Retries the flaky call.",
            "draft": False,
            "state": "open",
            "head": {"sha": head, "ref": "retries"},
            "base": {"sha": "b" * 40, "ref": "main"},
            "user": {"login": "octocat", "type": "User"},
        },
        "repository": repo_payload(),
        "sender": {"login": "octocat", "type": "User"},
    }


class Recorded:
    """One request a fake received."""

    def __init__(self, method: str, path: str, query: Dict[str, List[str]], headers: Dict[str, str], body: bytes):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    """Client hang-ups are expected (tests where Kova times out and goes away); anything else
    is still printed."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeServer:
    """A threaded HTTP server on 127.0.0.1 that records requests and answers with `route`."""

    def __init__(self, route: Callable[["FakeServer", Recorded], Tuple[int, Dict[str, str], bytes]]):
        self.requests: List[Recorded] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with fake.lock:
                    fake.requests.append(rec)
                status, headers, payload = route(fake, rec)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle
            do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self, path_prefix: str = "") -> List[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]


def _json(status: int, value: Any, **headers: str) -> Tuple[int, Dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8", **headers}, json.dumps(value).encode()


class FakeGitHub(FakeServer):
    """GitHub REST: pull request files (two pages, Link + ETag) and repositories."""

    def __init__(self) -> None:
        self.pr_files: Dict[str, List[Dict[str, Any]]] = {}
        self.repos: Dict[str, Dict[str, Any]] = {}
        self.heads: Dict[str, str] = {}
        self.files: Dict[str, Dict[str, str]] = {}
        self.fail_with: Optional[Tuple[int, Dict[str, str], Dict[str, Any]]] = None
        super().__init__(FakeGitHub._route)

    def add_repo(self, full_name: str, files: Dict[str, str], head: str = "c" * 40, **meta: Any) -> None:
        """A repository with a default branch at `head` holding `files`."""
        repo = repo_payload(full_name)
        repo.update(
            private=False, archived=False, fork=False, stargazers_count=5, forks_count=1,
            subscribers_count=2, watchers_count=5, open_issues_count=0, size=12,
            pushed_at="2026-11-01T10:00:00Z", updated_at="2026-11-01T10:00:00Z",
            html_url=f"https://github.com/{full_name}",
        )
        repo.update(meta)
        self.repos[full_name] = repo
        self.heads[full_name] = head
        self.files[full_name] = dict(files)

    def _cached(self, req: Recorded, value: Any, base: Dict[str, str]) -> Tuple[int, Dict[str, str], bytes]:
        etag = '"' + hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest() + '"'
        if req.headers.get("if-none-match") == etag:
            return 304, {**base, "ETag": etag}, b""
        return _json(200, value, **base, ETag=etag)

    def _paged(self, req: Recorded, items: List[Any], base: Dict[str, str]) -> Tuple[int, Dict[str, str], bytes]:
        page = int(req.query.get("page", ["1"])[0])
        chunk = items[page - 1 : page]  # one per page, so the client must follow Link
        headers = dict(base)
        if page < len(items):
            query = "&".join(f"{k}={v[0]}" for k, v in req.query.items() if k != "page")
            headers["Link"] = (
                f'<{self.url}{req.path}?{query}&page={page + 1}>; rel="next", '
                f'<{self.url}{req.path}?{query}&page={len(items)}>; rel="last"'
            )
        return _json(200, chunk, **headers)

    def _route(self, req: Recorded) -> Tuple[int, Dict[str, str], bytes]:
        base = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": "4102444800",
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
        }
        if self.fail_with is not None:
            status, headers, body = self.fail_with
            return _json(status, body, **{**base, **headers})
        parts = req.path.strip("/").split("/")
        if len(parts) == 6 and parts[0] == "repos" and parts[3] == "pulls" and parts[5] == "files":
            files = self.pr_files.get(f"{parts[1]}/{parts[2]}#{parts[4]}")
            if files is None:
                return _json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, **base)
            page = int(req.query.get("page", ["1"])[0])
            per_page = 1  # force pagination so the client must follow Link
            chunk = files[(page - 1) * per_page : page * per_page]
            etag = '"' + hashlib.sha1(json.dumps(chunk).encode()).hexdigest() + '"'
            if req.headers.get("if-none-match") == etag:
                return 304, {**base, "ETag": etag}, b""
            headers = {**base, "ETag": etag}
            if page * per_page < len(files):
                nxt = f"{self.url}{req.path}?per_page=100&page={page + 1}"
                last = f"{self.url}{req.path}?per_page=100&page={len(files)}"
                headers["Link"] = f'<{nxt}>; rel="next", <{last}>; rel="last"'
            return _json(200, chunk, **headers)
        if len(parts) == 2 and parts[0] == "users":
            return _json(200, {"login": parts[1], "type": "Organization"}, **base)
        if len(parts) == 3 and parts[0] == "orgs" and parts[2] == "repos":
            owned = [r for n, r in sorted(self.repos.items()) if n.split("/")[0] == parts[1]]
            return self._paged(req, owned, base)
        if parts == ["search", "repositories"]:
            return _json(200, {"total_count": 0, "incomplete_results": False, "items": []}, **base)
        if len(parts) >= 3 and parts[0] == "repos":
            name = f"{parts[1]}/{parts[2]}"
            repo = self.repos.get(name)
            if repo is None:
                return _json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, **base)
            rest = parts[3:]
            files = self.files[name]
            head = self.heads[name]
            if not rest:
                return self._cached(req, repo, base)
            if rest == ["commits"]:
                commit = {"sha": head, "commit": {"message": "Update", "author": {"name": "Octo", "date": "2026-11-01T10:00:00Z"}}}
                return self._cached(req, [commit], base)
            if rest[:2] == ["git", "trees"]:
                tree = [
                    {"path": p, "mode": "100644", "type": "blob", "sha": hashlib.sha1(c.encode()).hexdigest(), "size": len(c)}
                    for p, c in sorted(files.items())
                ]
                return self._cached(req, {"sha": head, "url": "", "tree": tree, "truncated": False}, base)
            if rest == ["languages"]:
                return self._cached(req, {"Rust": 4096, "Python": 512}, base)
            if rest[0] == "contents":
                path = "/".join(rest[1:])
                if path not in files:
                    return _json(404, {"message": "Not Found"}, **base)
                content = files[path].encode()
                return self._cached(req, {
                    "type": "file", "encoding": "base64", "size": len(content), "name": path.split("/")[-1],
                    "path": path, "sha": hashlib.sha1(content).hexdigest(),
                    "content": base64.encodebytes(content).decode(),
                }, base)
        return _json(404, {"message": "Not Found"}, **base)


class FakeAnthropic(FakeServer):
    """Anthropic Messages API: answers `POST /v1/messages` with scripted texts."""

    def __init__(self) -> None:
        self.answers: List[str] = []
        self.default_answer = "Looks good."
        self.fail_with: Optional[Tuple[int, Dict[str, str], Dict[str, Any]]] = None
        super().__init__(FakeAnthropic._route)

    def _route(self, req: Recorded) -> Tuple[int, Dict[str, str], bytes]:
        if req.method != "POST" or req.path != "/v1/messages":
            return _json(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})
        if req.headers.get("x-api-key") != ANTHROPIC_KEY:
            return _json(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        if self.fail_with is not None:
            status, headers, body = self.fail_with
            return _json(status, body, **headers)
        ask = req.json()
        with self.lock:
            text = self.answers.pop(0) if self.answers else self.default_answer
        message = {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": ask.get("model", MODEL),
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": 120,
                "output_tokens": 30,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }
        return _json(200, message, **{"request-id": "req_test"})


@pytest.fixture
def fake_github():
    server = FakeGitHub()
    yield server
    server.close()


@pytest.fixture
def fake_anthropic():
    server = FakeAnthropic()
    yield server
    server.close()


# PostgreSQL runs when a test database is named (as for the Rust tests), each test in a schema
# of its own, dropped when the session ends.
POSTGRES_URL = os.environ.get("KOVA_TEST_POSTGRES_URL")
_pg_schemas: List[str] = []


def pytest_report_header(config):
    if not POSTGRES_URL:
        return "notice: KOVA_TEST_POSTGRES_URL is not set: the postgres store is not tested"
    return None


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schemas():
    yield
    if not _pg_schemas:
        return
    if shutil.which("psql") is None:
        print(f"notice: psql not found: schemas {', '.join(_pg_schemas)} were left in place")
        return
    names = ", ".join(f'"{s}"' for s in _pg_schemas)
    subprocess.run(
        ["psql", POSTGRES_URL, "-qc", f"DROP SCHEMA IF EXISTS {names} CASCADE"],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.fixture(params=["memory", "sqlite"] + (["postgres"] if POSTGRES_URL else []))
def store_url(request, tmp_path) -> str:
    if request.param == "memory":
        return "memory:"
    if request.param == "postgres":
        schema = f"kova_py_{uuid.uuid4().hex[:16]}"
        _pg_schemas.append(schema)
        sep = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{sep}schema={schema}"
    return f"sqlite://{tmp_path / 'kova.db'}"


@pytest.fixture
def engine(store_url) -> kova.Kova:
    """An engine with a webhook secret and nothing else, ignoring the environment."""
    return kova.Kova(store_url, webhook_secrets=[WEBHOOK_SECRET], env=False)


@pytest.fixture
def full_engine(store_url, fake_github, fake_anthropic) -> kova.Kova:
    """An engine wired to the fake GitHub and the fake Anthropic."""
    return kova.Kova(
        store_url,
        webhook_secrets=[WEBHOOK_SECRET],
        github_token=GITHUB_TOKEN,
        github_api_url=fake_github.url,
        anthropic_api_key=ANTHROPIC_KEY,
        anthropic_base_url=fake_anthropic.url,
        model=MODEL,
        env=False,
    )
