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


async def test_viasto_candidates_serve_avatar_and_cv_through_our_routes(stack: Stack) -> None:
    from tests.service.conftest import VIASTO_TOKEN

    created = await stack.connect("viasto", {"token": VIASTO_TOKEN, "company_id": "4"})
    h = stack.headers(created["connector_token"])
    items = (
        await stack.client.get(
            f"{API}/candidates", params={"page_size": 200, "include_raw_data": "true"}, headers=h
        )
    ).json()["items"]
    assert len(items) == 18
    for item in items:
        assert "interview_key" not in item["raw_data"] and "activation_key" not in item["raw_data"]
        assert (
            item["title"] in {"Sales Manager DACH", "Software Engineer (m/w/d)"}
            and item["company"] == "ACME GmbH"
        )
    with_photo = next(i for i in items if i["avatar"])
    assert with_photo["avatar"] == f"http://testserver{API}/candidates/{with_photo['id']}/avatar"
    photo = await stack.client.get(with_photo["avatar"], headers=h)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    with_cv = next(i for i in items if i["attachments"])
    [cv] = (
        await stack.client.get(f"{API}/attachments", params={"candidate": with_cv["id"]}, headers=h)
    ).json()["items"]
    file = await stack.client.get(cv["file_url"], headers=h)
    assert file.status_code == 200 and file.content
    # A second full sync with no vendor change writes nothing, although file tokens rotate.
    connection = next(
        c
        for c in await stack.services.accounts.connections(stack.tenant)
        if c.connector == "viasto"
    )
    report = await stack.services.sync(connection.id, full=True)
    assert report.rows_written == 0
