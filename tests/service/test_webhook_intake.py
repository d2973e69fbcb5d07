"""Webhook intake: ids, body size, field size, nesting; every 4xx leaves the store untouched.

Runs on SQLite and PostgreSQL (the ``stack`` fixture), with Flatchr's emulator as the vendor.
"""

import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from connectors.flatchr.emulator.data import COLUMNS
from tests.service.conftest import FLATCHR_COMPANY, Stack
from unified_ats.store.tables import ApplicationRow, AttachmentRow, CandidateRow

MIB = 1024 * 1024
KIB_64 = 64 * 1024


async def snapshot(stack: Stack) -> list[tuple[Any, ...]]:
    """Every stored candidate, attachment and application row, every column: what a 4xx must
    not change."""
    rows: list[tuple[Any, ...]] = []
    async with stack.services.records.sessions() as session:
        for table in (CandidateRow, AttachmentRow, ApplicationRow):
            result = await session.execute(select(table).order_by(table.remote_id))
            for (row,) in result.all():
                rows.append(
                    (table.__tablename__, *(getattr(row, c.key) for c in table.__table__.columns))
                )
    return rows


async def candidate_count(stack: Stack) -> int:
    return sum(1 for row in await snapshot(stack) if row[0] == "candidates")


class Hook:
    """A connected Flatchr connection, its webhook URL and a valid payload to vary."""

    def __init__(self, stack: Stack, url: str) -> None:
        self.stack = stack
        self.url = url
        self.applicant = next(iter(stack.flatchr.companies[FLATCHR_COMPANY].applicants))

    def payload(self) -> dict[str, Any]:
        return copy.deepcopy(self.stack.flatchr.webhook_payload(FLATCHR_COMPANY, self.applicant))

    async def post(self, **kwargs: Any) -> Any:
        return await self.stack.client.post(self.url, **kwargs)

    async def rejected(self, status: int, **kwargs: Any) -> str:
        """Post, expect ``status`` with a detail, and prove nothing in the store changed."""
        before = await snapshot(self.stack)
        response = await self.post(**kwargs)
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert detail
        after = await snapshot(self.stack)
        assert len([r for r in after if r[0] == "candidates"]) == len(
            [r for r in before if r[0] == "candidates"]
        )
        assert after == before
        return str(detail)


@pytest.fixture
async def hook(stack: Stack) -> Hook:
    created = await stack.connect_flatchr()
    return Hook(stack, created["webhook_url"])


def at(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = payload
    *parents, last = path.split(".")
    for name in parents:
        node = node[name]
    node[last] = value
    return payload


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id",
    [{"x": 1}, [1], ["a"], True, False, 1.5, None, "", "   ", {}],
    ids=repr,
)
async def test_applicant_id_must_be_a_string_or_an_integer(hook: Hook, bad_id: Any) -> None:
    detail = await hook.rejected(422, json=at(hook.payload(), "data.applicant.id", bad_id))
    assert "applicant.id" in detail


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("data.cv.key", {"x": 1}),
        ("data.candidate.id", {"x": 1}),
        ("data.applicant.vacancy_id", [1, 2]),
        ("data.applicant.candidate_id", 2.5),
        ("data.vacancy.id", {"id": 3}),
        ("data.candidate.id", True),
    ],
)
async def test_other_ids_must_be_strings_or_integers_too(hook: Hook, path: str, bad: Any) -> None:
    payload = hook.payload()
    if payload["data"]["cv"] is None:
        payload["data"]["cv"] = {"key": "cv/x", "extension": "pdf"}
    await hook.rejected(422, json=at(payload, path, bad))


@pytest.mark.parametrize("good_id", ["A1b2C3", 4242, "  padded  "])
async def test_string_and_integer_ids_are_stored_as_text(hook: Hook, good_id: Any) -> None:
    response = await hook.post(json=at(hook.payload(), "data.applicant.id", good_id))
    assert response.status_code == 200, response.text
    async with hook.stack.services.records.sessions() as session:
        stored = (
            await session.execute(
                select(CandidateRow.remote_id).where(
                    CandidateRow.id == uuid.UUID(response.json()["candidate"])
                )
            )
        ).scalar_one()
    assert stored == str(good_id).strip()  # as a sync stores it (trimmed text)


# --- body size ------------------------------------------------------------------------------


