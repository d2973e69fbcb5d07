"""Reads that go to the vendor have a deadline, share one call per record, and record checks.

A hanging vendor used to hold a read for ~2 minutes (attempts x read timeout); these tests give
the deadline 0.5 s and check what the client gets, on SQLite and PostgreSQL.
"""

import asyncio
import time
import uuid
from typing import Any

from tests.service.conftest import WK_KEY, WK_ORG, Stack

API = "/api/ats/v1"
DEADLINE = 0.5
BOUND = 5.0
"""Far above the deadline and far below the ~60 s a hang costs without one: not a speed test."""


async def welcomekit(stack: Stack) -> tuple[dict[str, str], list[dict[str, Any]]]:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    stack.services.settings.read_deadline_seconds = DEADLINE
    h = stack.headers(created["connector_token"])
    page = await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
    return h, page.json()["items"]


async def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    response = await call
    return response, time.perf_counter() - started


async def test_a_hanging_vendor_gives_the_stored_copy_flagged_stale(stack: Stack) -> None:
    h, items = await welcomekit(stack)
    candidate = items[0]
    stack.welcomekit.faults.hang = True
    response, elapsed = await timed(
        stack.client.get(
            f"{API}/candidates/{candidate['id']}", headers={**h, "Cache-Control": "no-cache"}
        )
    )
    assert elapsed < BOUND
    assert response.status_code == 200 and response.json()["id"] == candidate["id"]
    assert response.headers["X-Stale-Reason"] == "vendor-timeout"
    assert int(response.headers["Age"]) >= 0


async def test_a_failing_vendor_gives_the_stored_copy_flagged_stale(stack: Stack) -> None:
    h, items = await welcomekit(stack)
    stack.welcomekit.faults.fail_status = 500
    response = await stack.client.get(
        f"{API}/candidates/{items[0]['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert response.status_code == 200
    assert response.headers["X-Stale-Reason"] == "vendor-error"


async def test_remote_id_lookup_and_download_end_at_the_deadline_with_504(stack: Stack) -> None:
    h, items = await welcomekit(stack)
    with_file = next(c for c in items if c["attachments"])
    attachment = (
        await stack.client.get(f"{API}/attachments/{with_file['attachments'][0]}", headers=h)
    ).json()
    stack.welcomekit.faults.hang = True
    lookup, elapsed = await timed(
        stack.client.get(f"{API}/candidates", params={"remote_id": "not-stored-yet"}, headers=h)
    )
    assert elapsed < BOUND
    assert lookup.status_code == 504 and "did not answer" in lookup.json()["detail"]
    download, elapsed = await timed(stack.client.get(attachment["file_url"], headers=h))
    assert elapsed < BOUND
    assert download.status_code == 504 and download.json()["detail"]


async def test_a_refresh_that_finds_no_change_still_counts_as_checked(stack: Stack) -> None:
    h, items = await welcomekit(stack)
    stack.services.settings.max_age_seconds = 1.0
    await asyncio.sleep(1.2)  # the stored copy (and the last full sync) are now too old
    url = f"{API}/candidates/{items[0]['id']}"
    before = stack.welcomekit.app.requests_seen
    refreshed = await stack.client.get(url, headers=h)
    assert refreshed.status_code == 200 and "Age" not in refreshed.headers
    after_refresh = stack.welcomekit.app.requests_seen
    assert after_refresh > before  # it did go to the vendor
    again = await stack.client.get(url, headers=h)
    assert again.status_code == 200 and int(again.headers["Age"]) <= 1
    assert stack.welcomekit.app.requests_seen == after_refresh  # served from the store
    assert again.json()["modified_at"] == items[0]["modified_at"]  # no change, no new modified_at


async def test_concurrent_reads_of_one_record_share_one_vendor_call(stack: Stack) -> None:
    h, items = await welcomekit(stack)
    url = f"{API}/candidates/{items[1]['id']}"
    fresh = {**h, "Cache-Control": "no-cache"}
    before = stack.welcomekit.app.requests_seen
    await stack.client.get(url, headers=fresh)
    one_refresh = stack.welcomekit.app.requests_seen - before
    stack.welcomekit.faults.latency = 0.2
    before = stack.welcomekit.app.requests_seen
    answers = await asyncio.gather(*(stack.client.get(url, headers=fresh) for _ in range(10)))
    assert all(a.status_code == 200 for a in answers)
    assert stack.welcomekit.app.requests_seen - before == one_refresh


async def test_a_record_the_vendor_says_is_gone_is_404_and_marked_deleted(stack: Stack) -> None:
    h, items = await welcomekit(stack)
    target = items[2]
    stack.welcomekit.remove(WK_ORG, target["remote_id"])
    response = await stack.client.get(
        f"{API}/candidates/{target['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert response.status_code == 404 and response.json()["detail"]
    listed = await stack.client.get(
        f"{API}/candidates",
        params={"ids": target["id"], "include_deleted": "true"},
        headers=h,
    )
    assert listed.json()["items"][0]["remote_was_deleted"] is True


async def test_unknown_ids_are_404_without_touching_the_vendor(stack: Stack) -> None:
    h, _ = await welcomekit(stack)
    before = stack.welcomekit.app.requests_seen
    for path in (f"candidates/{uuid.uuid4()}", f"attachments/{uuid.uuid4()}/download"):
        response = await stack.client.get(f"{API}/{path}", headers=h)
        assert response.status_code == 404 and response.json()["detail"]
    assert stack.welcomekit.app.requests_seen == before


async def test_a_404_beside_the_record_never_marks_it_deleted(stack: Stack) -> None:
    """Only the vendor's answer about the record itself says it is gone: a 404 from its
    documents route (Welcome Kit) or from the search (Flatchr, which has no route per record)
    is a vendor failure, and the stored copy is served."""
    h, items = await welcomekit(stack)
    stack.welcomekit.faults.fail_status = 404
    stack.welcomekit.faults.only_paths = ("/api/v1/external/documents",)
    response = await stack.client.get(
        f"{API}/candidates/{items[0]['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert response.status_code == 200 and response.headers["X-Stale-Reason"] == "vendor-error"
    flatchr = await stack.connect_flatchr()
    hf = stack.headers(flatchr["connector_token"])
    listed = await stack.client.get(f"{API}/candidates", headers=hf)
    first = listed.json()["items"][0]
    stack.flatchr.faults.fail_status = 404
    response = await stack.client.get(
        f"{API}/candidates/{first['id']}", headers={**hf, "Cache-Control": "no-cache"}
    )
    assert response.status_code == 200 and response.headers["X-Stale-Reason"] == "vendor-error"
    for headers, candidate_id in ((h, items[0]["id"]), (hf, first["id"])):
        again = await stack.client.get(
            f"{API}/candidates",
            params={"ids": candidate_id, "include_deleted": "true"},
            headers=headers,
        )
        assert again.json()["items"][0]["remote_was_deleted"] is False
