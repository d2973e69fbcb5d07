"""``expand``: relations served as embedded objects instead of ids, one query per relation.

Which relations each model can expand is declared once here; an unknown name is a 400 that
lists the allowed ones. Embedded objects are shaped like the outer ones (``include_raw_data``
and ``include_custom_fields`` apply to them too).
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
    shape: Shape,
) -> list[M]:
    """``items`` with each named relation replaced by the stored object it points at (an id
    whose object is not stored stays an id)."""
    if not fields or not items:
        return list(items)
    updates: list[dict[str, Any]] = [{} for _ in items]
    for field in fields:
        target = EXPANDABLE[model][field]
        values = [getattr(item, field) for item in items]
        wanted = [i for v in values for i in _ids(v)]
        found = await services.records.by_ids(target, connection.id, wanted)
        shaped = {key: shape(target, value) for key, value in found.items()}
        for update, value in zip(updates, values, strict=True):
            if isinstance(value, list):
                update[field] = [shaped.get(i, i) for i in _ids(value)]
            elif value is not None:
                key = related_id(value)
                update[field] = shaped.get(key, key) if key is not None else None
    return [
        item.model_copy(update=u) if u else item for item, u in zip(items, updates, strict=True)
    ]


def _ids(value: object) -> list[uuid.UUID]:
    if isinstance(value, list):
        return [i for i in (related_id(v) for v in value) if i is not None]
    found = related_id(value)
    return [found] if found is not None else []
