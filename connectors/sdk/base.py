"""The Connector base class and the value types its operations exchange."""

import asyncio
import hashlib
import inspect
import logging
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from types import TracebackType
from typing import (
    Annotated,
    Any,
    ClassVar,
    Generic,
    Self,
    TypeVar,
    cast,
    get_args,
    get_origin,
)
from urllib.parse import urlsplit

import annotated_types
import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import to_json

from connectors.sdk.errors import UnsupportedOperation
from connectors.sdk.files import (
    bare_content_type,
    disposition_file_name,
    ensure_file_response,
    with_extension,
)
from connectors.sdk.http import DEFAULT_TIMEOUT, RetryPolicy, VendorHttp
from connectors.sdk.logs import protect_http_logs, register_log_secrets
from connectors.sdk.ratelimit import Clock, InMemoryRateLimiter, RateLimiter, RateRule, Sleep
from connectors.sdk.secrets import Redactor
from connectors.sdk.transport import DEFAULT_CONNECTIONS
from connectors.sdk.writes import CandidateDraft, FileUpload, WriteRules
from schemas import Application, Attachment, Candidate, Job, JobInterviewStage
from schemas.datetimes import to_utc

logger = logging.getLogger("connectors")
T_in = TypeVar("T_in")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
_set_attribute = object.__setattr__
UNIFIED_NAMESPACE = uuid.UUID("5b0b2d6e-8f3e-4b8a-9d0e-2a6f1c3e7d41")


class Capability(StrEnum):
    LIST_CANDIDATES = "list_candidates"
    UPDATED_SINCE = "updated_since"
    GET_CANDIDATE = "get_candidate"
    LIST_ATTACHMENTS = "list_attachments"
    DOWNLOAD_ATTACHMENT = "download_attachment"
    DOWNLOAD_AVATAR = "download_avatar"
    VERIFY_CREDENTIALS = "verify_credentials"
    WEBHOOKS = "webhooks"
    CREATE_CANDIDATE = "create_candidate"
    LIST_JOBS = "list_jobs"
    """Jobs with their interview stages (``iter_jobs``)."""
    GET_JOB = "get_job"
    LIST_APPLICATIONS = "list_applications"
    """Candidate records carry their applications."""
    CREATE_APPLICATION = "create_application"
    """An existing candidate applies to another job."""
    CHANGE_STAGE = "change_stage"
    REJECT_APPLICATION = "reject_application"
    ADD_ATTACHMENT = "add_attachment"
    PASSTHROUGH = "passthrough"
    """Raw requests to the vendor's API, with the connection's credentials."""


