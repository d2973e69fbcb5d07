"""``expand``: relations served as embedded objects instead of ids, in one store session.

Which relations each model can expand is declared once here; an unknown name is a 400 that
lists the allowed ones. Embedded objects are shaped like the outer ones (``include_raw_data``
and ``include_custom_fields`` apply to them too). They are embedded as the stored JSON
documents (validated when they were written), not rebuilt as models: a page of 50 applications
embeds 50 candidates, and validating them again cost more than the rest of the request.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from unified_ats.api.errors import BadRequest
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo

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


def wanted_ids(
    model: str, documents: Sequence[dict[str, Any]], fields: Sequence[str]
) -> dict[str, list[uuid.UUID]]:
    """Per related model, the ids that ``documents`` point at through ``fields``."""
    wanted: dict[str, list[uuid.UUID]] = {}
    for field in fields:
        target = EXPANDABLE[model][field]
        wanted.setdefault(target, []).extend(i for d in documents for i in _ids(d.get(field)))
    return wanted


def embed(
    model: str,
    documents: Sequence[dict[str, Any]],
    fields: Sequence[str],
    found: dict[str, dict[uuid.UUID, dict[str, Any]]],
    shape: ShapeDocument,
) -> list[dict[str, Any]]:
    """``documents`` with each relation in ``fields`` replaced by the record ``found`` for it;
    an id whose record is not stored stays an id."""
    if not fields:
        return list(documents)
    targets = {field: EXPANDABLE[model][field] for field in fields}
    shaped = {
        target: {str(key): shape(target, document) for key, document in records.items()}
        for target, records in found.items()
    }
    served: list[dict[str, Any]] = []
    for document in documents:
        embedded: dict[str, Any] = {}
        for field, target in targets.items():
            value, records = document.get(field), shaped.get(target, {})
            if isinstance(value, list):
                embedded[field] = [records.get(str(i), str(i)) for i in _ids(value)]
            elif value is not None:
                embedded[field] = records.get(str(value), value)
        served.append({**document, **embedded})
    return served


async def expand_relations(
    services: Services,
    connection: ConnectionInfo,
    model: str,
    documents: Sequence[dict[str, Any]],
    fields: Sequence[str],
    shape: ShapeDocument,
    *,
    without: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """``documents`` (JSON-ready records) with their relations embedded, read in one store
    session."""
    if not fields or not documents:
        return list(documents)
    wanted = wanted_ids(model, documents, fields)
    found = await services.records.documents(connection.id, wanted, without=without)
    return embed(model, documents, fields, found, shape)


def _ids(value: object) -> list[uuid.UUID]:
    """The ids a relation holds (documents hold them as strings)."""
    values = value if isinstance(value, list) else [value]
    ids = []
    for item in values:
        if isinstance(item, str):
            try:
                ids.append(uuid.UUID(item))
            except ValueError:
                continue
        elif isinstance(item, uuid.UUID):
            ids.append(item)
    return ids
