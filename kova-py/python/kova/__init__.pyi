"""Type stubs for kova (the compiled module kova._kova, re-exported by kova)."""

import datetime
import os
from typing import (
    Any,
    Awaitable,
    Callable,
    Generic,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    final,
)

__all__ = [
    "DEFAULT_STORE",
    "AddOutcome",
    "Artifact",
    "CommandResponse",
    "ConfigError",
    "ConflictError",
    "DiscoverReport",
    "Event",
    "GeneratedArtifact",
    "IngestResult",
    "Interaction",
    "InvalidInputError",
    "Job",
    "JobsSummary",
    "Kova",
    "KovaError",
    "NotFoundError",
    "Page",
    "ProcessReport",
    "RateLimitedError",
    "RepoEntry",
    "RepoError",
    "RepoSyncResult",
    "ReposConfig",
    "Repository",
    "ScanReport",
    "SignatureError",
    "StoreError",
    "SyncProgress",
    "SyncReport",
    "SupportedTypes",
    "SyncStatus",
    "SyncTotals",
    "UpstreamError",
    "Usage",
    "UsageTotals",
    "parse_repos_config",
    "supported_types",
    "verify_signature",
    "__version__",
]

__version__: str
DEFAULT_STORE: str
"""The store used when neither ``store=`` nor ``DATABASE_URL`` is set: ``"memory:"``."""

_T = TypeVar("_T")
_Headers = Union[Mapping[str, str], Iterable[Tuple[str, str]]]
_Body = Union[bytes, bytearray, memoryview]
_JSON = Any

# ---- exceptions -------------------------------------------------------------------------

class KovaError(Exception):
    """Base of every Kova error."""

    retryable: bool
    """Whether trying again later may succeed."""

class InvalidInputError(KovaError):
    """Input failed validation."""

    field: Optional[str]
    """The argument, header or field that was wrong."""

class SignatureError(KovaError):
    """A webhook signature was missing, malformed or wrong."""

    reason: Optional[str]
    """"missing", "malformed", "unsupported_algorithm", "mismatch" or "no_secret_configured"."""

class NotFoundError(KovaError):
    """The thing asked for does not exist."""

class ConflictError(KovaError):
    """The thing to create exists already, or the operation lost a race."""

class UpstreamError(KovaError):
    """GitHub or Anthropic failed or refused."""

    service: Optional[str]
    status: Optional[int]
    """The HTTP status, when known."""
    retry_after: Optional[float]
    """Seconds the service asked us to wait before trying again, if it said."""

class RateLimitedError(UpstreamError):
    """An upstream service asked us to slow down; ``retry_after`` says how long, if it said."""

class StoreError(KovaError):
    """The storage backend failed."""

    backend: Optional[str]

class ConfigError(KovaError):
    """Configuration is wrong or missing."""

# ---- records ----------------------------------------------------------------------------

@final
class Page(Generic[_T]):
    """One page of a list. Pass ``next_cursor`` back as ``cursor=`` for the next page."""

    @property
    def items(self) -> List[_T]: ...
    @property
    def next_cursor(self) -> Optional[str]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int, /) -> _T: ...
    def __iter__(self) -> Iterator[_T]: ...
    def to_dict(self) -> dict[str, Any]: ...
    @classmethod
    def __class_getitem__(cls, item: Any) -> Any: ...