class ConnectorSettings(BaseModel):
    """Base of every connector's settings. Credentials are ``SecretStr``: repr shows ``***``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str

    @field_validator("base_url")
    @classmethod
    def _http_base_url(cls, value: str) -> str:
        # The server sends the tenant's credentials to this address: only plain web origins,
        # never file://, gopher:// or a URL that smuggles credentials or a query.
        url = urlsplit(value)
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise ValueError("must be an http(s) URL with a host")
        if url.username or url.password or url.query or url.fragment:
            raise ValueError("must not carry credentials, a query or a fragment")
        return value

    def secret_values(self) -> list[str]:
        """Every credential in these settings, for redaction."""
        return [
            value.get_secret_value()
            for value in self.__dict__.values()
            if isinstance(value, SecretStr)
        ]

    def account_key(self) -> str:
        """What identifies the vendor account (not a secret): keys ids and rate limits."""
        return self.base_url

    def to_storage(self) -> dict[str, Any]:
        """Every setting with credentials in clear: only for storage that encrypts them."""
        data: dict[str, Any] = self.model_dump(mode="json")
        for name, value in self.__dict__.items():
            if isinstance(value, SecretStr):
                data[name] = value.get_secret_value()
        return data


@dataclass(frozen=True)
class IdScope:
    """Deterministic unified ids: the same (scope, kind, remote id) always gives the same UUID."""

    namespace: uuid.UUID
    _shared: dict[str, uuid.UUID] = field(default_factory=dict, compare=False, repr=False)
    """Ids of jobs and stages, which thousands of applications share (bounded: see _cached)."""

    @classmethod
    def for_account(cls, connector_name: str, account_key: str) -> "IdScope":
        return cls(uuid.uuid5(UNIFIED_NAMESPACE, f"{connector_name}:{account_key}"))

    @cached_property
    def _namespace_bytes(self) -> bytes:
        return self.namespace.bytes

    def candidate_id(self, remote_id: str) -> uuid.UUID:
        return _uuid5(self._namespace_bytes, f"candidate:{remote_id}")

    def attachment_id(self, remote_id: str) -> uuid.UUID:
        return _uuid5(self._namespace_bytes, f"attachment:{remote_id}")

    def job_id(self, remote_id: str) -> uuid.UUID:
        return self._cached(f"job:{remote_id}")

    def stage_id(self, remote_id: str) -> uuid.UUID:
        return self._cached(f"stage:{remote_id}")

    def _cached(self, name: str) -> uuid.UUID:
        found = self._shared.get(name)
        if found is None:
            if len(self._shared) >= 10_000:  # a vendor with that many jobs: start afresh
                self._shared.clear()
            found = self._shared[name] = _uuid5(self._namespace_bytes, name)
        return found

    def application_id(self, remote_id: str) -> uuid.UUID:
        return _uuid5(self._namespace_bytes, f"application:{remote_id}")


_VERSION_5_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_VERSION_5_SET = (0x8000 << 48) | (5 << 76)
_new_uuid = uuid.UUID.__new__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def _uuid5(namespace: bytes, name: str) -> uuid.UUID:
    """``uuid.uuid5`` without its per-call overhead: the same SHA-1 over the namespace bytes and
    the UTF-8 name, the same variant and version bits, set as ``UUID.__init__`` sets them (it
    runs several times per record; tests compare it with ``uuid.uuid5``)."""
    digest = hashlib.sha1(namespace + name.encode(), usedforsecurity=False).digest()
    value = (int.from_bytes(digest[:16]) & _VERSION_5_CLEAR) | _VERSION_5_SET
    built = _new_uuid(uuid.UUID)
    _set_attribute(built, "int", value)
    _set_attribute(built, "is_safe", _SAFE_UNKNOWN)
    return built


_reference_models = False
"""When True, :func:`validated` runs pydantic's validation (the reference the fast path is
tested against: tests/connectors/test_mapping_fast_paths.py)."""


_REQUIRED: Any = object()
"""Stands for a required field in a model's template until the mapping gives it."""


@dataclass(frozen=True)
class _Shape:
    """What building a model without validation needs: every field in order with its default
    (the template), the required ones, the after-validators and lower bounds of each field
    (run as pydantic runs them: UTC datetimes, open enums), and the dict fields (copied, as
    validation copies them)."""

    template: dict[str, Any]
    required: frozenset[str]
    utc: tuple[str, ...]
    """Fields whose after-validator is ``to_utc`` (checked inline: it runs several times a
    record and does nothing to the UTC datetimes mappings give)."""
    after: tuple[tuple[str, Callable[[Any], Any]], ...]
    lower_bounds: tuple[tuple[str, Any], ...]
    dicts: tuple[str, ...]


_shapes: dict[type[BaseModel], _Shape] = {}
_IMMUTABLE_DEFAULTS = (type(None), bool, int, float, str)
_NOT_CHECKS = (PlainSerializer, WithJsonSchema)
"""Field metadata that changes only the JSON Schema or serialization, never the value."""


def _takes_value_only(func: Callable[..., Any]) -> bool:
    return len(inspect.signature(func).parameters) == 1


def _shape(model: type[BaseModel]) -> _Shape:
    found = _shapes.get(model)
    if found is None:
        template: dict[str, Any] = {}
        required, utc, after, lower_bounds, dicts = [], [], [], [], []
        for name, info in model.model_fields.items():
            if info.is_required():
                template[name] = _REQUIRED
                required.append(name)
            else:
                default = info.get_default(call_default_factory=True)
                if type(default) not in _IMMUTABLE_DEFAULTS:  # shared by every model built
                    raise TypeError(f"{model.__name__}.{name}: a mutable default")
                template[name] = default
            metadata = list(info.metadata)
            kinds = []
            for kind in get_args(info.annotation) or (info.annotation,):
                if get_origin(kind) is Annotated:
                    kind, *more = get_args(kind)
                    metadata += more
                kinds.append(kind)
            for check in metadata:
                if isinstance(check, AfterValidator) and check.func is to_utc:
                    utc.append(name)
                elif isinstance(check, AfterValidator) and _takes_value_only(check.func):
                    after.append((name, cast(Callable[[Any], Any], check.func)))
                elif isinstance(check, annotated_types.Ge):
                    lower_bounds.append((name, check.ge))
                elif not isinstance(check, _NOT_CHECKS):
                    # A check this builder does not run: fail when the model is first built,
                    # never build such a model unchecked.
                    raise TypeError(f"{model.__name__}.{name}: {check!r} is not supported")
            if any(kind is dict or get_origin(kind) is dict for kind in kinds):
                dicts.append(name)
        found = _shapes[model] = _Shape(
            template,
            frozenset(required),
            tuple(utc),
            tuple(after),
            tuple(lower_bounds),
            tuple(dicts),
        )
    return found


