"""What every vendor emulator shares: injectable faults, the ``/_emulator/`` control API, paging
switches and an in-process transport.

Emulators are Starlette apps (extra ``emulators``); importing this module needs Starlette.

An emulator is served as an :class:`EmulatorApp`: requests under ``/_emulator/`` go to the
control routes (never faulted, no vendor auth) and everything else goes through
:class:`FaultMiddleware` to the vendor routes. The control routes are written once here; an
emulator supplies only its vendor-specific bits through :class:`EmulatorControl`.
"""

import asyncio
import contextlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol, TypeVar, get_args

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorResponder = Callable[[int, str], Response]
ChangeAction = Literal["create", "update", "delete"]
ChangeKind = Literal["candidate", "job"]
"""What ``POST /_emulator/change`` changes: candidates (the default) or jobs."""
CONTROL_PREFIX = "/_emulator"
HANG_SECONDS = 3600.0
HANG_POLL_SECONDS = 0.05
"""How often a hanging request looks whether ``hang`` was switched off (then it is served)."""
MAX_LATENCY_SECONDS = 3600.0
MAX_CHANGE_COUNT = 1000
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
T = TypeVar("T")


@dataclass
class Faults:
    """Switches a test, the demo or the control API flips to make the vendor misbehave."""

    latency: float = 0.0
    """Seconds added before every answer."""
    fail_status: int | None = None
    """Answer this status (with the vendor's error body) instead of serving."""
    fail_count: int | None = None
    """How many requests fail before the vendor recovers; None: until reset."""
    malformed_json: bool = False
    """Answer 200 with a truncated JSON body."""
    rate_limit_storm: bool = False
    """Answer 429 to everything."""
    retry_after: str | None = "1"
    """``Retry-After`` sent with injected 429/503s (seconds or an HTTP date)."""
    hang: bool = False
    """Never answer (the client's timeout must fire) until switched off."""
    only_paths: tuple[str, ...] = ()
    """Limit faults to paths starting with one of these prefixes; empty: every path."""
    page_size_cap: int | None = None
    """Serve at most this many items per page whatever the client asked, as a server with a
    maximum page size does; the paging metadata follows the capped size."""
    relative_next: bool = False
    """Paging links are relative references (``/api/...?page=2`` or ``?page=2``), not URLs."""
    uneven_pages: bool = False
    """Every second page holds half the page size while more pages follow (the total and the
    page count stay true), as a server that filters rows after paging does."""
    unlisted_records: int = 0
    """The listing leaves out this many records that its total still counts (rows hidden
    after counting): a client must report its enumeration incomplete, never complete."""
    writes_only: bool = False
    """Faults apply to writes (POST/PUT/PATCH/DELETE) only; reads are served."""
    fail_after_commit: bool = False
    """With ``fail_status``: a write (POST/PUT/PATCH/DELETE) is performed, then answered with
    the failure, as when a vendor's gateway times out after its backend committed. A client
    that retries such a write blindly creates a duplicate."""
    oversize_values: int = 0
    """Every name field (a key ending in ``name``) of the first record of each JSON listing
    holds this many characters, as a vendor with unbounded text fields may send."""

    def reset(self) -> None:
        for field in fields(self):
            setattr(self, field.name, field.default)

    def applies_to(self, path: str, method: str = "GET") -> bool:
        if self.writes_only and method not in WRITE_METHODS:
            return False
        return not self.only_paths or path.startswith(self.only_paths)

    def listed(self, items: list[Any]) -> list[Any]:
        """What a listing shows of ``items`` (its total still counts them all)."""
        return items[: max(0, len(items) - self.unlisted_records)]

    def capped(self, size: int) -> int:
        """The page size actually served for a (vendor-clamped) requested ``size``."""
        return size if self.page_size_cap is None else min(size, self.page_size_cap)

    def to_json(self) -> dict[str, Any]:
        """The switches as the control API shows them (``only_paths`` is ``paths`` there)."""
        shown = {SWITCH_FOR_FIELD.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}
        shown["paths"] = list(self.only_paths)
        return shown

    def update(self, body: object) -> None:
        """Apply a control-API body: every switch is checked first, so a rejected body changes
        nothing. Raises :class:`Rejected` naming the unknown keys and the wrong values."""
        if not isinstance(body, dict):
            raise Rejected("the body must be a JSON object of fault switches")
        unknown = sorted(str(k) for k in body if k not in SWITCHES)
        wrong: list[str] = []
        accepted: dict[str, Any] = {}
        for key, value in body.items():
            if key not in SWITCHES:
                continue
            field_name, check, expected = SWITCHES[key]
            converted = check(value)
            if converted is INVALID:
                wrong.append(f"{key} ({expected})")
            else:
                accepted[field_name] = converted
        problems = []
        if unknown:
            problems.append(
                f"unknown switches: {', '.join(unknown)} (known: {', '.join(SWITCHES)})"
            )
        if wrong:
            problems.append(f"wrong values: {', '.join(wrong)}")
        if problems:
            raise Rejected("; ".join(problems))
        for name, value in accepted.items():
            setattr(self, name, value)


