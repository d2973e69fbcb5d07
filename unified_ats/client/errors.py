"""What the client raises: one base class, and one class per kind of API answer.

Every error the API sends is ``{detail}`` (a string, or FastAPI's list for 422). The client keeps
that ``detail`` as it came and adds the status, the method and the path (never the query string,
which can hold personal data, and never a credential).
"""

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

REDACTED = "[redacted]"
_MAX_TEXT = 500


class ClientError(Exception):
    """Base class of every exception ``unified_ats.client`` raises.

    ``idempotency_key`` is the ``Idempotency-Key`` the failed request carried (a write's, given
    or generated), else None: retrying a write with it cannot write twice."""

    idempotency_key: str | None = None


class TransportError(ClientError):
    """The request did not get an HTTP answer (connection refused, timeout, broken stream)."""


class UnexpectedResponse(ClientError):
    """A successful answer whose body is not what the API documents (a proxy page, drift)."""


class ApiError(ClientError):
    """The API answered with an error status.

    ``detail`` is the API's own ``detail``: a string, or a list for validation errors (422).
    ``headers`` are the response's headers, names in lower case (``retry-after``,
    ``www-authenticate``).
    """

    def __init__(
        self,
        status_code: int,
        detail: str | list[Any],
        *,
        method: str = "",
        path: str = "",
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.idempotency_key = idempotency_key
        self.detail = detail
        self.method = method
        self.path = path
        self.headers = {key.lower(): value for key, value in (headers or {}).items()}
        super().__init__(self._message())

    def _message(self) -> str:
        detail = self.detail if isinstance(self.detail, str) else _list_text(self.detail)
        where = f" ({self.method} {self.path})" if self.method else ""
        return f"{self.status_code}: {detail}{where}"

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs: dict[str, Any] = {"method": self.method, "path": self.path}
        kwargs |= {"headers": self.headers, "idempotency_key": self.idempotency_key}
        return (_rebuild, (type(self), self.status_code, self.detail, kwargs))


class InvalidRequest(ApiError):
    """400 (a parameter the API refuses: unknown, bad cursor, filter not honoured) or 422 (a value
    of the wrong type or range; ``detail`` is then FastAPI's list of ``{loc, msg, type}``)."""


class Unauthorized(ApiError):
    """401: the API key or the connector token is missing, wrong, rotated or deleted."""


class NotFound(ApiError):
    """404: no such object on this connection (or the vendor deleted it)."""


class Conflict(ApiError):
    """409: a request with the same ``Idempotency-Key`` is still running (retry it later with
    that key), or the vendor's workflow forbids the change (viasto: a stage move backwards)."""


class Gone(ApiError):
    """410: used up or expired (a link page's public token exchanged already, or too late)."""


class RateLimited(ApiError):
    """429: the vendor is rate limiting. ``retry_after`` is the advised wait in seconds."""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


class NotSupported(ApiError):
    """501: the connection's connector cannot do this (no avatars, no rejection, …); ``detail``
    says why. Nothing was sent to the vendor."""


class VendorError(ApiError):
    """502, 503 or 504: the vendor failed, was unavailable, or did not answer in time."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: InvalidRequest,
    429: RateLimited,
    501: NotSupported,
    502: VendorError,
    503: VendorError,
    504: VendorError,
}


def _rebuild(
    kind: type[ApiError], status: int, detail: str | list[Any], kwargs: dict[str, Any]
) -> ApiError:
    return kind(status, detail, **kwargs)


def _list_text(detail: list[Any]) -> str:
    parts = []
    for item in detail:
        if isinstance(item, Mapping) and "msg" in item:
            location = ".".join(str(part) for part in item.get("loc") or ())
            parts.append(f"{location}: {item['msg']}" if location else str(item["msg"]))
        else:
            parts.append(str(item))
    return "; ".join(parts) or "[]"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None
    when it is absent or unreadable. Never negative."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
        return max(0.0, seconds)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (a detail: text, or lists and dicts of them) with every secret replaced."""
    secrets = [s for s in secrets if s]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        if any(secret in value for secret in secrets):  # a secret that overlaps the marker
            return REDACTED
        return value
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    if isinstance(value, dict):
        return {redact(str(k), secrets): redact(v, secrets) for k, v in value.items()}
    return value


def detail_of(response: httpx.Response) -> str | list[Any]:
    """The ``detail`` of an error body, or a short text when the body is not ``{detail}``."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str | list):
        detail: str | list[Any] = body["detail"]
        return detail
    text = response.content[:_MAX_TEXT].decode("utf-8", "replace").strip()
    return text or response.reason_phrase or "no detail"


def error_from_response(response: httpx.Response, secrets: Iterable[str] = ()) -> ApiError:
    """The typed error for a non-2xx response whose body has been read."""
    secrets = tuple(secrets)
    kind = _BY_STATUS.get(response.status_code, ApiError)
    request = response.request if _has_request(response) else None
    return kind(
        response.status_code,
        redact(detail_of(response), secrets),
        method=request.method if request else "",
        path=redact(request.url.path, secrets) if request else "",
        headers=response.headers,
        idempotency_key=request.headers.get("idempotency-key") if request else None,
    )


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built without one
    except RuntimeError:
        return False
    return True
