"""Both clients against scripted answers (``httpx.MockTransport``): what they send, how they
retry, what they raise, what they keep secret."""

import inspect
import pickle
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas import Candidate
from tests.client.conftest import API_KEY, BASE, TOKEN, Harness, Server, error
from unified_ats.client import (
    ApiError,
    AsyncClient,
    Client,
    Conflict,
    InvalidRequest,
    NotFound,
    NotSupported,
    RateLimited,
    SyncStatus,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    VendorError,
)

CANDIDATE = {"id": str(uuid.UUID(int=1)), "modified_at": "2024-05-01T10:00:00Z"}


def page(items: list[dict[str, Any]], cursor: str | None, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"cursor": cursor, "page_size": 2, "items": items, **extra})


def candidate(n: int, **extra: Any) -> dict[str, Any]:
    return {**CANDIDATE, "id": str(uuid.UUID(int=n)), **extra}


# --- requests ---------------------------------------------------------------------------------


async def test_query_encoding_headers_and_paths(harness: Callable[..., Harness]) -> None:
    h = harness(page([], None))
    paris = timezone(timedelta(hours=2))
    await h.call(
        lambda c: c.candidates.list.page(
            ids=[uuid.UUID(int=1), "b"],
            modified_after=datetime(2024, 5, 1, 12, 0, tzinfo=paris),
            modified_before=datetime(2024, 5, 2),  # naive: UTC
            created_after="2024-01-01T00:00:00Z",
            include_raw_data=True,
            include_deleted=False,
            expand=["applications"],
            first_name=None,
            page_size=2,
        )
    )
    [request] = h.server.requests
    assert request.url.path == "/api/ats/v1/candidates"
    assert dict(request.url.params) == {
        "ids": f"{uuid.UUID(int=1)},b",
        "modified_after": "2024-05-01T10:00:00Z",
        "modified_before": "2024-05-02T00:00:00Z",
        "created_after": "2024-01-01T00:00:00Z",
        "include_raw_data": "true",
        "include_deleted": "false",
        "expand": "applications",
        "page_size": "2",
    }
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["x-connector-token"] == TOKEN
    assert request.headers["accept"] == "application/json"


async def test_ids_are_one_path_segment_and_refresh_sends_no_cache(
    harness: Callable[..., Harness],
) -> None:
    h = harness(httpx.Response(200, json=CANDIDATE))
    await h.call(lambda c: c.candidates.get("../jobs?x=1", expand="applications", refresh=True))
    [request] = h.server.requests
    assert request.url.raw_path == b"/api/ats/v1/candidates/..%2Fjobs%3Fx%3D1?expand=applications"
    assert request.headers["cache-control"] == "no-cache"
    for bad in ("..", ".", ""):
        with pytest.raises(ValueError, match="not an id"):
            await h.call(lambda c, bad=bad: c.jobs.get(bad))
    with pytest.raises(ValueError, match="empty list"):
        await h.call(lambda c: c.applications.list.page(job=[]))
    assert len(h.server.requests) == 1


async def test_base_url_keeps_a_path_prefix(harness: Callable[..., Harness]) -> None:
    h = harness(httpx.Response(200, json=[]))
    h.client = type(h.client)(
        "https://proxy.example/ats/?q=1",
        API_KEY,
        transport=httpx.MockTransport(h.server),  # type: ignore[arg-type]
    )
    assert await h.call(lambda c: c.connections.list()) == []
    assert str(h.server.requests[0].url) == "https://proxy.example/ats/api/ats/v1/connections"


async def test_api_key_routes_send_no_connector_token(harness: Callable[..., Harness]) -> None:
    created = {
        "id": str(uuid.uuid4()),
        "connector": "flatchr",
        "account": "acme",
        "token_hint": "uats_ct_…abcd",
        "created_at": "2024-05-01T10:00:00Z",
        "last_full_sync_at": None,
        "connector_token": "uats_ct_" + "N" * 43,
        "webhook_url": "https://x/webhooks/uats_wh_" + "W" * 43,
    }
    h = harness(httpx.Response(201, json=created), httpx.Response(204))
    made = await h.call(lambda c: c.connections.create("flatchr", {"api_key": "v", "x": 1}))
    assert made.connector_token == created["connector_token"]
    assert created["connector_token"] not in repr(made)
    assert created["webhook_url"] not in repr(made)
    assert await h.call(lambda c: c.connections.delete(made.id)) is None
    create, delete = h.server.requests
    assert (create.method, create.url.path) == ("POST", "/api/ats/v1/connections")
    assert create.read() == b'{"connector":"flatchr","settings":{"api_key":"v","x":1}}'
    assert (delete.method, delete.url.path) == ("DELETE", f"/api/ats/v1/connections/{made.id}")
    assert all("x-connector-token" not in r.headers for r in h.server.requests)