class Rejected(ValueError):
    """A control-API request the emulator refuses (answered 422 with this message as detail)."""


INVALID = object()
"""What a switch check returns for a value of the wrong type or range."""


def _bool(value: object) -> object:
    return value if isinstance(value, bool) else INVALID


def _int(value: object, low: int, high: int, *, nullable: bool) -> object:
    if value is None:
        return None if nullable else INVALID
    # bool is an int in Python; `true` is not a status code.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return INVALID
    return value


def _latency(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return INVALID
    if not math.isfinite(value) or not 0 <= value <= MAX_LATENCY_SECONDS:
        return INVALID
    return float(value)


def _retry_after(value: object) -> object:
    if value is None:
        return None
    # It becomes a header: printable ASCII only (no CR/LF, nothing latin-1 cannot encode).
    if not isinstance(value, str) or not value or len(value) > 64:
        return INVALID
    return value if all(" " <= ch <= "~" for ch in value) else INVALID


def _paths(value: object) -> object:
    if not isinstance(value, list) or len(value) > 100:
        return INVALID
    if not all(isinstance(p, str) and p.startswith("/") for p in value):
        return INVALID
    return tuple(value)


MAX_OVERSIZE = 10_000_000
SWITCHES: dict[str, tuple[str, Callable[[object], object], str]] = {
    # control-API key: (Faults field, check/convert, what is expected)
    "latency": ("latency", _latency, f"seconds, a number from 0 to {MAX_LATENCY_SECONDS:g}"),
    "hang": ("hang", _bool, "true or false"),
    "fail_status": (
        "fail_status",
        lambda v: _int(v, 400, 599, nullable=True),
        "an HTTP error status from 400 to 599, or null",
    ),
    "fail_count": (
        "fail_count",
        lambda v: _int(v, 0, 10**9, nullable=True),
        "a count of failing requests >= 0, or null for until reset",
    ),
    "rate_limit_storm": ("rate_limit_storm", _bool, "true or false"),
    "fail_after_commit": ("fail_after_commit", _bool, "true or false"),
    "writes_only": ("writes_only", _bool, "true or false"),
    "malformed_json": ("malformed_json", _bool, "true or false"),
    "retry_after": ("retry_after", _retry_after, "a short printable ASCII string, or null"),
    "paths": ("only_paths", _paths, "a list of path prefixes starting with /"),
    "page_size_cap": (
        "page_size_cap",
        lambda v: _int(v, 1, 10**6, nullable=True),
        "a page size >= 1, or null",
    ),
    "relative_next": ("relative_next", _bool, "true or false"),
    "uneven_pages": ("uneven_pages", _bool, "true or false"),
    "unlisted_records": (
        "unlisted_records",
        lambda v: _int(v, 0, 10**6, nullable=False),
        "a count of records >= 0",
    ),
    "oversize_values": (
        "oversize_values",
        lambda v: _int(v, 0, MAX_OVERSIZE, nullable=False),
        f"a length in characters from 0 to {MAX_OVERSIZE}",
    ),
}
SWITCH_FOR_FIELD = {field_name: key for key, (field_name, _, _) in SWITCHES.items()}


async def _discard(message: Message) -> None:
    return None


class FaultMiddleware:
    """Applies :class:`Faults` before the emulator's routes see the request."""

    def __init__(self, app: ASGIApp, *, faults: Faults, error: ErrorResponder) -> None:
        self.app = app
        self.faults = faults
        self.error = error
        self.requests_seen = 0
        """Vendor requests received (faulted or not; control requests are not counted)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.requests_seen += 1
        if not self.faults.applies_to(scope["path"], scope["method"]):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.hang:
            # Polled rather than one long sleep, so switching `hang` off releases the requests
            # already hanging; an Event would miss a plain `faults.hang = False` from a test.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + HANG_SECONDS
            while faults.hang and loop.time() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(HANG_POLL_SECONDS)
        response: Response | None = None
        if faults.rate_limit_storm:
            response = self.error(429, "Too Many Requests")
        elif faults.fail_status is not None and (
            faults.fail_count is None or faults.fail_count > 0
        ):
            if faults.fail_count is not None:
                faults.fail_count -= 1
            response = self.error(faults.fail_status, "Injected failure")
            if faults.fail_after_commit and scope["method"] in WRITE_METHODS:
                await self.app(scope, receive, _discard)  # committed; its answer is lost
        elif faults.malformed_json:
            response = Response('{"truncated": [', media_type="application/json")
        if response is None:
            if faults.oversize_values:
                await self._inflated(scope, receive, send, faults.oversize_values)
            else:
                await self.app(scope, receive, send)
            return
        if response.status_code in (429, 503) and faults.retry_after is not None:
            response.headers["Retry-After"] = faults.retry_after
        await response(scope, receive, send)

    async def _inflated(self, scope: Scope, receive: Receive, send: Send, length: int) -> None:
        """The vendor's answer with the first listed record's names ``length`` long."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            assert start is not None
            body = b"".join(chunks)
            headers = dict(start.get("headers", []))
            if headers.get(b"content-type", b"").startswith(b"application/json"):
                with contextlib.suppress(ValueError):
                    body = json.dumps(
                        inflate_names(json.loads(body), length), ensure_ascii=False
                    ).encode()
            headers[b"content-length"] = str(len(body)).encode()
            await send({**start, "headers": list(headers.items())})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)


