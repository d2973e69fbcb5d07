"""The read fast path serves exactly what validating the stored record again would serve.

Reads serve the stored JSON document instead of a model validated and copied per request, and
leave ``raw_data`` unparsed when it is not asked for. These tests pin the behaviour, not speed.
"""

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from schemas import Candidate
from tests.service.conftest import Stack
from unified_ats.store.records import _document, model_from_row, served_document

API = "/api/ats/v1"
WITHOUT_RAW = frozenset({"raw_data", "custom_fields"})


def _shaped(candidate: Candidate, *, raw: bool, custom: bool) -> dict:
    return json.loads(
        candidate.model_copy(
            update={
                **({} if raw else {"raw_data": None}),
                **({} if custom else {"custom_fields": None}),
            }
        ).model_dump_json()
    )


@pytest.mark.parametrize("vendor", ["flatchr", "welcomekit", "viasto"])
async def test_reads_serve_what_the_validated_model_serializes_to(
    stack: Stack, vendor: str
) -> None:
    token = (await stack.connect_vendor(vendor))["connector_token"]
    headers = stack.headers(token)
    connection = await stack.services.accounts.connection_for_token(stack.tenant, token)
    assert connection is not None
    page = await stack.client.get(f"{API}/candidates", params={"page_size": 5}, headers=headers)
    assert page.status_code == 200
    items = page.json()["items"]
    assert items
    for item in items:
        stored = await stack.services.records.candidate(connection.id, uuid.UUID(item["id"]))
        assert stored is not None
        validated = Candidate.model_validate(stored.model.model_dump())
        avatar_route = item["avatar"] != validated.avatar  # viasto's photo is served by us
        for raw, custom in ((False, False), (True, True), (True, False)):
            one = await stack.client.get(
                f"{API}/candidates/{item['id']}",
                params={"include_raw_data": raw, "include_custom_fields": custom},
                headers=headers,
            )
            assert one.status_code == 200
            expected = _shaped(validated, raw=raw, custom=custom)
            if avatar_route:
                expected["avatar"] = item["avatar"]
            assert one.json() == expected
        expected = _shaped(validated, raw=False, custom=False)
        if avatar_route:
            expected["avatar"] = item["avatar"]
        assert item == expected


async def test_a_list_with_raw_data_carries_the_vendor_payload(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    page = await stack.client.get(
        f"{API}/candidates",
        params={"page_size": 3, "include_raw_data": "true"},
        headers=stack.headers(token),
    )
    for item in page.json()["items"]:
        assert item["raw_data"]["applicant"] == item["remote_id"]
        assert item["custom_fields"] is None


def _row(text: str) -> SimpleNamespace:
    return SimpleNamespace(
        seq=1,
        id=uuid.uuid4(),
        data=text,
        modified_at=datetime(2026, 1, 2, tzinfo=UTC),
        fetched_at=datetime(2026, 1, 2, tzinfo=UTC),
        remote_was_deleted=False,
    )


def _candidate(**fields: object) -> Candidate:
    return Candidate(
        id=uuid.uuid4(),
        remote_id="r1",
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
        first_name="Zoé",
        raw_data={"secret_looking": "value", "nested": {"raw_data": 1}},
        **fields,
    )


def test_a_document_in_the_stores_layout_is_read_without_its_raw_data() -> None:
    from unified_ats.store.hashing import fingerprint

    document, _, _ = fingerprint(_candidate(custom_fields={"x": 1}))
    parsed = _document(Candidate, document, WITHOUT_RAW)
    assert "raw_data" not in parsed and parsed["first_name"] == "Zoé"
    assert _document(Candidate, document, frozenset())["raw_data"]["nested"] == {"raw_data": 1}


@pytest.mark.parametrize(
    "layout",
    [
        "nested raw_data key in the content",
        "raw_data before the content",
        "a field missing before raw_data",
    ],
)
def test_other_layouts_are_parsed_whole(layout: str) -> None:
    """A cut that is not the store's layout never loses or invents a field."""
    candidate = _candidate(custom_fields={"a": 1, "raw_data": {"b": 2}})
    content = json.loads(candidate.model_dump_json())
    if layout == "nested raw_data key in the content":
        text = json.dumps(content, separators=(",", ":"))
    elif layout == "raw_data before the content":
        raw = content.pop("raw_data")
        text = json.dumps({"raw_data": raw, **content}, separators=(",", ":"))
    else:
        raw = content.pop("raw_data")
        tags = content.pop("tags")
        text = json.dumps({**content, "raw_data": raw, "tags": tags}, separators=(",", ":"))
    row = _row(text)
    served = served_document(Candidate, row, WITHOUT_RAW)
    assert served["custom_fields"] is None and served["raw_data"] is None
    whole = json.loads(text)
    for name, value in whole.items():
        if name not in WITHOUT_RAW | {"id", "modified_at", "remote_was_deleted"}:
            assert served[name] == value, name
    model = model_from_row(Candidate, row)
    assert model.custom_fields == {"a": 1, "raw_data": {"b": 2}}
