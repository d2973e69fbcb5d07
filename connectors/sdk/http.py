"""The one HTTP toolkit every connector uses.

Timeouts on every call, retries with exponential backoff and jitter for idempotent requests,
``Retry-After`` honoured up to a cap, per-account rate limiting, and vendor responses mapped to
:mod:`connectors.sdk.errors` through one table (Airbyte style). Error texts are built from the
method and the path only, then passed through the redactor: no credential can leave in them.
"""

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from connectors.sdk.errors import (
    AuthFailed,
    ConnectorError,
    InvalidVendorResponse,
    NotFound,
    RateLimited,
    VendorRejectedRequest,
    VendorTimeout,
    VendorUnavailable,
)
from connectors.sdk.ratelimit import InMemoryRateLimiter, RateLimiter, RateRule, Sleep
from connectors.sdk.secrets import Redactor, safe_target
from connectors.sdk.transport import (
    DEFAULT_CONNECTIONS,
    READ_AT_ONCE,
    VendorTransport,
    shared_ssl_context,
)

logger = logging.getLogger("connectors.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class ErrorRule:
    error: type[ConnectorError]
    retryable: bool


# Status -> what it means. Connectors may override entries (see VendorHttp.error_rules).
ERROR_TABLE: Mapping[int, ErrorRule] = {
    400: ErrorRule(VendorRejectedRequest, retryable=False),
    401: ErrorRule(AuthFailed, retryable=False),
    403: ErrorRule(AuthFailed, retryable=False),
    404: ErrorRule(NotFound, retryable=False),
    405: ErrorRule(VendorRejectedRequest, retryable=False),
    408: ErrorRule(VendorTimeout, retryable=True),
    409: ErrorRule(VendorRejectedRequest, retryable=False),
    410: ErrorRule(NotFound, retryable=False),
    422: ErrorRule(VendorRejectedRequest, retryable=False),
    429: ErrorRule(RateLimited, retryable=True),
    500: ErrorRule(VendorUnavailable, retryable=True),
    502: ErrorRule(VendorUnavailable, retryable=True),
    503: ErrorRule(VendorUnavailable, retryable=True),
    504: ErrorRule(VendorTimeout, retryable=True),
}


def rule_for(status: int, overrides: Mapping[int, ErrorRule] | None = None) -> ErrorRule:
    if overrides and status in overrides:
        return overrides[status]
    if status in ERROR_TABLE:
        return ERROR_TABLE[status]
    if status >= 500:
        return ErrorRule(VendorUnavailable, retryable=True)
    return ErrorRule(VendorRejectedRequest, retryable=False)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; ``Retry-After`` wins when the vendor sends one."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    """Cap on any single wait. A longer ``Retry-After`` is not waited out: RateLimited is raised."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(ceiling / 2, ceiling)


class _NoCookies(httpx.Cookies):
    """Cookies that keep nothing a vendor sets. Every vendor authenticates each request with
    its own credentials, so a vendor's cookies are never needed, and a session cookie set on
    one call must not ride along on the next. httpx offers each response to its client's
    cookies; ignoring it here spares building a ``urllib`` request and parsing the response's
    headers per call (~30 us: a Welcome Kit sync makes one call per candidate). A no-op jar
    alone did not: httpx builds those before it asks the jar."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _VendorClient(httpx.AsyncClient):
    """The client VendorHttp builds for itself: httpx's, with cookies that keep nothing (its
    own: a cookie set by hand must not reach another connection's client)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("a vendor client keeps no cookies")


_PARSED_URLS = 64
"""Parsed request URLs a client keeps (the few routes a connector calls again and again)."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


ErrorDescriber = Callable[[httpx.Response], str | None]
ErrorDetails = Callable[[httpx.Response], tuple[str | None, dict[str, list[str]]]]


def no_description(response: httpx.Response) -> str | None:
    return None


def no_details(response: httpx.Response) -> tuple[str | None, dict[str, list[str]]]:
    return None, {}


def json_body(response: httpx.Response, redact: Callable[[str], str] = str) -> Any:
    """The decoded JSON body, or InvalidVendorResponse (never a raw decode error)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        target = redact(f"{response.request.method} {safe_target(str(response.request.url))}")
        raise InvalidVendorResponse(
            f"vendor answered {target} with a body that is not valid JSON",
            vendor_status=response.status_code,
        ) from exc


class VendorHttp:
    """An httpx.AsyncClient wrapper that speaks the SDK's error language.

    The client may be injected (tests pass one over ``httpx.ASGITransport``); URLs are joined
    here and auth/timeout are passed per request, so an injected client needs no configuration.
    """

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        auth: httpx.Auth | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        redactor: Redactor | None = None,
        sleep: Sleep = asyncio.sleep,
        describe_error: ErrorDescriber = no_description,
        error_details: ErrorDetails = no_details,
        error_rules: Mapping[int, ErrorRule] | None = None,
        rng: random.Random | None = None,
        connections: int = DEFAULT_CONNECTIONS,
    ) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or InMemoryRateLimiter()
        self.redact = redactor or Redactor()
        self._sleep = sleep
        self._describe_error = describe_error
        self._error_details = error_details
        self._error_rules = error_rules
        self._rng = rng or random.Random()
        self._owns_client = client is None
        if client is None and transport is None:
            transport = VendorTransport(connections)
        self.client = client or _VendorClient(
            transport=transport, follow_redirects=False, verify=shared_ssl_context()
        )
        self._parsed: dict[str, tuple[httpx.URL, str, str]] = {}

    def _request_url(self, path: str, params: Mapping[str, Any] | None) -> httpx.URL | str:
        """The URL httpx would build for ``path`` and ``params``, parsed once instead of three
        times (~50 us less per call: httpx parses a URL given as text in the client, again in
        the request, and rebuilds it from its parts to add ``params``). As in
        ``httpx.Request(url, params=...)``, ``params`` replace the query. A client with its own
        ``params`` merges them into ours, so it is given the text as before."""
        url = self.url(path)
        if self.client.params:
            return url
        route = self._parsed.get(url)
        if route is None:
            if len(self._parsed) >= _PARSED_URLS:
                self._parsed.clear()  # routes with ids in them: keep only the recent ones
            parsed = httpx.URL(url)
            bare = str(parsed.copy_with(query=None, fragment=None))
            _, mark, rest = str(parsed).partition("#")  # the text's own "#…" ("" without)
            fragment = mark + rest
            route = self._parsed[url] = (parsed, bare, fragment)
        parsed, bare, fragment = route
        if params is None:
            return parsed
        # httpx's own query text for ``params`` (None when empty: no bare "?"), then one parse.
        query = str(httpx.QueryParams(params)) if params else None
        return httpx.URL(bare + ("" if query is None else "?" + query) + fragment)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def resolve_link(self, link: str, *, page_url: str) -> str:
        """A vendor's paging link as a browser resolves it: relative against the URL of the
        page that carried it, absolute as given. A link that leaves the vendor's origin is
        refused: our credentials go with every request."""
        resolved = urljoin(page_url, link)
        if _origin(resolved) != _origin(self.base_url):
            raise InvalidVendorResponse(f"{self.vendor} sent a paging link to another host")
        return resolved

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        rate: RateRule | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """Send with retries; return a 2xx/3xx response or raise a ConnectorError."""
        async with self._send(
            method,
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            idempotent=idempotent,
            rate=rate,
            auth=auth,
            stream=False,
        ) as response:
            return response

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        rate: RateRule | None = None,
        auth: bool = True,
    ) -> AsyncIterator[httpx.Response]:
        """Like :meth:`request` but the body is left unread, for streaming.

        Only reads are streamed, so the request counts as idempotent. A failure while the body
        is being read (after the status line) is mapped to the SDK's errors too.
        """
        target = self.redact(f"{method.upper()} {safe_target(self.url(path))}")
        async with self._send(
            method,
            path,
            params=params,
            json=json,
            headers=headers,
            idempotent=True,
            rate=rate,
            auth=auth,
            stream=True,
        ) as response:
            try:
                yield response
            except httpx.TimeoutException:
                raise VendorTimeout(f"{self.vendor} stopped sending {target} in time") from None
            except httpx.TransportError as exc:
                raise VendorUnavailable(
                    f"{self.vendor} broke off {target} ({type(exc).__name__})"
                ) from None

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        rate: RateRule | None = None,
    ) -> Any:
        body, _ = await self.get_json_page(path, params=params, rate=rate)
        return body

    async def get_json_page(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        rate: RateRule | None = None,
    ) -> tuple[Any, str]:
        """The JSON body and the URL it came from (paging links resolve against it)."""
        response = await self.request("GET", path, params=params, rate=rate)
        return json_body(response, self.redact), str(response.request.url)

    @asynccontextmanager
    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        rate: RateRule | None,
        auth: bool,
        stream: bool,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
    ) -> AsyncIterator[httpx.Response]:
        method = method.upper()
        may_retry = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        target = self.redact(f"{method} {safe_target(self.url(path))}")
        url = self._request_url(path, params)
        attempt = 0
        while True:
            attempt += 1
            request = self.client.build_request(
                method,
                url,
                params=params if isinstance(url, str) else None,
                json=json,
                data=data,
                files=files,
                headers=headers,
                timeout=self.timeout,
                extensions=None if stream else READ_AT_ONCE,
            )
            failure: ConnectorError
            retryable = True
            retry_after: float | None = None
            response: httpx.Response | None = None
            try:
                if rate is None:
                    response = await self._send_once(request, auth=auth, stream=stream)
                else:
                    async with self.limiter.slot(rate):
                        response = await self._send_once(request, auth=auth, stream=stream)
            except httpx.TimeoutException:
                failure = VendorTimeout(f"{self.vendor} did not answer {target} in time")
            except httpx.TransportError as exc:
                failure = VendorUnavailable(
                    f"{self.vendor} could not be reached for {target} ({type(exc).__name__})"
                )
            else:
                if response.status_code < 400:
                    try:
                        yield response
                    finally:
                        await response.aclose()
                    return
                failure, retryable, retry_after = await self._failure_from(response, target)
            if not (may_retry and retryable) or attempt >= self.retry.max_attempts:
                raise self._final(failure, attempt)
            delay = (
                retry_after if retry_after is not None else self.retry.backoff(attempt, self._rng)
            )
            if delay > self.retry.max_delay:
                # The vendor wants a longer pause than we will hold a caller for: say so, as the
                # error it is (a 429 stays RateLimited, a 503 stays VendorUnavailable).
                failure.message = f"{failure.message} (asked to retry after {delay:.0f}s)"
                failure.args = (failure.message,)
                if isinstance(failure, RateLimited):
                    failure.retry_after = delay
                raise failure
            logger.info(
                "retrying %s after %s (attempt %d/%d, waiting %.2fs)",
                target,
                failure.code,
                attempt,
                self.retry.max_attempts,
                delay,
            )
            await self._sleep(delay)

    async def _send_once(
        self, request: httpx.Request, *, auth: bool, stream: bool
    ) -> httpx.Response:
        return await self.client.send(
            request,
            auth=self.auth if auth and self.auth is not None else None,
            stream=stream,
            follow_redirects=False,
        )

    async def _failure_from(
        self, response: httpx.Response, target: str
    ) -> tuple[ConnectorError, bool, float | None]:
        """The error a vendor response means, whether to retry it, and how long to wait."""
        await response.aread()
        await response.aclose()
        rule = rule_for(response.status_code, self._error_rules)
        described = self._describe_error(response)
        message = f"{self.vendor} answered {response.status_code} to {target}"
        if described:
            message = f"{message}: {described}"
        message = self.redact(message)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error: ConnectorError
        if rule.error is RateLimited:
            error = RateLimited(
                message, retry_after=retry_after, vendor_status=response.status_code
            )
        else:
            error = rule.error(message, vendor_status=response.status_code)
        vendor_code, field_errors = self._error_details(response)
        error.vendor_code = vendor_code
        if isinstance(error, VendorRejectedRequest):
            error.field_errors = {
                field: [self.redact(m) for m in messages]
                for field, messages in field_errors.items()
            }
        return error, rule.retryable, retry_after

    @staticmethod
    def _final(failure: ConnectorError, attempts: int) -> ConnectorError:
        if attempts > 1:
            failure.message = f"{failure.message} (after {attempts} attempts)"
            failure.args = (failure.message,)
        return failure


def path_segment(remote_id: str, what: str) -> str:
    """A vendor id as one URL path segment: percent-encoded (a ``/`` cannot add segments),
    never empty and never a dot segment. ``../jobs`` must not reach the vendor's ``/jobs``
    with the tenant's key, and ``/`` must not reach the collection route: both are NotFound
    without a request."""
    if remote_id.strip() in ("", ".", ".."):
        raise NotFound(f"{what} is not a valid id")
    return quote(remote_id, safe="")
