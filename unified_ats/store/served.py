"""The JSON text a default read serves for a record, rendered when the record is written.

A default read (no ``include_raw_data``, no ``include_custom_fields``) serves the record's
content with ``raw_data`` and ``custom_fields`` null. Rendering that text once per write lets a
list page join stored text: parsing and serializing fifty documents per page cost more than
everything else a list request does.

The text is spliced from the content JSON the content hash is computed from, so it costs a few
string operations per write. It is checked, not assumed: whenever the content does not start
the way the splice expects, nothing is rendered and the record is served the slow way.
"""

import functools
import uuid
from datetime import datetime

from pydantic import BaseModel
from pydantic_core import to_json

from schemas.datetimes import format_utc

# The models' fields start id, remote_id, modified_at, raw_data, custom_fields and end with
# remote_was_deleted (schemas.base); the content JSON (NOT_CONTENT excluded) starts with
# remote_id then custom_fields.
_LAST_FIELD = "remote_was_deleted"

# A sync writes a page of records with one clock reading: format it once, not per record.
_stamp = functools.lru_cache(maxsize=16)(format_utc)


@functools.cache
def _served_fast(model: type[BaseModel]) -> bool:
    """Whether this model's default view can be spliced (per class, once: it is asked for every
    record written)."""
    fields = model.model_fields
    return "file_url" not in fields and list(fields)[-1] == _LAST_FIELD


def render_served(
    model: BaseModel, content: str, record_id: uuid.UUID, modified_at: datetime
) -> str | None:
    """The default view of a live record (``remote_was_deleted`` false), fields in the model's
    order, or None when this record is served the slow way."""
    if not _served_fast(type(model)):
        return None  # attachments: their file_url is our download route, set per request
    # As the models serialize (their default: infinities and NaN as null).
    remote_id = to_json(getattr(model, "remote_id", None), inf_nan_mode="null").decode()
    custom = to_json(getattr(model, "custom_fields", None), inf_nan_mode="null").decode()
    prefix = '{"remote_id":' + remote_id + ',"custom_fields":' + custom
    if not content.startswith(prefix):
        return None
    rest = content[len(prefix) :]  # ',"first_name":…}' or '}'
    if not rest.endswith("}") or rest[:1] not in (",", "}"):
        return None
    return (
        '{"id":"'
        + str(record_id)
        + '","remote_id":'
        + remote_id
        + ',"modified_at":"'
        + _stamp(modified_at)
        + '","raw_data":null,"custom_fields":null'
        + rest[:-1]
        + ',"remote_was_deleted":false}'
    )
