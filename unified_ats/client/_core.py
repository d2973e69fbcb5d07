"""What ``Client`` and ``AsyncClient`` share: a request is described once as a ``Call`` (method,
path, query, body, how to parse the answer), and ``Core`` turns it into an ``httpx.Request``,
decides whether an answer is worth retrying, and maps errors. The two clients differ only in
how they send (see ``_runners``)."""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote
from uuid import UUID

import httpx
import pydantic

from schemas.datetimes import format_utc
from unified_ats.client.errors import (
    ApiError,
    TransportError,
    UnexpectedResponse,
    error_from_response,
    parse_retry_after,
    redact,
)

if tuple(int(part) for part in pydantic.VERSION.split(".")[:2]) < (2, 12):
    # Answers are parsed with ``extra="ignore"`` per call (pydantic 2.12's ``extra`` argument):
    # the ``schemas`` models forbid unknown fields, a client must not.
    raise ImportError(f"unified_ats.client needs pydantic>=2.12, not {pydantic.VERSION}")

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

API_PREFIX = "/api/ats/v1"
USER_AGENT = "unified-ats-client/0.1"

Id = UUID | str
"""A unified id, as a UUID or its string."""
Ids = Id | Sequence[Id]
"""One id, or several (sent comma-separated)."""
Names = str | Sequence[str]
"""``expand`` names: ``"job,current_stage"`` or ``["job", "current_stage"]``."""
When = datetime | str
"""A datetime (naive means UTC, as everywhere in the API) or an ISO 8601 string."""


