"""The unified API end to end in-process: Flatchr emulator -> connector -> store -> routes."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import Attachment, Candidate
from tests.service.conftest import FLATCHR_COMPANY, FLATCHR_KEY, Stack

API = "/api/ats/v1"


async def all_candidates(stack: Stack, token: str, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await stack.client.get(
            f"{API}/candidates", params=query, headers=stack.headers(token)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["cursor"]
        if cursor is None:
            return items


async def test_single_candidate_is_the_unified_shape(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    [first] = (
        await stack.client.get(
            f"{API}/candidates", params={"page_size": 1}, headers=stack.headers(token)
        )
    ).json()["items"]
    response = await stack.client.get(
        f"{API}/candidates/{first['id']}", headers=stack.headers(token)
    )
    assert response.status_code == 200
    body = response.json()
    Candidate.model_validate(body)
    assert body["raw_data"] is None and body["custom_fields"] is None  # off by default
    assert body["company"] == "Hôpital de la Timone"
    assert int(response.headers["Age"]) >= 0
    full = await stack.client.get(
        f"{API}/candidates/{first['id']}",
        params={"include_raw_data": "true", "include_custom_fields": "true"},
        headers=stack.headers(token),
    )
    assert full.json()["raw_data"]["applicant"] == body["remote_id"]
    assert "stage" in full.json()["custom_fields"]


async def test_list_pages_through_every_candidate_once(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    items = await all_candidates(stack, token, page_size=7)
    assert len(items) == 30
    assert len({i["id"] for i in items}) == 30


async def test_cursor_stays_stable_while_records_are_inserted(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    first = (
        await stack.client.get(
            f"{API}/candidates", params={"page_size": 10}, headers=stack.headers(token)
        )
    ).json()
    before = {i["id"] for i in await all_candidates(stack, token)}
    # New applicants arrive at the vendor and are synced while a client is paging.
    company = stack.flatchr.companies[FLATCHR_COMPANY]
    from connectors.flatchr.emulator.data import generate_applicants

    generate_applicants(company, size=45, seed=99)  # adds 45 more rows with new ids
    connection = (await stack.services.accounts.connections(stack.tenant))[0]
    await stack.services.sync(connection.id)
    rest = await all_candidates(stack, token, cursor=first["cursor"])
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest]
    assert len(seen) == len(set(seen)), "a record came twice"
    assert before <= set(seen), "a record that existed before was skipped"


async def test_filters(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    items = await all_candidates(stack, token)
    with_email = next(i for i in items if i["email_addresses"])
    h = stack.headers(token)
    by_email = (
        await stack.client.get(
            f"{API}/candidates",
            params={"email_addresses": with_email["email_addresses"][0].upper()},
            headers=h,
        )
    ).json()["items"]
    assert with_email["id"] in {i["id"] for i in by_email}
    assert all(with_email["email_addresses"][0] in i["email_addresses"] for i in by_email)
    by_remote = (
        await stack.client.get(
            f"{API}/candidates", params={"remote_id": with_email["remote_id"]}, headers=h
        )
    ).json()["items"]
    assert [i["id"] for i in by_remote] == [with_email["id"]]
    by_name = (
        await stack.client.get(
            f"{API}/candidates",
            params={"first_name": with_email["first_name"].swapcase()},
            headers=h,
        )
    ).json()["items"]
    assert by_name and all(i["first_name"] == with_email["first_name"] for i in by_name)
    two = [items[0]["id"], items[5]["id"]]
    by_ids = (
        await stack.client.get(f"{API}/candidates", params={"ids": ",".join(two)}, headers=h)
    ).json()["items"]
    assert sorted(i["id"] for i in by_ids) == sorted(two)
    cutoff = sorted(i["remote_created_at"] for i in items)[15]
    created = (
        await stack.client.get(
            f"{API}/candidates", params={"created_after": cutoff, "page_size": 200}, headers=h
        )
    ).json()["items"]
    assert created and all(i["remote_created_at"] > cutoff for i in created)


async def test_a_filter_the_connector_cannot_honour_is_refused_plainly(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await stack.client.get(
        f"{API}/candidates", params={"tag": "senior"}, headers=stack.headers(token)
    )
    assert response.status_code == 400
    assert "flatchr does not provide tags" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/candidates", {"page_size": "0"}, 422),
        ("/candidates", {"page_size": "201"}, 422),
        ("/candidates", {"cursor": "not-a-cursor"}, 400),
        ("/candidates", {"cursor": "eyJ2IjoxLCJzIjotMX0"}, 400),
        # A client mistake, never "503, retry": a boolean offset, offsets past the store's ints.
        ("/candidates", {"cursor": "eyJ2IjoxLCJzIjp0cnVlfQ"}, 400),
        ("/applications", {"cursor": "eyJ2IjoxLCJzIjoyMTQ3NDgzNjQ4fQ"}, 400),
        ("/jobs", {"cursor": "eyJ2IjoxLCJzIjo5MjIzMzcyMDM2ODU0Nzc1ODA4fQ"}, 400),
        # Dates without a UTC form.
        ("/candidates", {"modified_after": "9999-12-31T23:59:59-14:00"}, 422),
        ("/applications", {"created_before": "0001-01-01T00:00:00+14:00"}, 422),
        ("/job-interview-stages", {"modified_before": "9999-12-31T23:59:59-14:00"}, 422),
        ("/candidates", {"modified_after": "yesterday"}, 422),
        ("/candidates", {"include_deleted": "maybe"}, 422),
        ("/candidates", {"expand": "attachments"}, 400),
        ("/candidates", {"ids": "1,2"}, 400),
        ("/candidates/not-a-uuid", {}, 422),
        (f"/candidates/{uuid.uuid4()}", {}, 404),
        (f"/attachments/{uuid.uuid4()}", {}, 404),
        (f"/attachments/{uuid.uuid4()}/download", {}, 404),
        ("/attachments", {"candidate": "x"}, 422),
    ],
)
async def test_bad_input_gets_a_4xx_with_detail(
    stack: Stack, path: str, params: dict, status: int
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    response = await stack.client.get(f"{API}{path}", params=params, headers=stack.headers(token))
    assert response.status_code == status, response.text
    assert response.json()["detail"]


async def test_missing_or_invalid_credentials_get_401_with_www_authenticate(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    cases = [
        {},
        {"x-connector-token": token},
        {"Authorization": "Bearer uats_sk_wrong", "x-connector-token": token},
        {"Authorization": f"Basic {stack.api_key}", "x-connector-token": token},
        {"Authorization": f"Bearer {stack.api_key}"},
        {"Authorization": f"Bearer {stack.api_key}", "x-connector-token": "uats_ct_wrong"},
    ]
    for headers in cases:
        response = await stack.client.get(f"{API}/candidates", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["detail"]


async def test_tenants_are_isolated_in_both_directions(stack: Stack) -> None:
    mine = (await stack.connect_flatchr())["connector_token"]
    _, other_key = await stack.services.accounts.create_tenant("globex")
    stack.flatchr.add_company(
        company_id="OTHERCOMPANY0000", api_key="flt_other", name="Globex", size=5
    )
    other = await stack.client.post(
        f"{API}/connections",
        json={
            "connector": "flatchr",
            "settings": {"api_key": "flt_other", "company_id": "OTHERCOMPANY0000"},
        },
        headers={"Authorization": f"Bearer {other_key}"},
    )
    theirs = other.json()["connector_token"]
    await asyncio.gather(*stack.services.background)
    # A tenant's key with another tenant's token: the same 401 as an invalid token.
    for key, token in ((stack.api_key, theirs), (other_key, mine)):
        response = await stack.client.get(f"{API}/candidates", headers=stack.headers(token, key))
        assert response.status_code == 401
        assert response.json()["detail"] == "invalid connector token"
    # An id of the other connection: 404, both ways.
    my_items = await all_candidates(stack, mine)
    their_items = (
        await stack.client.get(f"{API}/candidates", headers=stack.headers(theirs, other_key))
    ).json()["items"]
    assert len(their_items) == 5
    assert not {i["id"] for i in my_items} & {i["id"] for i in their_items}
    r1 = await stack.client.get(
        f"{API}/candidates/{their_items[0]['id']}", headers=stack.headers(mine)
    )
    r2 = await stack.client.get(
        f"{API}/candidates/{my_items[0]['id']}", headers=stack.headers(theirs, other_key)
    )
    assert (r1.status_code, r2.status_code) == (404, 404)
    listed = (
        await stack.client.get(
            f"{API}/connections", headers={"Authorization": f"Bearer {other_key}"}
        )
    ).json()
    assert [c["account"] for c in listed] == ["OTHERCOMPANY0000"]


async def test_fresh_copy_is_served_without_calling_the_vendor(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    item = (await all_candidates(stack, token))[0]
    calls = stack.flatchr.search_calls
    response = await stack.client.get(
        f"{API}/candidates/{item['id']}", headers=stack.headers(token)
    )
    assert response.status_code == 200
    assert stack.flatchr.search_calls == calls


async def test_old_copy_or_no_cache_refreshes_from_the_vendor(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    item = (await all_candidates(stack, token))[0]
    stack.flatchr.touch(FLATCHR_COMPANY, item["remote_id"], firstname="Renamed")
    response = await stack.client.get(
        f"{API}/candidates/{item['id']}",
        headers={**stack.headers(token), "Cache-Control": "no-cache"},
    )
    assert response.json()["first_name"] == "Renamed"
    assert "Age" not in response.headers
    stack.flatchr.touch(FLATCHR_COMPANY, item["remote_id"], firstname="Again")
    stack.services.settings.max_age_seconds = 0
    # The last full sync happened "now": push it into the past so the copy is old.
    connection = (await stack.services.accounts.connections(stack.tenant))[0]
    await stack.services.accounts.mark_full_sync(
        connection.id, datetime.now(UTC) - timedelta(hours=1)
    )
    await asyncio.sleep(0.01)
    response = await stack.client.get(
        f"{API}/candidates/{item['id']}", headers=stack.headers(token)
    )
    assert response.json()["first_name"] == "Again"


async def test_vendor_failure_serves_the_stored_copy_with_age(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    item = (await all_candidates(stack, token))[0]
    stack.flatchr.faults.fail_status = 503
    response = await stack.client.get(
        f"{API}/candidates/{item['id']}",
        headers={**stack.headers(token), "Cache-Control": "no-cache"},
    )
    assert response.status_code == 200
    assert response.json()["id"] == item["id"]
    assert int(response.headers["Age"]) >= 0


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ({"fail_status": 503}, 503),
        ({"fail_status": 500}, 503),
        ({"rate_limit_storm": True}, 429),
        ({"malformed_json": True}, 502),
        ({"fail_status": 401}, 502),
    ],
)
async def test_vendor_failure_without_stored_copy_is_mapped(
    stack: Stack, fault: dict, status: int
) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    for name, value in fault.items():
        setattr(stack.flatchr.faults, name, value)
    response = await stack.client.get(
        f"{API}/candidates", params={"remote_id": "NOTSYNCEDYET0000"}, headers=stack.headers(token)
    )
    assert response.status_code == status
    assert response.json()["detail"]
    assert FLATCHR_KEY not in response.text
    if status == 429:
        assert int(response.headers["Retry-After"]) >= 1


async def test_remote_id_not_yet_synced_is_fetched_live(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    company = stack.flatchr.companies[FLATCHR_COMPANY]
    from connectors.flatchr.emulator.data import generate_applicants

    generate_applicants(company, size=31, seed=5)
    new_id = list(company.applicants)[-1]
    response = await stack.client.get(
        f"{API}/candidates", params={"remote_id": new_id}, headers=stack.headers(token)
    )
    assert [i["remote_id"] for i in response.json()["items"]] == [new_id]


async def test_vendor_says_gone_marks_deleted_and_404s(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    item = (await all_candidates(stack, token))[0]
    stack.flatchr.remove(FLATCHR_COMPANY, item["remote_id"])
    h = {**stack.headers(token), "Cache-Control": "no-cache"}
    assert (await stack.client.get(f"{API}/candidates/{item['id']}", headers=h)).status_code == 404
    visible = {i["id"] for i in await all_candidates(stack, token)}
    assert item["id"] not in visible
    by_remote = await stack.client.get(
        f"{API}/candidates", params={"remote_id": item["remote_id"]}, headers=stack.headers(token)
    )
    assert by_remote.json()["items"] == []  # still hidden without include_deleted
    deleted = [
        i
        for i in await all_candidates(stack, token, include_deleted="true")
        if i["id"] == item["id"]
    ]
    assert deleted[0]["remote_was_deleted"] is True


async def test_modified_at_changes_only_when_content_changes(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    before = {i["id"]: i["modified_at"] for i in await all_candidates(stack, token)}
    connection = (await stack.services.accounts.connections(stack.tenant))[0]
    mark = datetime.now(UTC)
    await asyncio.sleep(0.01)
    report = await stack.services.sync(connection.id)
    assert report.rows_written == 0
    assert {i["id"]: i["modified_at"] for i in await all_candidates(stack, token)} == before
    changed = next(iter(await all_candidates(stack, token)))
    stack.flatchr.touch(FLATCHR_COMPANY, changed["remote_id"], score=5, column=3)
    report = await stack.services.sync(connection.id)
    assert report.candidates.changed == 1
    recent = await all_candidates(stack, token, modified_after=mark.isoformat())
    assert [i["id"] for i in recent] == [changed["id"]]


async def test_attachments_list_get_and_download(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    h = stack.headers(token)
    with_cv = next(i for i in await all_candidates(stack, token) if i["attachments"])
    listed = (
        await stack.client.get(f"{API}/attachments", params={"candidate": with_cv["id"]}, headers=h)
    ).json()
    [attachment] = listed["items"]
    Attachment.model_validate(attachment)
    assert attachment["id"] == with_cv["attachments"][0]
    assert (
        attachment["file_url"] == f"http://testserver{API}/attachments/{attachment['id']}/download"
    )
    assert FLATCHR_KEY not in attachment["file_url"]
    one = (await stack.client.get(f"{API}/attachments/{attachment['id']}", headers=h)).json()
    assert one["file_url"] == attachment["file_url"]
    download = await stack.client.get(attachment["file_url"], headers=h)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith(attachment["content_type"])
    assert attachment["file_name"] in download.headers["content-disposition"]
    assert len(download.content) > 100
    everything = (
        await stack.client.get(f"{API}/attachments", params={"page_size": 200}, headers=h)
    ).json()
    assert len(everything["items"]) == sum(
        len(i["attachments"]) for i in await all_candidates(stack, token)
    )


async def test_download_vendor_failure_is_mapped(stack: Stack) -> None:
    token = (await stack.connect_flatchr())["connector_token"]
    h = stack.headers(token)
    attachment = (await stack.client.get(f"{API}/attachments", headers=h)).json()["items"][0]
    stack.flatchr.faults.fail_status = 502
    response = await stack.client.get(attachment["file_url"], headers=h)
    assert response.status_code == 503
    assert response.json()["detail"]


@settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "page_size",
                "cursor",
                "modified_after",
                "created_after",
                "ids",
                "include_deleted",
                "first_name",
                "remote_id",
                "bogus",
            ]
        ),
        st.text(max_size=12),
        max_size=4,
    )
)
async def test_no_query_ever_causes_a_server_error(stack: Stack, params: dict) -> None:
    if not hasattr(stack, "_token"):
        stack._token = (await stack.connect_flatchr())["connector_token"]  # type: ignore[attr-defined]
    response = await stack.client.get(
        f"{API}/candidates", params=params, headers=stack.headers(stack._token)
    )  # type: ignore[attr-defined]
    assert response.status_code in (200, 400, 422), response.text
    if response.status_code != 200:
        assert response.json()["detail"]