def inflate_names(body: Any, length: int) -> Any:
    """Pad the name fields of the first record of the first listing found in ``body``."""
    records: Any = body
    if isinstance(body, dict):
        records = next((v for v in body.values() if isinstance(v, list)), None)
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return body

    def pad(record: dict[str, Any]) -> None:
        for key, value in record.items():
            if isinstance(value, dict):
                pad(value)
            elif key.endswith("name") and isinstance(value, str):
                record[key] = (value + " " + "É" * length)[:length]

    pad(records[0])
    return body


class EmulatorControl(Protocol):
    """The vendor-specific part of the control API; :class:`EmulatorApp` does the rest."""

    faults: Faults

    def change(self, action: ChangeAction, count: int, account: str | None = None) -> list[str]:
        """Make ``count`` vendor-side changes as a recruiter would, in ``account`` (default: the
        first); answer the affected remote ids as the unified API shows ``remote_id``. Raises
        :class:`Rejected` when the change is impossible (unknown account, too few candidates)."""
        ...

    def change_jobs(
        self, action: ChangeAction, count: int, account: str | None = None
    ) -> list[str]:
        """The same for jobs (``"kind": "job"``): ids are the jobs' ``remote_id``. Deleting a
        job deletes its candidates, as the vendors do."""
        ...

    def state(self) -> dict[str, Any]:
        """``{"vendor", "accounts": [account_state(...)], "ignored_switches": {switch: why}}``."""
        ...