async def test_a_body_over_one_mib_is_413_by_its_content_length(hook: Hook) -> None:
    body = json.dumps({"pad": "x" * MIB}).encode()
    assert len(body) > MIB
    detail = await hook.rejected(413, content=body, headers={"Content-Type": "application/json"})
    assert "1048576" in detail or "1 MiB" in detail


async def test_a_chunked_body_without_content_length_is_cut_at_the_cap(hook: Hook) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"pad": "'
        while True:  # never ends: the route must stop reading at the cap
            sent += 64 * 1024
            yield b"x" * (64 * 1024)

    await hook.rejected(413, content=endless())
    assert sent <= 2 * MIB


async def test_a_content_length_that_lies_is_caught_while_streaming(hook: Hook) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * (64 * 1024)

    await hook.rejected(413, content=chunks(), headers={"Content-Length": "10"})


async def test_the_cap_is_a_setting(hook: Hook) -> None:
    hook.stack.services.settings.webhook_max_body_bytes = 4096
    payload = hook.payload()
    at(payload, "data.candidate.firstname", "y" * 5000)
    await hook.rejected(413, json=payload)
    assert (await hook.post(json=hook.payload())).status_code == 200


async def test_a_body_just_under_the_cap_is_accepted(hook: Hook) -> None:
    payload = hook.payload()
    payload["data"]["user"] = {f"k{i}": "z" * 60_000 for i in range(15)}  # ~900 KB, fields < 64 KiB
    assert MIB - 200_000 < len(json.dumps(payload)) < MIB
    assert (await hook.post(json=payload)).status_code == 200


# --- fields and nesting ---------------------------------------------------------------------


