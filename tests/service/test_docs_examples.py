"""The examples in docs/api.md run as written against a live stack (a doc that lies is worse
than none)."""

import re
from pathlib import Path
from typing import Any

from tests.service.conftest import WK_KEY, WK_ORG, Stack

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def example(name: str) -> dict[str, Any]:
    """The code block under ``<!-- example: name -->``, executed into a namespace."""
    match = re.search(rf"<!-- example: {name} -->\n```python\n(.*?)```", DOCS.read_text(), re.S)
    assert match, f"docs/api.md has no example {name!r}"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), f"docs/api.md:{name}", "exec"), namespace)  # noqa: S102
    return namespace


async def test_where_everyone_stands_names_each_candidates_job_and_stage(stack: Stack) -> None:
    created = await stack.connect(
        "welcomekit", {"api_key": WK_KEY, "organization_reference": WK_ORG}
    )
    headers = stack.headers(created["connector_token"])
    standing = await example("which-job-which-stage")["where_everyone_stands"](
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