def account_state(
    account: str, remote_ids: list[str], job_remote_ids: list[str] | None = None
) -> dict[str, Any]:
    """One account in ``GET /_emulator/state``: its candidates' (and jobs') remote ids."""
    state: dict[str, Any] = {"account": account, "remote_ids": remote_ids, "count": len(remote_ids)}
    if job_remote_ids is not None:
        state |= {"job_remote_ids": job_remote_ids, "job_count": len(job_remote_ids)}
    return state


def pick_account(accounts: Mapping[str, T], account: str | None) -> tuple[str, T]:
    """The named account, or the first one; :class:`Rejected` when there is no such account."""
    if account is None:
        for name, value in accounts.items():
            return name, value
        raise Rejected("this emulator has no account")
    if account not in accounts:
        raise Rejected(f"unknown account {account!r} (known: {', '.join(accounts)})")
    return account, accounts[account]


def rotate(ids: list[T], cursor: int, count: int) -> list[T]:
    """``count`` distinct ids starting at ``cursor`` (wrapping), so successive updates spread
    over the records instead of changing the same ones again."""
    if count > len(ids):
        raise Rejected(f"only {len(ids)} candidates to change, asked for {count}")
    return [ids[(cursor + n) % len(ids)] for n in range(count)]


def recruiter_changes(
    action: ChangeAction,
    count: int,
    ids: list[T],
    *,
    create: Callable[[], T],
    remove: Callable[[T], None],
    update: Callable[[T], None],
    cursor: int,
) -> list[T]:
    """What every emulator's ``POST /_emulator/change`` does, with the vendor's own steps:
    creates; deletes the oldest first, as a retention purge would; updates spread over the
    records from ``cursor`` on."""
    if action == "create":
        return [create() for _ in range(count)]
    if action == "delete":
        chosen = rotate(ids, 0, count)
        for item in chosen:
            remove(item)
        return chosen
    chosen = rotate(ids, cursor, count)
    for item in chosen:
        update(item)
    return chosen


class EmulatorApp:
    """An emulator's ASGI app: ``/_emulator/`` control routes, then the faulted vendor routes."""

    def __init__(self, vendor_app: ASGIApp, *, control: EmulatorControl, error: ErrorResponder):
        self.control = control
        self.vendor = FaultMiddleware(vendor_app, faults=control.faults, error=error)
        base = CONTROL_PREFIX
        self.control_app = Starlette(
            routes=[
                Route(f"{base}/faults", self.get_faults, methods=["GET"]),
                Route(f"{base}/faults", self.set_faults, methods=["POST"]),
                Route(f"{base}/faults", self.reset_faults, methods=["DELETE"]),
                Route(f"{base}/change", self.change, methods=["POST"]),
                Route(f"{base}/state", self.state, methods=["GET"]),
            ]
        )

    @property
    def requests_seen(self) -> int:
        return self.vendor.requests_seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (
            path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")
        ):
            # Before the fault middleware: a hanging or failing emulator still obeys control.
            await self.control_app(scope, receive, send)
        else:
            await self.vendor(scope, receive, send)

    async def get_faults(self, request: Request) -> Response:
        return json_response(self.control.faults.to_json())

    async def set_faults(self, request: Request) -> Response:
        try:
            self.control.faults.update(await _control_body(request))
        except Rejected as exc:
            return json_response({"detail": str(exc)}, status=422)
        return json_response(self.control.faults.to_json())

    async def reset_faults(self, request: Request) -> Response:
        self.control.faults.reset()
        return json_response(self.control.faults.to_json())

    async def change(self, request: Request) -> Response:
        try:
            action, count, account, kind = _change_request(await _control_body(request))
            change = self.control.change_jobs if kind == "job" else self.control.change
            ids = change(action, count, account)
        except Rejected as exc:
            return json_response({"detail": str(exc)}, status=422)
        return json_response({"action": action, "kind": kind, "ids": ids})

    async def state(self, request: Request) -> Response:
        return json_response(
            {
                **self.control.state(),
                "faults": self.control.faults.to_json(),
                "requests_seen": self.requests_seen,
            }
        )


