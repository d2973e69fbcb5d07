"""``expand``: relations served as embedded objects instead of ids, in one store session.

Which relations each model can expand is declared once here; an unknown name is a 400 that
lists the allowed ones. Embedded objects are shaped like the outer ones (``include_raw_data``
and ``include_custom_fields`` apply to them too). They are embedded as the stored JSON
documents (validated when they were written), not rebuilt as models: a page of 50 applications
embeds 50 candidates, and validating them again cost more than the rest of the request.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from unified_ats.api.errors import BadRequest
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.records import related_id

M = TypeVar("M", bound=BaseModel)
Shape = Callable[[str, Any], Any]
"""(model name, model) -> the model as served (raw data and custom fields dropped, links)."""
ShapeDocument = Callable[[str, dict[str, Any]], dict[str, Any]]
"""(model name, stored document) -> the document as served (links such as a served avatar)."""

EXPANDABLE: dict[str, dict[str, str]] = {
    "applications": {
        "candidate": "candidates",
        "job": "jobs",
        "current_stage": "job_interview_stages",
    },
    "job_interview_stages": {"job": "jobs"},
    "candidates": {"applications": "applications"},
}
"""model -> {relation field: the model it points at}."""


def expand_description(model: str) -> str:
    return (
        "Comma-separated relations to embed as objects instead of ids: "
        + ", ".join(f"`{name}`" for name in EXPANDABLE[model])
        + "."
    )


def parse_expand(model: str, value: str | None) -> list[str]:
    if not value:
        return []
    allowed = EXPANDABLE[model]
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise BadRequest(
            f"expand: {', '.join(unknown)} cannot be expanded here; allowed: {', '.join(allowed)}"
        )
    return list(dict.fromkeys(names))


async def expand_relations(
    services: Services,
    connection: ConnectionInfo,
    model: str,
    items: Sequence[M],
    fields: Sequence[str],
    shape: ShapeDocument,
    *,
    without: frozenset[str] = frozenset(),
) -> list[M | dict[str, Any]]:
    """``items`` with each named relation replaced by the stored record it points at (an id
    whose record is not stored stays an id). An item with an embedded relation comes back as
    its JSON-ready dict."""
    if not fields or not items:
        return list(items)
    targets = {field: EXPANDABLE[model][field] for field in fields}
    values = {field: [getattr(item, field) for item in items] for field in fields}
    wanted: dict[str, list[uuid.UUID]] = {}
    for field, target in targets.items():
        wanted.setdefault(target, []).extend(i for v in values[field] for i in _ids(v))
    found = await services.records.documents(connection.id, wanted, without=without)
    shaped = {
        target: {key: shape(target, document) for key, document in documents.items()}
        for target, documents in found.items()
    }
    served: list[M | dict[str, Any]] = []
    for n, item in enumerate(items):
        embedded: dict[str, Any] = {}
        for field, target in targets.items():
            value, documents = values[field][n], shaped[target]
            if isinstance(value, list):
                embedded[field] = [documents.get(i, str(i)) for i in _ids(value)]
            elif (key := related_id(value)) is not None:
                embedded[field] = documents.get(key, str(key))
        served.append({**item.model_dump(mode="json"), **embedded} if embedded else item)
    return served


def _ids(value: object) -> list[uuid.UUID]:
    if isinstance(value, list):
        return [i for i in (related_id(v) for v in value) if i is not None]
    found = related_id(value)
    return [found] if found is not None else []
