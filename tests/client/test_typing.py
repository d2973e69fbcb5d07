"""Type checkers see the same methods on both clients, with the filters of each route and the
right return types (the namespaces are written once; this is what makes that safe)."""

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]
USE = """
from pathlib import Path
from unified_ats.client import AsyncClient, Client

client = Client("http://x", "key", "token")
reveal_type(client.candidates.get("id"))
reveal_type(client.candidates.list(first_name="a", expand=["applications"]))
reveal_type(client.candidates.list.page(cursor="c"))
reveal_type(client.attachments.download("id"))
reveal_type(client.attachments.download("id", to=Path(".")))
reveal_type(client.connections.list())
reveal_type(client.sync_status.trigger(full=True))
reveal_type(client.with_connector_token("t"))
reveal_type(client.candidates.create({"first_name": "A"}, idempotency_key="k"))
reveal_type(client.applications.change_stage("id", "stage"))
reveal_type(client.applications.reject_meta())
client.candidates.list(no_such_filter=1)
client.jobs.get("id", expand="x")


async def use() -> None:
    async with AsyncClient("http://x", "key", "token") as aclient:
        reveal_type(await aclient.jobs.get("id"))
        reveal_type(aclient.applications.list(job=["a", "b"]))
        reveal_type(await aclient.applications.list.page())
        reveal_type(await aclient.candidates.avatar("id", to="."))
        reveal_type(await aclient.connections.create("flatchr", {}))
        reveal_type(await aclient.passthrough.request("GET", "/jobs"))
        reveal_type(await aclient.candidates.add_attachment("id", {}))
"""
EXPECTED = [
    "schemas.candidate.Candidate",
    "typing.Iterator[schemas.candidate.Candidate]",
    "schemas.page.Page[schemas.candidate.Candidate]",
    "builtins.bytes",
    "pathlib.Path",
    "builtins.list[unified_ats.client.models.Connection]",
    "unified_ats.client.models.ResyncAccepted",
    "unified_ats.client._client.Client",
    "schemas.candidate.Candidate",
    "schemas.application.Application",
    "schemas.writes.WriteMeta",
    "schemas.job.Job",
    "typing.AsyncIterator[schemas.application.Application]",
    "schemas.page.Page[schemas.application.Application]",
    "pathlib.Path",
    "unified_ats.client.models.ConnectionCreated",
    "schemas.writes.PassthroughResponse",
    "schemas.attachment.Attachment",
]


def test_mypy_sees_typed_namespaces_on_both_clients(tmp_path: Path) -> None:
    module = tmp_path / "use_client.py"
    module.write_text(USE)
    out, err, _ = mypy_api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"), str(module)]
    )
    revealed = re.findall(r'Revealed type is "([^"]+)"', out)
    assert [r.replace("builtins.", "") for r in revealed] == [
        e.replace("builtins.", "") for e in EXPECTED
    ], out + err
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 2, out
    assert 'Unexpected keyword argument "no_such_filter"' in errors[0]
    assert 'Unexpected keyword argument "expand"' in errors[1]