class Secret:
    """A credential that never shows in ``repr``, ``str`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value or value != value.strip():
            raise ValueError("a credential must be a non-empty string without surrounding spaces")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError("a credential must not contain control characters")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API request, independent of sync or async: the path (under ``prefix``, already
    quoted), the query, the JSON body, whether it needs the connector token, and how to read a
    successful answer. ``read_timeout``: seconds the answer may take at least (a passthrough's
    own ``timeout``), when more than the client's."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    connection: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: bool = False
    prefix: str = API_PREFIX
    read_timeout: float | None = None

    @property
    def route(self) -> str:
        return f"{self.method} {self.prefix}{self.path}"

    def with_params(self, **params: str) -> "Call[T]":
        return replace(self, params={**self.params, **params})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which answers are retried, how often and how long the client waits.

    - ``429``: any method (the API did not execute the request), after ``Retry-After`` seconds
      (``default_wait`` when the header is missing).
    - ``503`` with ``Retry-After``: ``GET`` only. Other 5xx are never retried, and never a POST.
    - At most ``max_retries`` retries; a ``Retry-After`` longer than ``max_wait`` is not waited
      for: the error is raised at once (``RateLimited.retry_after`` says when to come back).
    """

    max_retries: int = 2
    max_wait: float = 60.0
    default_wait: float = 1.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if not (math.isfinite(self.max_wait) and self.max_wait >= 0):
            raise ValueError("max_wait must be a finite number >= 0")

    def wait(self, method: str, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``response`` (``attempt`` retries done so far),
        or None: do not retry."""
        if attempt >= self.max_retries:
            return None
        status = response.status_code
        advised = parse_retry_after(response.headers.get("retry-after"))
        if status == 429:
            seconds = self.default_wait if advised is None else advised
        elif status == 503 and method == "GET" and advised is not None:
            seconds = advised
        else:
            return None
        return seconds if seconds <= self.max_wait else None


class Core:
    """Configuration and the sync/async-independent steps of every request."""

    def __init__(
        self,
        base_url: str | httpx.URL,
        api_key: str,
        connector_token: str | None,
        retry: RetryPolicy,
    ) -> None:
        url = httpx.URL(str(base_url))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an absolute http(s) URL, e.g. http://127.0.0.1:8000")
        self.base_url = str(url.copy_with(query=None, fragment=None)).rstrip("/")
        self.api_key = Secret(api_key)
        self.connector_token = None if connector_token is None else Secret(connector_token)
        self.retry = retry

    def with_connector_token(self, connector_token: str | None) -> "Core":
        core = Core.__new__(Core)
        core.__dict__.update(self.__dict__)
        core.connector_token = None if connector_token is None else Secret(connector_token)
        return core

    @property
    def secrets(self) -> tuple[str, ...]:
        tokens = (self.api_key, self.connector_token)
        return tuple(secret.reveal() for secret in tokens if secret is not None)

    def request(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        headers = {
            "Authorization": f"Bearer {self.api_key.reveal()}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **call.headers,
        }
        if call.connection:
            if self.connector_token is None:
                raise ValueError(
                    f"{call.route} needs a connector token: pass "
                    "connector_token=..., or use client.with_connector_token(...)"
                )
            headers["x-connector-token"] = self.connector_token.reveal()
        timeout = http.timeout
        if call.read_timeout is not None and timeout.read is not None:
            read = max(timeout.read, call.read_timeout)
            timeout = httpx.Timeout(
                connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool
            )
        return http.build_request(
            call.method,
            f"{self.base_url}{call.prefix}{call.path}",
            params=dict(call.params),
            json=call.json,
            headers=headers,
            timeout=timeout,
        )

    def transport_error(self, request: httpx.Request, exc: httpx.TransportError) -> TransportError:
        detail = redact(str(exc) or type(exc).__name__, self.secrets)
        error = TransportError(f"{request.method} {request.url.path}: {detail}")
        error.idempotency_key = request.headers.get("idempotency-key")
        return error

    def error(self, response: httpx.Response) -> ApiError:
        return error_from_response(response, self.secrets)

    @staticmethod
    def parse(call: Call[T], response: httpx.Response) -> T:
        try:
            return call.parse(response)
        except ValueError as exc:  # pydantic's ValidationError included
            raise UnexpectedResponse(
                f"{call.route} answered {response.status_code} with a "
                f"body this client cannot read ({type(exc).__name__}: {_first_line(exc)})"
            ) from None

    def describe(self) -> str:
        token = "'***'" if self.connector_token is not None else "None"
        return f"base_url={self.base_url!r}, api_key='***', connector_token={token}"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else ""


# --- answers --------------------------------------------------------------------------------


def model(kind: type[ModelT]) -> Callable[[httpx.Response], ModelT]:
    """Parse the body as ``kind``, ignoring fields this client does not know."""

    def parse(response: httpx.Response) -> ModelT:
        return kind.model_validate_json(response.content, extra="ignore")

    return parse


def models(kind: type[ModelT]) -> Callable[[httpx.Response], list[ModelT]]:
    adapter = pydantic.TypeAdapter(list[kind])  # type: ignore[valid-type]

    def parse(response: httpx.Response) -> list[ModelT]:
        parsed: list[ModelT] = adapter.validate_json(response.content, extra="ignore")
        return parsed

    return parse


def nothing(response: httpx.Response) -> None:
    return None


def body(response: httpx.Response) -> bytes:
    return response.content


# --- requests -------------------------------------------------------------------------------


def segment(value: Id) -> str:
    """One path segment: an id can never reach another route (``..``, ``/``, ``?``)."""
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{text!r} is not an id")
    return quote(text, safe="")


def encode(name: str, value: Any) -> str:
    """A query value as the API reads it: booleans in lower case, datetimes in UTC with ``Z``,
    several values comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str | UUID | int):
        return str(value)
    if isinstance(value, Sequence):
        if not value:
            raise ValueError(f"{name}: an empty list would match nothing; leave it out instead")
        return ",".join(encode(name, item) for item in value)
    raise TypeError(f"{name}: cannot send a {type(value).__name__} as a query parameter")


def query(arguments: Mapping[str, Any]) -> dict[str, str]:
    """The query of a call from its keyword arguments; None means absent."""
    return {name: encode(name, value) for name, value in arguments.items() if value is not None}