async def test_a_data_route_without_a_connector_token_fails_before_sending(
    harness: Callable[..., Harness],
) -> None:
    h = harness(httpx.Response(200, json=CANDIDATE), token=None)
    with pytest.raises(ValueError, match="needs a connector token"):
        await h.call(lambda c: c.candidates.get(uuid.uuid4()))
    assert h.server.requests == []
    derived = h.client.with_connector_token(TOKEN)
    h.client = derived
    assert isinstance(await h.call(lambda c: c.candidates.get(CANDIDATE["id"])), Candidate)
    assert h.server.requests[0].headers["x-connector-token"] == TOKEN


async def test_an_unknown_option_is_a_type_error_before_sending(
    harness: Callable[..., Harness],
) -> None:
    h = harness(page([], None))
    unknown: dict[str, Any] = {"tags": "x"}
    with pytest.raises(TypeError, match="tags"):
        await h.call(lambda c: c.candidates.list(**unknown))
    with pytest.raises(TypeError, match="expand"):
        await h.call(lambda c: c.jobs.get("id", expand="x"))
    with pytest.raises(TypeError, match="refresh"):
        await h.call(lambda c: c.attachments.get("id", refresh=True))
    assert h.server.requests == []


async def test_sync_status_trigger_sends_full(harness: Callable[..., Harness]) -> None:
    h = harness(httpx.Response(202, json={"status": "queued", "full": True}))
    accepted = await h.call(lambda c: c.sync_status.trigger(full=True))
    assert accepted.status == "queued"
    assert h.server.requests[0].method == "POST"
    assert h.server.requests[0].url.params["full"] == "true"


# --- answers ----------------------------------------------------------------------------------


async def test_list_follows_the_cursor_lazily_until_it_is_null(
    harness: Callable[..., Harness],
) -> None:
    h = harness(
        page([candidate(1), candidate(2)], "c1"),
        page([candidate(3), candidate(4)], "c2"),
        page([candidate(5)], None),
    )
    records = h.client.candidates.list(page_size=2, email_addresses="a@b.c")
    assert h.server.requests == []  # nothing is sent before iterating
    ids = [r.id.int for r in await h.call(lambda c: records)]
    assert ids == [1, 2, 3, 4, 5]
    cursors = [r.url.params.get("cursor") for r in h.server.requests]
    assert cursors == [None, "c1", "c2"]
    assert all(r.url.params["email_addresses"] == "a@b.c" for r in h.server.requests)


async def test_a_repeated_cursor_stops_the_iteration(harness: Callable[..., Harness]) -> None:
    h = harness(page([candidate(1)], "same"))
    with pytest.raises(UnexpectedResponse, match="same cursor"):
        await h.call(lambda c: c.candidates.list())
    assert len(h.server.requests) == 2


async def test_additive_fields_are_ignored(harness: Callable[..., Harness]) -> None:
    status = {
        "connection_id": "c",
        "state": "brand-new-state",
        "last_started_at": None,
        "last_finished_at": None,
        "last_success_at": None,
        "last_full_success_at": None,
        "last_error": None,
        "seen": 1,
        "changed": 0,
        "deleted": 0,
        "total": None,
        "duration_seconds": None,
        "future": {"anything": 1},
        "models": {"candidates": {"seen": 1, "changed": 0, "deleted": 0, "new": 2}},
    }
    h = harness(
        page([candidate(1, future_field=1, urls=[{"value": "x", "extra": 1}])], None, more=1),
        httpx.Response(200, json=status),
    )
    [record] = await h.call(lambda c: c.candidates.list())
    assert record.urls[0].value == "x"
    parsed = await h.call(lambda c: c.sync_status.get())
    assert isinstance(parsed, SyncStatus) and parsed.models["candidates"].seen == 1


