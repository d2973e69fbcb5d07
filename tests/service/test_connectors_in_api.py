"""Every connector through the same API: the same Candidate and Attachment shapes."""

from schemas import Attachment, Candidate
from tests.service.conftest import WK_KEY, WK_ORG, Stack

API = "/api/ats/v1"


async def test_welcome_kit_through_the_unified_api(stack: Stack) -> None:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    h = stack.headers(created["connector_token"])
    page = (
        await stack.client.get(f"{API}/candidates", params={"page_size": 200}, headers=h)
    ).json()
    assert len(page["items"]) == 25
    candidate = next(c for c in page["items"] if c["attachments"])
    Candidate.model_validate(candidate)
    assert candidate["company"] == "Welcome to the Jungle"
    fresh = await stack.client.get(
        f"{API}/candidates/{candidate['id']}", headers={**h, "Cache-Control": "no-cache"}
    )
    assert fresh.status_code == 200 and fresh.json()["id"] == candidate["id"]
    tagged = next((c for c in page["items"] if c["tags"]), None)
    if tagged:
        by_tag = (
            await stack.client.get(
                f"{API}/candidates", params={"tag": tagged["tags"][0]}, headers=h
            )
        ).json()
        assert tagged["id"] in {c["id"] for c in by_tag["items"]}
    attachments = (
        await stack.client.get(
            f"{API}/attachments", params={"candidate": candidate["id"]}, headers=h
        )
    ).json()
    first = Attachment.model_validate(attachments["items"][0])
    download = await stack.client.get(str(first.file_url), headers=h)
    assert download.status_code == 200 and download.content
    assert WK_KEY not in download.text


async def test_welcome_kit_candidate_removed_is_deleted_after_full_sync(stack: Stack) -> None:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    gone = next(iter(stack.welcomekit.organizations[WK_ORG].candidates))
    stack.welcomekit.remove(WK_ORG, gone)
    connection = (await stack.services.accounts.connections(stack.tenant))[0]
    report = await stack.services.sync(connection.id, full=True)
    assert report.deleted == 1
    h = stack.headers(created["connector_token"])
    deleted = (
        await stack.client.get(
            f"{API}/candidates", params={"remote_id": gone, "include_deleted": "true"}, headers=h
        )
    ).json()
    assert deleted["items"][0]["remote_was_deleted"] is True