def validated(model: type[M], /, **fields: Any) -> M:
    """``model(**fields)`` for fields a mapping has already put in their validated form (UUIDs,
    UTC datetimes, enum members, nested models, plain str/int/float/bool, JSON dicts): the
    model is built without pydantic checking every value a second time (the hot path of every
    sync, where that check cost as much as the mapping itself).

    What validation would still do is done here: the fields' after-validators run (a datetime
    in another zone becomes UTC, a known enum value its member), lower bounds are checked, a
    dict field is copied (a model never shares the vendor payload it came from), and an unknown
    or missing field fails. Anything else must already be right: tests run each mapping
    through both paths on wide vendor payloads and require identical models
    (tests/connectors/test_mapping_fast_paths.py).
    """
    if _reference_models:
        return model(**fields)
    shape = _shapes.get(model) or _shape(model)
    values = shape.template.copy()
    values.update(fields)  # known fields keep the model's order; unknown ones come last
    if len(values) != len(shape.template):  # a typo fails loudly, as with validation
        raise TypeError(f"{model.__name__} has no field {sorted(values.keys() - shape.template)}")
    if not fields.keys() >= shape.required:  # one check in C, not a loop per field
        raise TypeError(f"{model.__name__} needs {sorted(shape.required - fields.keys())}")
    for name in shape.utc:
        value = values[name]
        if value is not None and value.tzinfo is not UTC:
            values[name] = to_utc(value)
    for name, check in shape.after:  # what pydantic runs after the type check
        value = values[name]
        if value is not None:
            values[name] = check(value)
    for name, bound in shape.lower_bounds:
        value = values[name]
        if value is not None and value < bound:
            raise ValueError(f"{model.__name__}.{name} must be >= {bound}")
    for name in shape.dicts:
        value = values[name]
        if value is not None:
            values[name] = dict(value)
    built = model.__new__(model)
    _set_attribute(built, "__dict__", values)
    _set_attribute(built, "__pydantic_fields_set__", set(fields))
    _set_attribute(built, "__pydantic_extra__", None)
    _set_attribute(built, "__pydantic_private__", None)
    return built


@contextmanager
def reference_models() -> Iterator[None]:
    """Within the block, :func:`validated` validates every field with pydantic (for tests that
    compare the fast path with the reference)."""
    global _reference_models
    before, _reference_models = _reference_models, True
    try:
        yield
    finally:
        _reference_models = before


@dataclass(frozen=True)
class MappingContext:
    """Everything a pure mapping function needs besides the vendor payload."""

    ids: IdScope
    observed_at: datetime
    company_name: str | None = None
    default_phone_region: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CandidateRecord:
    """A candidate with the attachments and applications the vendor gave alongside it.

    Every supported vendor keys a candidate per job, so a record holds one application with the
    candidate's own remote id; ``candidate.applications`` lists the applications' ids.
    """

    candidate: Candidate
    attachments: tuple[Attachment, ...] = ()
    applications: tuple[Application, ...] = ()
    source_digest: str | None = None
    """A digest of everything this record was mapped from (see :func:`source_digest`), set by
    connectors with ``source_digests`` when ``iter_candidates`` was given ``known``; the store
    keeps it, and a later enumeration skips mapping the record while it is unchanged."""


@dataclass(frozen=True)
class JobRecord:
    """A job with its interview stages, in pipeline order."""

    job: Job
    stages: tuple[JobInterviewStage, ...] = ()


@dataclass(frozen=True)
class Quarantined:
    """A vendor record that could not be mapped: reported, never a reason to stop or delete.

    ``reason`` names what went wrong (an exception class, a rule), never the record's content.
    ``remote_id`` is None when the record carried no usable id: then nothing proves which stored
    record it is, so the run that met it cannot mark deletions.
    """

    kind: str
    remote_id: str | None
    reason: str