async def test_a_body_that_is_not_the_documented_one_is_unexpected(
    harness: Callable[..., Harness],
) -> None:
    h = harness(
        httpx.Response(200, text="<html>proxy login</html>"),
        httpx.Response(200, json={"id": "not-a-uuid"}),
    )
    with pytest.raises(UnexpectedResponse, match="cannot read"):
        await h.call(lambda c: c.candidates.get(uuid.uuid4()))
    with pytest.raises(UnexpectedResponse):
        await h.call(lambda c: c.candidates.get(uuid.uuid4()))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, InvalidRequest),
        (401, Unauthorized),
        (404, NotFound),
        (409, Conflict),
        (422, InvalidRequest),
        (501, NotSupported),
        (502, VendorError),
        (503, VendorError),
        (504, VendorError),
        (500, ApiError),
        (302, ApiError),
    ],
)
async def test_statuses_map_to_typed_errors(
    harness: Callable[..., Harness], status: int, kind: type[ApiError]
) -> None:
    detail: Any = [{"loc": ["query", "page_size"], "msg": "too big", "type": "x"}]
    h = harness(error(status, detail))
    with pytest.raises(kind) as raised:
        await h.call(lambda c: c.jobs.list.page(page_size=900))
    assert type(raised.value) is kind
    assert raised.value.status_code == status
    assert raised.value.detail == detail
    assert str(raised.value) == f"{status}: query.page_size: too big (GET /api/ats/v1/jobs)"
    assert "900" not in str(raised.value)  # no query string in messages
    assert len(h.server.requests) == 1
    copy = pickle.loads(pickle.dumps(raised.value))  # noqa: S301 - our own object
    assert (type(copy), copy.status_code, copy.detail) == (kind, status, detail)


# --- retries ----------------------------------------------------------------------------------


async def test_429_waits_retry_after_then_succeeds(harness: Callable[..., Harness]) -> None:
    h = harness(
        error(429, **{"Retry-After": "3"}),
        error(429, **{"Retry-After": "0.5"}),
        httpx.Response(200, json=CANDIDATE),
    )
    assert isinstance(await h.call(lambda c: c.candidates.get(uuid.uuid4())), Candidate)
    assert h.slept == [3.0, 0.5]
    assert len(h.server.requests) == 3


async def test_retries_are_bounded_then_rate_limited_is_raised(
    harness: Callable[..., Harness],
) -> None:
    h = harness(error(429, "slow down", **{"Retry-After": "7"}), max_retries=3)
    with pytest.raises(RateLimited) as raised:
        await h.call(lambda c: c.candidates.list.page())
    assert raised.value.retry_after == 7.0
    assert raised.value.detail == "slow down"
    assert h.slept == [7.0, 7.0, 7.0]
    assert len(h.server.requests) == 4


async def test_no_retry_when_disabled_or_the_wait_is_too_long(
    harness: Callable[..., Harness],
) -> None:
    h = harness(error(429, **{"Retry-After": "5"}), max_retries=0)
    with pytest.raises(RateLimited):
        await h.call(lambda c: c.candidates.list.page())
    long = harness(error(429, **{"Retry-After": "3600"}), max_retry_wait=60)
    with pytest.raises(RateLimited) as raised:
        await long.call(lambda c: c.candidates.list.page())
    assert raised.value.retry_after == 3600
    assert h.slept == long.slept == []
    assert len(h.server.requests) == len(long.server.requests) == 1


async def test_429_without_retry_after_or_with_a_date(harness: Callable[..., Harness]) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    h = harness(error(429), error(429, **{"Retry-After": soon}), page([], None))
    await h.call(lambda c: c.candidates.list.page())
    assert h.slept[0] == 1.0
    assert 25 <= h.slept[1] <= 30


async def test_post_is_retried_on_429_only(harness: Callable[..., Harness]) -> None:
    accepted = httpx.Response(202, json={"status": "started", "full": False})
    h = harness(error(429, **{"Retry-After": "1"}), accepted)
    assert (await h.call(lambda c: c.sync_status.trigger())).status == "started"
    assert len(h.server.requests) == 2
    for status in (502, 503, 504):
        failing = harness(error(status, **{"Retry-After": "1"}))
        with pytest.raises(VendorError):
            await failing.call(lambda c: c.connections.rotate_token(uuid.uuid4()))
        assert len(failing.server.requests) == 1 and failing.slept == []


async def test_get_is_retried_on_503_with_retry_after_only(
    harness: Callable[..., Harness],
) -> None:
    h = harness(error(503, **{"Retry-After": "2"}), httpx.Response(200, json=CANDIDATE))
    await h.call(lambda c: c.candidates.get(uuid.uuid4()))
    assert h.slept == [2.0]
    for answer in (error(503), error(502, **{"Retry-After": "2"}), error(504)):
        once = harness(answer)
        with pytest.raises(VendorError):
            await once.call(lambda c: c.candidates.get(uuid.uuid4()))
        assert len(once.server.requests) == 1


# --- secrets ----------------------------------------------------------------------------------