@final
class Usage:
    """Tokens one LLM call (or a sum of calls) used."""

    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cache_read_tokens(self) -> int: ...
    @property
    def cache_creation_tokens(self) -> int: ...
    @property
    def total_input(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class IngestResult:
    """What ingesting one webhook delivery did."""

    @property
    def status(self) -> str:
        """"accepted" or "duplicate"."""
    @property
    def accepted(self) -> bool: ...
    @property
    def duplicate(self) -> bool: ...
    @property
    def event_id(self) -> int: ...
    @property
    def delivery_id(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def handler(self) -> Optional[str]: ...
    @property
    def job_id(self) -> Optional[int]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class ProcessReport:
    """What a round of job processing did."""

    @property
    def claimed(self) -> int: ...
    @property
    def completed(self) -> int: ...
    @property
    def retried(self) -> int: ...
    @property
    def deferred(self) -> int:
        """Jobs refused by a rate limit and queued again without spending an attempt."""
    @property
    def dead(self) -> int: ...
    @property
    def lost(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Repository:
    """A repository Kova tracks."""

    @property
    def full_name(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> Optional[str]: ...
    @property
    def default_branch(self) -> Optional[str]: ...
    @property
    def kind(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def sync_priority(self) -> int: ...
    @property
    def features(self) -> List[str]: ...
    @property
    def topics(self) -> List[str]: ...
    @property
    def language(self) -> Optional[str]: ...
    @property
    def status(self) -> str: ...
    @property
    def last_synced_at(self) -> Optional[datetime.datetime]: ...
    @property
    def head_sha(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def updated_at(self) -> datetime.datetime: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Event:
    """A stored webhook event."""

    @property
    def id(self) -> int: ...
    @property
    def delivery_id(self) -> str: ...
    @property
    def hook_id(self) -> Optional[int]: ...
    @property
    def event(self) -> str: ...
    @property
    def action(self) -> Optional[str]: ...
    @property
    def repo(self) -> Optional[str]: ...
    @property
    def installation_id(self) -> Optional[int]: ...
    @property
    def sender(self) -> Optional[str]: ...
    @property
    def target_type(self) -> Optional[str]: ...
    @property
    def target_id(self) -> Optional[int]: ...
    @property
    def user_agent(self) -> Optional[str]: ...
    @property
    def status(self) -> str:
        """"received", "processed", "failed" or "ignored"."""
    @property
    def received_at(self) -> datetime.datetime: ...
    @property
    def body(self) -> bytes: ...
    def payload(self) -> _JSON:
        """The body parsed as JSON."""
    def to_dict(self) -> dict[str, Any]: ...

@final
class Artifact:
    """A generated artifact."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def language(self) -> Optional[str]: ...
    @property
    def repo(self) -> Optional[str]: ...
    @property
    def source(self) -> str: ...
    @property
    def source_id(self) -> Optional[int]: ...
    @property
    def validation(self) -> str: ...
    @property
    def validation_detail(self) -> Optional[str]: ...
    @property
    def model(self) -> Optional[str]: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def cost_usd(self) -> Optional[float]: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def idempotency_key(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Interaction:
    """One recorded LLM call."""

    @property
    def id(self) -> int: ...
    @property
    def purpose(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def prompt_digest(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def response(self) -> str: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def cost_usd(self) -> Optional[float]: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def success(self) -> bool: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def repo(self) -> Optional[str]: ...
    @property
    def event_id(self) -> Optional[int]: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class UsageTotals:
    """Sums over a set of LLM calls."""

    @property
    def calls(self) -> int: ...
    @property
    def failures(self) -> int: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def cost_usd(self) -> float: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class JobsSummary:
    """Queue counts by status."""

    @property
    def queued(self) -> int: ...
    @property
    def running(self) -> int: ...
    @property
    def done(self) -> int: ...
    @property
    def dead(self) -> int: ...
    @property
    def superseded(self) -> int: ...
    @property
    def oldest_queued_at(self) -> Optional[datetime.datetime]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Job:
    """A job in the queue."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def event_id(self) -> Optional[int]: ...
    @property
    def payload(self) -> _JSON: ...
    @property
    def dedupe_key(self) -> Optional[str]: ...
    @property
    def coalesce_key(self) -> Optional[str]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def run_at(self) -> datetime.datetime: ...
    @property
    def lease_until(self) -> Optional[datetime.datetime]: ...
    @property
    def leased_by(self) -> Optional[str]: ...
    @property
    def status(self) -> str: ...
    @property
    def last_error(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    @property
    def updated_at(self) -> datetime.datetime: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RepoError:
    """An error found in a repository and Kova's analysis of it."""

    @property
    def id(self) -> int: ...
    @property
    def repo(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def head_sha(self) -> Optional[str]: ...
    @property
    def url(self) -> Optional[str]: ...
    @property
    def analysis(self) -> Optional[str]: ...
    @property
    def created_at(self) -> datetime.datetime: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RepoEntry:
    """One entry of the repositories file."""

    @property
    def full_name(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> Optional[str]: ...
    @property
    def kind(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def sync_priority(self) -> int: ...
    @property
    def features(self) -> List[str]: ...
    @property
    def extra(self) -> dict[str, Any]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class ReposConfig:
    """The repositories file, validated."""

    @property
    def github_owner(self) -> str: ...
    @property
    def repositories(self) -> List[RepoEntry]: ...
    @property
    def sync_settings(self) -> dict[str, Any]: ...
    @property
    def discovery_settings(self) -> dict[str, Any]: ...
    @property
    def integration_settings(self) -> dict[str, Any]: ...
    @property
    def extra(self) -> dict[str, Any]: ...
    def to_json(self) -> str:
        """The file's text in its original format."""
    def to_dict(self) -> dict[str, Any]: ...

# ---- service results --------------------------------------------------------------------

@final
class GeneratedArtifact:
    """A generated or analysed artifact; ``replayed`` when an earlier request with the same
    idempotency key produced it and no LLM call was made."""

    @property
    def artifact(self) -> Artifact: ...
    @property
    def replayed(self) -> bool: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class CommandResponse:
    """The answer to an AI command."""

    @property
    def action(self) -> str: ...
    @property
    def command(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def repository(self) -> Optional[str]: ...
    @property
    def files_used(self) -> List[dict[str, Any]]: ...
    @property
    def data(self) -> _JSON: ...
    @property
    def model(self) -> str: ...
    @property
    def usage(self) -> Usage: ...
    @property
    def cost_usd(self) -> Optional[float]: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def interaction_id(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class ScanReport:
    """What a scan of a repository or a local directory found."""

    @property
    def target(self) -> dict[str, Any]: ...
    @property
    def file_count(self) -> int: ...
    @property
    def directory_count(self) -> int: ...
    @property
    def total_bytes(self) -> int: ...
    @property
    def languages(self) -> dict[str, dict[str, int]]: ...
    @property
    def host_languages(self) -> Optional[dict[str, int]]: ...
    @property
    def manifests(self) -> List[dict[str, Any]]: ...
    @property
    def files(self) -> List[dict[str, Any]]: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def notes(self) -> List[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SyncTotals:
    """Counts of a sync run."""

    @property
    def repos(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def unchanged(self) -> int: ...
    @property
    def missing(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def requests(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class RepoSyncResult:
    """One repository's sync."""

    @property
    def repo(self) -> str: ...
    @property
    def outcome(self) -> str:
        """"updated", "unchanged", "missing" or "failed"."""
    @property
    def status(self) -> str: ...
    @property
    def sync_log_id(self) -> Optional[int]: ...
    @property
    def joined(self) -> bool: ...
    @property
    def started_at(self) -> datetime.datetime: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def attempts(self) -> int: ...
    @property
    def files(self) -> int: ...
    @property
    def manifests(self) -> int: ...
    @property
    def tree_truncated(self) -> bool: ...
    @property
    def head_sha(self) -> Optional[str]: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def summary(self) -> Optional[dict[str, Any]]: ...
    @property
    def summary_artifact_id(self) -> Optional[int]: ...
    @property
    def analysis(self) -> Optional[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SyncReport:
    """The result of a sync run."""

    @property
    def started_at(self) -> datetime.datetime: ...
    @property
    def finished_at(self) -> datetime.datetime: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def results(self) -> List[RepoSyncResult]: ...
    @property
    def skipped(self) -> List[dict[str, Any]]: ...
    @property
    def totals(self) -> SyncTotals: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SyncProgress:
    """One step of one repository's sync, passed to a ``progress`` callback."""

    @property
    def repo(self) -> str: ...
    @property
    def stage(self) -> str:
        """"started", "joined", "metadata", "unchanged", "tree", "manifests", "analysis",
        "retrying", "done" or "failed"."""
    @property
    def at(self) -> datetime.datetime: ...
    @property
    def files(self) -> Optional[int]: ...
    @property
    def truncated(self) -> Optional[bool]: ...
    @property
    def count(self) -> Optional[int]: ...
    @property
    def attempt(self) -> Optional[int]: ...
    @property
    def wait_ms(self) -> Optional[int]: ...
    @property
    def outcome(self) -> Optional[str]: ...
    @property
    def error(self) -> Optional[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SupportedTypes:
    """What generate_artifact, analyze_code and command accept."""

    @property
    def kinds(self) -> List[dict[str, Any]]: ...
    @property
    def languages(self) -> List[dict[str, Any]]: ...
    @property
    def config_formats(self) -> List[dict[str, Any]]: ...
    @property
    def document_formats(self) -> List[str]: ...
    @property
    def diagram_formats(self) -> List[str]: ...
    @property
    def data_formats(self) -> List[str]: ...
    @property
    def diagram_types(self) -> List[str]: ...
    @property
    def analysis_types(self) -> List[str]: ...
    @property
    def command_actions(self) -> List[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class SyncStatus:
    """How the tracked repositories stand."""

    @property
    def owner(self) -> Optional[str]: ...
    @property
    def total(self) -> int: ...
    @property
    def enabled(self) -> int: ...
    @property
    def planned(self) -> int: ...
    @property
    def active(self) -> int: ...
    @property
    def archived(self) -> int: ...
    @property
    def error(self) -> int: ...
    @property
    def syncing(self) -> List[str]: ...
    @property
    def last_synced_at(self) -> Optional[datetime.datetime]: ...
    @property
    def auto_sync_enabled(self) -> bool: ...
    @property
    def sync_interval_minutes(self) -> int: ...
    @property
    def sync_on_push(self) -> bool: ...
    @property
    def repositories(self) -> List[Repository]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class DiscoverReport:
    """What discovery found."""

    @property
    def owner(self) -> str: ...
    @property
    def pattern(self) -> Optional[str]: ...
    @property
    def scanned(self) -> int: ...
    @property
    def matched(self) -> List[dict[str, Any]]: ...
    @property
    def new(self) -> List[str]: ...
    @property
    def added(self) -> List[str]: ...
    @property
    def add_errors(self) -> List[Tuple[str, str]]: ...
    @property
    def topics(self) -> List[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class AddOutcome:
    """The result of adding a repository."""

    @property
    def repository(self) -> Repository: ...
    @property
    def found(self) -> bool: ...
    @property
    def existed(self) -> bool: ...
    @property
    def saved_config(self) -> bool: ...
    def to_dict(self) -> dict[str, Any]: ...

# ---- functions --------------------------------------------------------------------------

def verify_signature(
    secret: Union[str, Sequence[str]], body: bytes, header: Optional[str]
) -> bool:
    """Checks an ``X-Hub-Signature-256`` value in constant time.

    Returns False for a missing, malformed, SHA-1 or wrong signature; raises SignatureError
    (reason "no_secret_configured") when no non-empty secret is given.
    """

def supported_types() -> SupportedTypes:
    """The kinds, languages and formats generate_artifact accepts."""

def parse_repos_config(path: Union[str, os.PathLike[str]]) -> ReposConfig:
    """Reads and validates a repositories file; InvalidInputError names the field."""

# ---- the engine -------------------------------------------------------------------------

@final
class Kova:
    """The Kova engine.

    Unset arguments come from the environment (unless ``env=False``): ``store`` from
    KOVA_DATABASE_URL or DATABASE_URL (default ``"memory:"``), ``github_token`` from
    KOVA_GITHUB_TOKEN or GITHUB_TOKEN, ``github_api_url`` from KOVA_GITHUB_API_URL,
    ``anthropic_api_key`` from KOVA_ANTHROPIC_API_KEY or ANTHROPIC_API_KEY,
    ``anthropic_base_url`` from KOVA_ANTHROPIC_BASE_URL or ANTHROPIC_BASE_URL, ``model`` from
    KOVA_CLAUDE_MODEL, ``webhook_secrets`` from KOVA_GITHUB_WEBHOOK_SECRET or GITHUB_WEBHOOK_SECRET
    (comma-separated) plus KOVA_GITHUB_WEBHOOK_PREVIOUS_SECRET while rotating and ``repos_config`` from KOVA_REPOS_CONFIG. Durations are seconds.

    Every operation ``op`` has an awaitable twin ``op_async``.
    """

    def __new__(
        cls,
        store: Optional[str] = None,
        *,
        github_token: Optional[str] = None,
        github_api_url: Optional[str] = None,
        anthropic_api_key: Optional[str] = None,
        anthropic_base_url: Optional[str] = None,
        model: Optional[str] = None,
        webhook_secrets: Optional[Sequence[str]] = None,
        repos_config: Optional[Union[str, os.PathLike[str]]] = None,
        allow_unsigned_webhooks: bool = False,
        env: bool = True,
        batch_size: Optional[int] = None,
        poll_interval: Optional[float] = None,
        lease: Optional[float] = None,
        max_attempts: Optional[int] = None,
        shutdown_grace: Optional[float] = None,
    ) -> Kova: ...
    @property
    def store_backend(self) -> str: ...
    @property
    def llm_configured(self) -> bool: ...
    @property
    def github_configured(self) -> bool: ...

    # webhooks
    def ingest_webhook(self, headers: _Headers, body: _Body) -> IngestResult:
        """Verifies and durably records one delivery (SignatureError when it is not signed)."""
    def ingest_webhook_async(self, headers: _Headers, body: _Body) -> Awaitable[IngestResult]: ...

    # workers
    def process_pending(self, limit: int = 100, *, worker: Optional[str] = None) -> ProcessReport:
        """Processes up to ``limit`` due jobs now."""
    def process_pending_async(
        self, limit: int = 100, *, worker: Optional[str] = None
    ) -> Awaitable[ProcessReport]: ...
    def run_worker(self, concurrency: int = 1, *, name: Optional[str] = None) -> None:
        """Runs workers until ``stop_workers()`` or Ctrl-C (re-raised after a graceful stop)."""
    def run_worker_async(
        self, concurrency: int = 1, *, name: Optional[str] = None
    ) -> Awaitable[None]:
        """Like run_worker; cancelling the awaitable stops its workers gracefully."""
    def stop_workers(self) -> None:
        """Stops every worker of this object started before the call."""

    # reads
    def repositories(
        self, *, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Page[Repository]: ...
    def repositories_async(
        self, *, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Awaitable[Page[Repository]]: ...
    def repository(self, full_name: str) -> Repository: ...
    def repository_async(self, full_name: str) -> Awaitable[Repository]: ...
    def events(
        self,
        *,
        repo: Optional[str] = None,
        event: Optional[str] = None,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Page[Event]: ...
    def events_async(
        self,
        *,
        repo: Optional[str] = None,
        event: Optional[str] = None,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Awaitable[Page[Event]]: ...
    def event(self, id: int) -> Event: ...
    def event_async(self, id: int) -> Awaitable[Event]: ...
    def artifacts(
        self,
        *,
        repo: Optional[str] = None,
        kind: Optional[str] = None,
        event_id: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Page[Artifact]: ...
    def artifacts_async(
        self,
        *,
        repo: Optional[str] = None,
        kind: Optional[str] = None,
        event_id: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Awaitable[Page[Artifact]]: ...
    def artifact(self, id: int) -> Artifact: ...
    def artifact_async(self, id: int) -> Awaitable[Artifact]: ...
    def interactions(
        self,
        *,
        repo: Optional[str] = None,
        purpose: Optional[str] = None,
        model: Optional[str] = None,
        event_id: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Page[Interaction]: ...
    def interactions_async(
        self,
        *,
        repo: Optional[str] = None,
        purpose: Optional[str] = None,
        model: Optional[str] = None,
        event_id: Optional[int] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Awaitable[Page[Interaction]]: ...
    def usage_totals(
        self,
        *,
        repo: Optional[str] = None,
        purpose: Optional[str] = None,
        model: Optional[str] = None,
        event_id: Optional[int] = None,
    ) -> UsageTotals: ...
    def usage_totals_async(
        self,
        *,
        repo: Optional[str] = None,
        purpose: Optional[str] = None,
        model: Optional[str] = None,
        event_id: Optional[int] = None,
    ) -> Awaitable[UsageTotals]: ...
    def jobs(
        self,
        *,
        status: Optional[str] = None,
        kind: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Page[Job]: ...
    def jobs_async(
        self,
        *,
        status: Optional[str] = None,
        kind: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Awaitable[Page[Job]]: ...
    def jobs_summary(self) -> JobsSummary: ...
    def jobs_summary_async(self) -> Awaitable[JobsSummary]: ...
    def repo_errors(
        self, *, repo: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Page[RepoError]: ...
    def repo_errors_async(
        self, *, repo: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Awaitable[Page[RepoError]]: ...

    # sync (needs GitHub)
    def sync(
        self,
        repos: Optional[Sequence[str]] = None,
        *,
        include_analysis: bool = False,
        force: bool = False,
        progress: Optional[Callable[[SyncProgress], object]] = None,
    ) -> SyncReport:
        """Syncs the enabled repositories (or ``repos``); ``progress`` runs in this thread.
        Ctrl-C or an exception from ``progress`` stops the sync and is re-raised."""
    def sync_async(
        self,
        repos: Optional[Sequence[str]] = None,
        *,
        include_analysis: bool = False,
        force: bool = False,
        progress: Optional[Callable[[SyncProgress], object]] = None,
    ) -> Awaitable[SyncReport]:
        """Like sync; ``progress`` runs on a Kova thread (keep it quick)."""
    def sync_status(self) -> SyncStatus:
        """How the tracked repositories (the repositories file and the store) stand."""
    def sync_status_async(self) -> Awaitable[SyncStatus]: ...
    def discover(
        self,
        *,
        add: Optional[bool] = None,
        topics: bool = True,
        kind: str = "service",
        sync_priority: int = 3,
    ) -> DiscoverReport:
        """Lists the configured owner's repositories matching the name glob; adds new ones
        when ``add`` (None: as the repositories file says)."""
    def discover_async(
        self,
        *,
        add: Optional[bool] = None,
        topics: bool = True,
        kind: str = "service",
        sync_priority: int = 3,
    ) -> Awaitable[DiscoverReport]: ...
    def add_repository(
        self,
        full_name: str,
        *,
        kind: str = "service",
        sync_priority: int = 3,
        features: Optional[Sequence[str]] = None,
        description: Optional[str] = None,
        enabled: bool = True,
    ) -> AddOutcome:
        """Tracks a repository (and writes it to the repositories file, when there is one)."""
    def add_repository_async(
        self,
        full_name: str,
        *,
        kind: str = "service",
        sync_priority: int = 3,
        features: Optional[Sequence[str]] = None,
        description: Optional[str] = None,
        enabled: bool = True,
    ) -> Awaitable[AddOutcome]: ...

    # artifacts and AI (need Anthropic)
    def generate_artifact(
        self,
        kind: str,
        title: str,
        *,
        description: Optional[str] = None,
        language: Optional[str] = None,
        format: Optional[str] = None,
        context: Optional[str] = None,
        repository: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        model: Optional[str] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        repair: bool = True,
    ) -> GeneratedArtifact:
        """Generates a code, document, diagram, config or data artifact, validated (one
        repair round when it fails) and stored."""
    def generate_artifact_async(
        self,
        kind: str,
        title: str,
        *,
        description: Optional[str] = None,
        language: Optional[str] = None,
        format: Optional[str] = None,
        context: Optional[str] = None,
        repository: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        model: Optional[str] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
        repair: bool = True,
    ) -> Awaitable[GeneratedArtifact]: ...
    def analyze_code(
        self,
        code: str,
        *,
        language: Optional[str] = None,
        analysis_type: Optional[str] = None,
        title: Optional[str] = None,
        file_path: Optional[str] = None,
        context: Optional[str] = None,
        repository: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        model: Optional[str] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
    ) -> GeneratedArtifact:
        """Analyses code and stores the analysis as an artifact."""
    def analyze_code_async(
        self,
        code: str,
        *,
        language: Optional[str] = None,
        analysis_type: Optional[str] = None,
        title: Optional[str] = None,
        file_path: Optional[str] = None,
        context: Optional[str] = None,
        repository: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        model: Optional[str] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
    ) -> Awaitable[GeneratedArtifact]: ...
    def command(
        self,
        command: str,
        *,
        action: Optional[str] = None,
        repository: Optional[str] = None,
        file_path: Optional[str] = None,
        context: Optional[str] = None,
        model: Optional[str] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
    ) -> CommandResponse:
        """Runs an AI command: ``action`` "analyze", "sync", "process", "ask" or free-form."""
    def command_async(
        self,
        command: str,
        *,
        action: Optional[str] = None,
        repository: Optional[str] = None,
        file_path: Optional[str] = None,
        context: Optional[str] = None,
        model: Optional[str] = None,
        max_tokens: Optional[int] = None,
        temperature: Optional[float] = None,
    ) -> Awaitable[CommandResponse]: ...
    def scan(
        self,
        *,
        repository: Optional[str] = None,
        path: Optional[Union[str, os.PathLike[str]]] = None,
        git_ref: Optional[str] = None,
        max_files: Optional[int] = None,
    ) -> ScanReport:
        """Scans a repository on GitHub or a local directory (exactly one of the two)."""
    def scan_async(
        self,
        *,
        repository: Optional[str] = None,
        path: Optional[Union[str, os.PathLike[str]]] = None,
        git_ref: Optional[str] = None,
        max_files: Optional[int] = None,
    ) -> Awaitable[ScanReport]: ...