@dataclass(frozen=True)
class CandidatePage:
    records: tuple[CandidateRecord, ...]
    total: int | None = None
    """How many records the whole enumeration holds, when the vendor says (for progress)."""
    quarantined: tuple[Quarantined, ...] = ()
    """Vendor records on this page that could not be mapped (logged without their content)."""
    incomplete: str | None = None
    """Set when the connector knows the enumeration missed records (the records it saw fall
    short of a total the vendor gave): the run marks nothing deleted and reports this."""
    unchanged: tuple[str, ...] = ()
    """Remote ids of vendor records on this page whose source digest equals the one ``known``
    gave: not mapped, and counted as seen (a full run never marks them deleted). A page holds
    at most ``page_size`` records mapped or quarantined, and :data:`UNCHANGED_PER_RECORD` times
    as many of these (see :func:`page_weight`)."""

    @property
    def skipped(self) -> int:
        return len(self.quarantined)


UNCHANGED_PER_RECORD = 10
"""How many records skipped as unchanged weigh as much in a candidate page as one record
mapped: an id is all such a record holds, and storing a page costs a transaction whatever it
holds (with a skipped record weighing a whole one, the pages' transactions were most of an
unchanged re-sync's time)."""


def page_weight(records: int, unchanged: int) -> float:
    """A candidate page's weight against ``page_size``: its records mapped (or quarantined),
    and its records skipped as unchanged at :data:`UNCHANGED_PER_RECORD` to one."""
    return records + unchanged / UNCHANGED_PER_RECORD


@dataclass(frozen=True)
class JobPage:
    """A page of jobs; ``total``, ``quarantined`` and ``incomplete`` as for candidates."""

    records: tuple[JobRecord, ...]
    total: int | None = None
    quarantined: tuple[Quarantined, ...] = ()
    incomplete: str | None = None


def shortfall(listing: str, seen: int, total: int | None) -> str | None:
    """Why an enumeration is incomplete: it saw fewer records than the vendor's own total."""
    if total is None or seen >= total:
        return None
    return f"{listing}: listed {seen} of the {total} the vendor counts"


