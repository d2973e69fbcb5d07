"""The examples in docs/api.md run as written against a live stack (a doc that lies is worse
than none)."""

from tests.docs_examples import example
from tests.service.conftest import WK_KEY, WK_ORG, Stack


async def test_where_everyone_stands_names_each_candidates_job_and_stage(stack: Stack) -> None:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    headers = stack.headers(created["connector_token"])
    standing = await example("api.md", "which-job-which-stage")["where_everyone_stands"](
        stack.client, headers
    )
    candidates = (
        await stack.client.get("/api/ats/v1/candidates", params={"page_size": 200}, headers=headers)
    ).json()["items"]
    assert set(standing) == {c["id"] for c in candidates}
    jobs = {
        j["name"]
        for j in (
            await stack.client.get("/api/ats/v1/jobs", params={"page_size": 200}, headers=headers)
        ).json()["items"]
    }
    assert {job for job, _ in standing.values()} <= jobs
    assert any(stage for _, stage in standing.values())