@pytest.mark.parametrize("where", ["data.candidate.firstname", "data.message", "data.user.note"])
async def test_a_string_field_over_64_kib_is_413(hook: Hook, where: str) -> None:
    detail = await hook.rejected(413, json=at(hook.payload(), where, "é" * (KIB_64 // 2 + 1)))
    assert "65536" in detail or "64 KiB" in detail


async def test_a_key_over_64_kib_is_413(hook: Hook) -> None:
    payload = hook.payload()
    payload["data"]["user"] = {"k" * (KIB_64 + 1): 1}
    await hook.rejected(413, json=payload)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"n": value}
    return value


async def test_nesting_deeper_than_64_is_422(hook: Hook) -> None:
    # data.user adds 2 levels (the body and data): 62 more make 64, accepted; 63 more refused.
    assert (await hook.post(json=at(hook.payload(), "data.user", nested(62)))).status_code == 200
    detail = await hook.rejected(422, json=at(hook.payload(), "data.user", nested(63)))
    assert "64" in detail


@pytest.mark.parametrize("depth", [1_000, 100_000, 400_000])
async def test_absurd_nesting_is_a_422_not_a_recursion_error(hook: Hook, depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    assert len(body) <= MIB
    await hook.rejected(422, content=body)


@pytest.mark.parametrize(
    "raw",
    ["NaN", "Infinity", "-Infinity", "1e999", '"\\u0000"', '"\\ud800"', "9" * 5000],
)
async def test_values_no_store_can_keep_are_422(hook: Hook, raw: str) -> None:
    """Inside an otherwise valid webhook: non-finite numbers, NUL, lone surrogates, huge ints."""
    body = json.dumps(hook.payload())
    assert '"user": {}' in body
    await hook.rejected(422, content=body.replace('"user": {}', f'"user": {{"v": {raw}}}'))


async def test_bodies_that_are_not_json_are_422(hook: Hook) -> None:
    for body in (b"\xff\xfe{}", b"not json", b"", b'{"a": 1'):
        await hook.rejected(422, content=body)


async def test_nul_and_surrogates_inside_a_valid_webhook_are_422(hook: Hook) -> None:
    await hook.rejected(422, json=at(hook.payload(), "data.candidate.firstname", "Ann\u0000e"))
    raw = json.dumps(hook.payload()).replace('"firstname": "', '"firstname": "\\udc00', 1)
    await hook.rejected(422, content=raw.encode())


async def stored(stack: Stack, candidate_id: str) -> CandidateRow:
    async with stack.services.records.sessions() as session:
        return (
            await session.execute(
                select(CandidateRow).where(CandidateRow.id == uuid.UUID(candidate_id))
            )
        ).scalar_one()


async def test_a_valid_webhook_is_accepted_and_a_replay_only_confirms_the_copy(
    hook: Hook,
) -> None:
    first = await hook.post(json=hook.payload())
    assert first.status_code == 200, first.text
    count = await candidate_count(hook.stack)
    before = await stored(hook.stack, first.json()["candidate"])
    replay = await hook.post(json=hook.payload())
    assert replay.status_code == 200 and replay.json()["changed"] is False
    assert await candidate_count(hook.stack) == count
    after = await stored(hook.stack, first.json()["candidate"])
    assert after.modified_at == before.modified_at and after.content_hash == before.content_hash
    assert after.fetched_at > before.fetched_at  # touch_unchanged: the vendor confirmed it now


async def test_drag_applicant_moves_the_application_to_its_new_stage_at_once(
    hook: Hook,
) -> None:
    """The recruiter drags the card to another column: the webhook moves the application's
    stage before any sync, and the next full sync finds nothing more to change."""
    stack = hook.stack
    applicant = stack.flatchr.companies[FLATCHR_COMPANY].applicants[hook.applicant]
    new_column = (applicant.column + 1) % len(COLUMNS)
    stack.flatchr.touch(FLATCHR_COMPANY, hook.applicant, column=new_column)
    body = stack.flatchr.webhook_payload(FLATCHR_COMPANY, hook.applicant, event="drag_applicant")
    answer = await hook.post(json=body)
    assert answer.status_code == 200 and answer.json()["changed"] is True
    [application_id] = answer.json()["applications"]
    moved = await stored_application(stack, uuid.UUID(application_id))
    stage = await stack.services.records.record(
        "job_interview_stages", moved.connection_id, moved.stage_id
    )
    assert stage is not None and stage.model.name == COLUMNS[new_column][1]
    assert stage.model.job == moved.job_id
    report = await stack.services.sync(moved.connection_id, full=True)
    assert report.written["applications"].changed == 0, "the webhook and the sync disagree"
    after = await stored_application(stack, uuid.UUID(application_id))
    assert after.stage_id == moved.stage_id and after.modified_at == moved.modified_at


async def stored_application(stack: Stack, application_id: uuid.UUID) -> ApplicationRow:
    async with stack.services.records.sessions() as session:
        row = await session.scalar(
            select(ApplicationRow).where(ApplicationRow.id == application_id)
        )
    assert row is not None
    return row


def test_413_is_declared_in_openapi(stack: Stack) -> None:
    from unified_ats.api.app import create_app

    spec = create_app(services=stack.services).openapi()
    responses = spec["paths"]["/webhooks/{secret}"]["post"]["responses"]
    assert "413" in responses and "422" in responses


# --- random bodies: never a 5xx; a 4xx stores nothing ---------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
PATHS = [
    "data.applicant.id",
    "data.applicant.column",
    "data.applicant.created_at",
    "data.applicant.updated_at",
    "data.applicant.score",
    "data.applicant.vacancy_id",
    "data.candidate",
    "data.candidate.id",
    "data.candidate.email",
    "data.candidate.phone",
    "data.candidate.urls",
    "data.candidate.firstname",
    "data.candidate.created_at",
    "data.cv",
    "data.vacancy",
    "data.company",
    "data",
    "event",
]


async def check_random(hook: Hook, **kwargs: Any) -> None:
    before = await snapshot(hook.stack)
    response = await hook.post(**kwargs)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert await snapshot(hook.stack) == before


HYPOTHESIS = settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)


@HYPOTHESIS
@given(body=JSON_VALUES)
async def test_random_json_bodies_never_5xx(hook: Hook, body: Any) -> None:
    await check_random(hook, json=body)


@HYPOTHESIS
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=3))
async def test_random_changes_to_a_real_webhook_never_5xx(
    hook: Hook, mutations: list[tuple[str, Any]]
) -> None:
    payload = hook.payload()
    for path, value in mutations:
        # An earlier mutation may have replaced a parent: then this path no longer exists.
        with contextlib.suppress(KeyError, TypeError):
            at(payload, path, value)
    await check_random(hook, json=payload)


@HYPOTHESIS
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
async def test_random_bytes_never_5xx(hook: Hook, raw: bytes) -> None:
    await check_random(hook, content=raw)