async def _control_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise Rejected("the body must be JSON") from None


def _change_request(body: object) -> tuple[ChangeAction, int, str | None, ChangeKind]:
    if not isinstance(body, dict):
        raise Rejected('the body must be a JSON object: {"action": ..., "count": n}')
    problems = []
    unknown = sorted(str(k) for k in body if k not in ("action", "count", "account", "kind"))
    if unknown:
        problems.append(f"unknown keys: {', '.join(unknown)}")
    action = body.get("action")
    actions: tuple[ChangeAction, ...] = get_args(ChangeAction)
    if action not in actions:
        problems.append(f"action must be one of {', '.join(actions)}")
    count = _int(body.get("count", 1), 1, MAX_CHANGE_COUNT, nullable=False)
    if count is INVALID:
        problems.append(f"count must be an integer from 1 to {MAX_CHANGE_COUNT}")
    account = body.get("account")
    if account is not None and (isinstance(account, bool) or not isinstance(account, str | int)):
        problems.append("account must be a string naming the company or organization")
    kinds: tuple[ChangeKind, ...] = get_args(ChangeKind)
    kind = body.get("kind", "candidate")
    if kind not in kinds:
        problems.append(f"kind must be one of {', '.join(kinds)} (default: candidate)")
    if problems:
        raise Rejected("; ".join(problems))
    assert isinstance(count, int)
    return (
        next(a for a in actions if a == action),
        count,
        None if account is None else str(account),
        next(k for k in kinds if k == kind),
    )


@dataclass(frozen=True)
class PageWindow:
    """Which slice of a list one page serves, and how many pages the list has."""

    start: int
    end: int
    pages: int


def page_window(total: int, size: int, page: int, *, uneven: bool = False) -> PageWindow:
    """Page ``page`` (from 1) of ``total`` items at ``size`` per page.

    ``uneven``: every second page holds ``size // 2`` (at least 1); a page past the end is empty.
    """
    if not uneven:
        start = (page - 1) * size
        return PageWindow(start, start + size, max(1, math.ceil(total / size)))
    bounds: list[tuple[int, int]] = []
    start = 0
    while start < total:
        length = size if len(bounds) % 2 == 0 else max(1, size // 2)
        bounds.append((start, min(total, start + length)))
        start += length
    if not bounds:
        bounds.append((0, 0))
    first, last = bounds[page - 1] if 1 <= page <= len(bounds) else (total, total)
    return PageWindow(first, last, len(bounds))


class EmulatorTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` that also enforces the request's read timeout.

    ASGITransport ignores timeouts; without this a hanging emulator would hang the test instead
    of producing the ``httpx.ReadTimeout`` a real network gives.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        try:
            return await asyncio.wait_for(self._inner.handle_async_request(request), timeout)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("emulator did not answer in time", request=request) from exc


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # json.dumps without ASCII escaping: what a real vendor sends for accented names.
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def read_json(request: Request) -> Any:
    body = await request.body()
    if not body:
        return {}
    return json.loads(body)


def bearer_token(request: Request, *query_names: str) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    for name in query_names:
        if request.query_params.get(name):
            return request.query_params[name]
    return None


__all__ = [
    "CONTROL_PREFIX",
    "ChangeAction",
    "EmulatorApp",
    "EmulatorControl",
    "EmulatorTransport",
    "FaultMiddleware",
    "Faults",
    "PageWindow",
    "Rejected",
    "account_state",
    "bearer_token",
    "json_response",
    "page_window",
    "pick_account",
    "read_json",
    "rotate",
]
