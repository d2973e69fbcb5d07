"""The client's own models follow the API's OpenAPI document, and importing the client pulls in
no server stack."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unified_ats.client.models import COMPONENTS, ClientModel

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "schemas" / "openapi.json").read_text())
SERVER_STACK = ("fastapi", "starlette", "sqlalchemy", "typer", "alembic", "uvicorn", "connectors")


@pytest.mark.parametrize("model", list(COMPONENTS), ids=lambda m: m.__name__)
def test_each_model_has_exactly_its_components_fields(model: type[ClientModel]) -> None:
    component = OPENAPI["components"]["schemas"][COMPONENTS[model]]
    assert set(model.model_fields) == set(component["properties"])
    required = {name for name, info in model.model_fields.items() if info.is_required()}
    assert required == set(component.get("required", ()))


def test_every_management_answer_has_a_client_model() -> None:
    """A response component of the connection, connector and sync routes without a client
    model means a route the client cannot read yet."""
    used = set()
    for path, operations in OPENAPI["paths"].items():
        if not path.startswith(("/api/ats/v1/connection", "/api/ats/v1/sync-status")):
            continue
        for operation in operations.values():
            for answer in operation["responses"].values():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                if ref:
                    used.add(ref.rsplit("/", 1)[1])
    assert used - {"ErrorBody", "HTTPValidationError"} <= set(COMPONENTS.values())


def test_the_client_imports_without_the_server_stack() -> None:
    code = (
        "import sys\n"
        "import unified_ats.client\n"
        "from unified_ats.client import Client, AsyncClient\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_STACK!r}"
        " or m.startswith('unified_ats.api'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