async def test_secrets_stay_out_of_repr_and_errors(harness: Callable[..., Harness]) -> None:
    echo = f"bad key {API_KEY} or token {TOKEN}"
    h = harness(
        error(401, echo),
        error(422, [{"loc": ["header", TOKEN], "msg": echo, "type": "x"}]),
        httpx.Response(400, text=echo),
    )
    assert API_KEY not in repr(h.client) and TOKEN not in repr(h.client)
    assert "api_key='***'" in repr(h.client)
    assert TOKEN not in repr(h.client.with_connector_token(TOKEN))
    assert API_KEY not in repr(vars(h.client)) and TOKEN not in repr(vars(h.client))
    for _ in range(3):
        with pytest.raises(ApiError) as raised:
            await h.call(lambda c: c.candidates.get(uuid.uuid4()))
        text = f"{raised.value} {raised.value!r} {raised.value.detail} {raised.value.headers}"
        assert API_KEY not in text and TOKEN not in text
        assert "[redacted]" in text


async def test_transport_errors_are_typed_and_secret_free(
    harness: Callable[..., Harness],
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}")

    h = harness(refuse)
    with pytest.raises(TransportError) as raised:
        await h.call(lambda c: c.candidates.get(uuid.uuid4()))
    assert API_KEY not in str(raised.value)
    assert "GET /api/ats/v1/candidates/" in str(raised.value)


def test_credentials_are_checked() -> None:
    for bad in ("", " key", "key\n", "a\x00b"):
        with pytest.raises(ValueError, match="credential"):
            Client(BASE, bad)
        with pytest.raises(ValueError, match="credential"):
            Client(BASE, API_KEY, bad)
    with pytest.raises(ValueError, match="base_url"):
        Client("127.0.0.1:8000", API_KEY)
    with pytest.raises(ValueError, match="max_retries"):
        Client(BASE, API_KEY, max_retries=-1)
    with pytest.raises(ValueError, match="not both"):
        Client(BASE, API_KEY, transport=httpx.MockTransport(Server([])), http_client=httpx.Client())
    typo: dict[str, Any] = {"max_retry": 3}
    with pytest.raises(TypeError, match="max_retry"):
        AsyncClient(BASE, API_KEY, **typo)


# --- downloads --------------------------------------------------------------------------------


def names_under(directory: Path) -> list[str]:
    return [path.name for path in directory.rglob("*")]


def file_answer(disposition: str, content: bytes = b"%PDF-1.4 cv") -> httpx.Response:
    return httpx.Response(
        200,
        content=content,
        headers={"Content-Type": "application/pdf", "Content-Disposition": disposition},
    )


async def test_download_to_a_directory_never_writes_outside_it(
    harness: Callable[..., Harness], tmp_path: Path
) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    h = harness(
        file_answer("attachment; filename=\"x\"; filename*=UTF-8''..%2F..%2Fevil%0A.pdf"),
        file_answer('attachment; filename="..\\\\..\\\\win.pdf"'),
        file_answer('attachment; filename=".."'),
        file_answer("inline"),
    )
    attachment = uuid.uuid4()
    names = [
        (await h.call(lambda c: c.attachments.download(attachment, to=inside))).name
        for _ in range(4)
    ]
    assert names == ["evil.pdf", "win.pdf", str(attachment), str(attachment)]
    assert sorted(names_under(tmp_path)) == sorted(
        ["inside", "evil.pdf", "win.pdf", str(attachment)]
    )
    assert (inside / "evil.pdf").read_bytes() == b"%PDF-1.4 cv"
    assert h.server.requests[0].headers["accept"] == "*/*"


async def test_a_failed_download_leaves_no_file(
    harness: Callable[..., Harness], tmp_path: Path
) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        class Stream(httpx.SyncByteStream, httpx.AsyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                yield b"half a file"
                raise httpx.ReadError("connection reset")

            async def __aiter__(self):  # type: ignore[no-untyped-def]
                yield b"half a file"
                raise httpx.ReadError("connection reset")

        return httpx.Response(
            200, stream=Stream(), headers={"Content-Disposition": 'attachment; filename="a.pdf"'}
        )

    h = harness(broken, error(404))
    with pytest.raises(TransportError, match="connection reset"):
        await h.call(lambda c: c.attachments.download(uuid.uuid4(), to=tmp_path))
    with pytest.raises(NotFound):
        await h.call(lambda c: c.candidates.avatar(uuid.uuid4(), to=tmp_path))
    assert names_under(tmp_path) == []
    with pytest.raises(NotADirectoryError):
        await h.call(lambda c: c.attachments.download(uuid.uuid4(), to=tmp_path / "missing"))


def test_methods_keep_their_name_docstring_and_signature() -> None:
    client = Client(BASE, API_KEY, TOKEN)
    get = client.candidates.get
    assert get.__name__ == "get" and "One candidate" in (get.__doc__ or "")
    signature = inspect.signature(get)
    assert list(signature.parameters) == ["id", "options"]
    assert signature.return_annotation is inspect.Signature.empty
    assert list(inspect.signature(client.connections.create).parameters) == [
        "connector",
        "settings",
    ]