def usable_remote_id(value: object) -> str | None:
    """A vendor id as we store it: a non-empty string or an integer (never a bool or a dict)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def source_digest(salt: bytes, payload: Any) -> str:
    """A stable digest of a vendor payload (its JSON, keys in the vendor's order) and of
    ``salt``: whatever else the mapping reads (a catalog, settings, the mapping's own code).
    The BLAKE2b of ``salt`` followed by the payload's JSON."""
    return SourceDigester(salt)(payload)


KnownDigests = Mapping[str, str] | Awaitable[Mapping[str, str]]
"""What ``iter_candidates`` is given as ``known``: the digests, or an awaitable of them that the
connector awaits only once it needs them (when the vendor's first record has come), so the
store reads them while the vendor prepares its answer."""


async def known_digests(known: KnownDigests) -> Mapping[str, str]:
    """The digests ``known`` holds or gives (see :data:`KnownDigests`)."""
    if isinstance(known, Mapping):
        return known
    return await known


class SourceDigester:
    """:func:`source_digest` of many payloads under one salt. The salt is hashed once and each
    payload goes on from a copy of that state, which gives the same digest: the salt (a
    Flatchr catalog) can be ten times the size of a payload, and hashing it again for every
    payload had cost three quarters of the digests' time."""

    __slots__ = ("_salted",)

    def __init__(self, salt: bytes) -> None:
        self._salted = hashlib.blake2b(salt, digest_size=20)

    def __call__(self, payload: Any) -> str:
        digest = self._salted.copy()
        digest.update(to_json(payload))
        return digest.hexdigest()


def map_each(
    items: Iterable[T_in],
    map_one: Callable[[T_in], R],
    *,
    remote_id_of: Callable[[T_in], object],
    kind: str = "candidate",
) -> tuple[list[R], list[Quarantined]]:
    """Map vendor items one by one; an item that fails is quarantined, and the rest go on."""
    records: list[R] = []
    quarantined: list[Quarantined] = []
    for item in items:
        try:
            records.append(map_one(item))
        except (ValueError, TypeError, KeyError) as exc:  # a vendor's MappingError is a ValueError
            try:
                remote_id = usable_remote_id(remote_id_of(item))
            except Exception:  # an id we cannot even read is no id
                remote_id = None
            logger.warning("quarantined a vendor %s: %s", kind, type(exc).__name__)
            quarantined.append(Quarantined(kind, remote_id, type(exc).__name__))
    return records, quarantined


@dataclass
class FileDownload:
    """An open download: read ``chunks`` once, inside the ``async with`` that produced it."""

    file_name: str | None
    content_type: str
    size: int | None
    chunks: AsyncIterator[bytes]

    @classmethod
    def from_response(
        cls, response: httpx.Response, *, name: str, content_type: str | None = None
    ) -> "FileDownload":
        """The vendor's headers win; else ``name`` (given an extension from the content type)
        and ``content_type``."""
        ensure_file_response(response, content_type, name=name)
        kind = (
            bare_content_type(response.headers.get("Content-Type"))
            or content_type
            or "application/octet-stream"
        )
        length = response.headers.get("Content-Length")
        return cls(
            file_name=disposition_file_name(response.headers.get("Content-Disposition"))
            or with_extension(name, content_type or kind),
            content_type=kind,
            size=int(length) if length and length.isdigit() else None,
            chunks=response.aiter_bytes(),
        )


S = TypeVar("S", bound=ConnectorSettings)


class Connector(ABC, Generic[S]):
    """Base of every connector. Subclasses declare their attributes and implement operations.

    Use it as ``async with FlatchrConnector(settings) as connector: ...``.
    """

    name: ClassVar[str]
    display_name: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]]
    capabilities: ClassVar[frozenset[Capability]]
    candidate_fields: ClassVar[frozenset[str]]
    """Unified Candidate fields this connector fills (drives docs/coverage.md)."""
    attachment_fields: ClassVar[frozenset[str]]
    job_fields: ClassVar[frozenset[str]] = frozenset()
    stage_fields: ClassVar[frozenset[str]] = frozenset()
    application_fields: ClassVar[frozenset[str]] = frozenset()
    log_redactions: ClassVar[tuple[re.Pattern[str], ...]] = ()
    """URL path patterns (with a ``secret`` group) to mask in httpx's log lines."""
    write_rules: ClassVar[WriteRules] = WriteRules()
    """What the write operations accept (fields, required ones, file limits)."""
    link_help: ClassVar[str] = ""
    """For the hosted link page: where the end user finds these credentials (plain text;
    paragraphs separated by blank lines)."""
    link_fields: ClassVar[tuple[str, ...]] = ()
    """Settings the link page shows first, in this order (default: the required ones and the
    credentials); the others go under "Advanced settings"."""
    source_digests: ClassVar[bool] = False
    """``iter_candidates`` takes ``known`` source digests and skips unchanged vendor records."""

    def __init__(
        self,
        settings: S,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        id_scope: IdScope | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        protect_http_logs(self.log_redactions)
        self.ids = id_scope or IdScope.for_account(self.name, settings.account_key())
        self.redact = Redactor(settings.secret_values())
        register_log_secrets(self.redact)  # settings' credentials, and tokens obtained later
        self.clock = clock
        self.http = VendorHttp(
            vendor=self.display_name,
            base_url=settings.base_url,
            auth=self.build_auth(),
            client=client,
            transport=transport,
            timeout=timeout,
            retry=retry,
            limiter=limiter or InMemoryRateLimiter(clock=clock, sleep=sleep),
            redactor=self.redact,
            sleep=sleep,
            describe_error=self.describe_error,
            error_details=self.error_details,
            error_rules=self.error_rules(),
            connections=self.http_connections(),
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} account={self.settings.account_key()!r}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- hooks -------------------------------------------------------------------------------

    def build_auth(self) -> httpx.Auth | None:
        return None

    def http_connections(self) -> int:
        """Connections the connector may hold open to its vendor: at least its calls in flight
        (a call beyond them waits for a connection to come free)."""
        return DEFAULT_CONNECTIONS

    def describe_error(self, response: httpx.Response) -> str | None:
        """A short, secret-free reading of a vendor error body (e.g. its error code)."""
        return None

    def error_details(self, response: httpx.Response) -> tuple[str | None, dict[str, list[str]]]:
        """The vendor's error code and per-field messages, when its error body has them."""
        return None, {}

    def error_rules(self) -> dict[int, Any] | None:
        return None

    def storable_settings(self) -> dict[str, Any]:
        """The settings to store (encrypted) once ``verify_credentials()`` passed. A connector
        that exchanges a password for a token stores the token instead, never the password."""
        return self.settings.to_storage()

    def context(self) -> MappingContext:
        return MappingContext(ids=self.ids, observed_at=datetime.now(UTC))

    async def mapping_context(self) -> MappingContext:
        """The context mappings run in (connectors add what they learn from the vendor)."""
        return self.context()

    def parse_webhook(self, payload: Any, ctx: MappingContext) -> CandidateRecord:
        """Map a vendor webhook body (pure); raises ValueError when the body is unusable."""
        raise UnsupportedOperation(f"{self.display_name} webhooks are not supported")

    # --- operations --------------------------------------------------------------------------

    @abstractmethod
    def iter_candidates(
        self,
        *,
        updated_since: datetime | None = None,
        page_size: int = 500,
        known: KnownDigests | None = None,
    ) -> AsyncIterator[CandidatePage]:
        """Every candidate, page by page; with ``updated_since``, at least those changed since.

        ``known`` (remote id -> source digest, what the store holds) is given only to a
        connector with ``source_digests``: it then sets each record's ``source_digest``, and
        lists a vendor record whose digest equals the known one in ``CandidatePage.unchanged``
        instead of mapping it. It may come as an awaitable (see :data:`KnownDigests`), to be
        awaited (with :func:`known_digests`) no sooner than the first vendor record needs it.
        Other connectors ignore it."""

    @abstractmethod
    async def get_candidate(
        self, remote_id: str, *, known: Candidate | None = None
    ) -> CandidateRecord:
        """One candidate, fresh from the vendor. ``known`` is the last stored copy, if any."""

    def iter_jobs(self) -> AsyncIterator[JobPage]:
        """Every job with its stages, page by page (always the whole listing: jobs are few)."""
        raise UnsupportedOperation(f"{self.display_name} jobs are not supported")

    async def get_job(self, remote_id: str) -> JobRecord:
        """One job with its stages, fresh from the vendor; NotFound when it is gone."""
        raise UnsupportedOperation(f"{self.display_name} cannot read one job")

    async def list_attachments(
        self, remote_id: str, *, known: Candidate | None = None
    ) -> list[Attachment]:
        record = await self.get_candidate(remote_id, known=known)
        return list(record.attachments)

    def download_attachment(
        self, attachment_remote_id: str
    ) -> AbstractAsyncContextManager[FileDownload]:
        raise UnsupportedOperation(f"{self.display_name} cannot download attachments")

    def download_avatar(self, remote_id: str) -> AbstractAsyncContextManager[FileDownload]:
        """The candidate's photo, when the vendor's avatar URL needs credentials to open."""
        raise UnsupportedOperation(f"{self.display_name} avatars are plain URLs")

    @abstractmethod
    async def verify_credentials(self) -> None:
        """Raise AuthFailed (or another ConnectorError) unless the settings work."""

    # --- writes: sent once, never retried blindly ---------------------------------------------

    async def create_candidate(self, draft: CandidateDraft) -> CandidateRecord:
        """Create the candidate (on ``draft.job_remote_id``) and return it as the vendor now
        holds it, with its application: the same ids a later sync gives it."""
        raise UnsupportedOperation(f"{self.display_name} cannot create candidates")

    async def find_candidate(self, draft: CandidateDraft) -> CandidateRecord | None:
        """The candidate ``draft`` would have created, if the vendor has it (by e-mail on the
        job). Asked after a failure whose outcome is unknown (timeout, 5xx), so that neither
        the caller's retry nor ours creates a duplicate; None when it cannot be found."""
        return None

    async def create_application(
        self, candidate_remote_id: str, job_remote_id: str, stage_remote_id: str | None
    ) -> CandidateRecord:
        """Apply an existing candidate to another job; the new vendor candidate record."""
        raise UnsupportedOperation(f"{self.display_name} cannot create applications")

    async def change_stage(
        self, application_remote_id: str, stage_remote_id: str
    ) -> CandidateRecord:
        """Move the application to the stage; the candidate record as the vendor now holds it.
        A move the vendor's workflow forbids raises StageMoveRefused."""
        raise UnsupportedOperation(f"{self.display_name} cannot move applications")

    async def reject_application(self, application_remote_id: str) -> CandidateRecord:
        raise UnsupportedOperation(f"{self.display_name} cannot reject applications")

    async def add_attachment(self, candidate_remote_id: str, upload: FileUpload) -> Attachment:
        reason = self.write_rules.attachment_unsupported_reason
        raise UnsupportedOperation(
            reason or f"{self.display_name} cannot attach files to a candidate"
        )

    def passthrough_rate(self, method: str, path: str) -> RateRule | None:
        """The rate rule a raw request to ``path`` falls under (the connector's own limits)."""
        return None


def stage_remote_id(job_remote_id: str, stage_key: str) -> str:
    """A stage's remote id: ``<job remote id>:<the vendor's stage key>``. Every connector gives
    each job its own stages (even company-wide ones), so the job is part of the id."""
    return f"{job_remote_id}:{stage_key}"
