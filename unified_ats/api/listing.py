"""What every record route shares: shaping, id-list filters, connector-honoured filters, and
keyset pages over the store."""

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from pydantic_core import to_json

from connectors import Capability
from schemas import Candidate, Page, to_utc
from unified_ats.api.errors import BadRequest, Unprocessable
from unified_ats.api.expand import Shape, embed, expand_relations, wanted_ids
from unified_ats.api.paging import Cursors
from unified_ats.api.responses import json_response, shape_candidate, shape_model
from unified_ats.reads import Served
from unified_ats.services import Services
from unified_ats.store.accounts import ConnectionInfo
from unified_ats.store.records import DEFAULT_WITHOUT, RecordQuery, Stored, StoredText

FIELD_DECLARATIONS = {
    "candidates": "candidate_fields",
    "applications": "application_fields",
    "jobs": "job_fields",
    "job_interview_stages": "stage_fields",
}


def parse_ids(value: str | None, name: str = "ids") -> list[uuid.UUID] | None:
    """A comma-separated list of unified ids (a 400 naming the parameter otherwise)."""
    if value is None:
        return None
    try:
        return [uuid.UUID(part.strip()) for part in value.split(",") if part.strip()]
    except ValueError:
        raise BadRequest(f"{name} must be a comma-separated list of UUIDs") from None


def utc(value: datetime | None, name: str = "date") -> datetime | None:
    """A query date in UTC; one that has no UTC form (``9999-12-31T23:59:59-14:00``) is a 422,
    like any other date FastAPI cannot parse."""
    if value is None:
        return None
    try:
        return to_utc(value)
    except OverflowError:
        raise Unprocessable(
            ["query", name],
            "datetime_out_of_range",
            "Datetime is out of range once converted to UTC (years 1 to 9999)",
        ) from None


def check_honoured(
    services: Services,
    connection: ConnectionInfo,
    model: str,
    requested: Mapping[str, tuple[object, str]],
) -> None:
    """A filter on a field the connector never fills would silently match nothing: a 400.

    ``requested``: filter name -> (its value, the unified field it needs)."""
    cls = services.pool.connector_class(connection.connector)
    filled: frozenset[str] = getattr(cls, FIELD_DECLARATIONS[model])
    refused = [
        (name, field)
        for name, (value, field) in requested.items()
        if value is not None and field not in filled
    ]
    if refused:
        raise BadRequest(
            f"{connection.connector} does not provide "
            f"{', '.join(sorted({f for _, f in refused}))}; "
            f"filter(s) {', '.join(n for n, _ in refused)} cannot be applied on this connection"
        )


def avatar_url(
    services: Services,
    request: Request,
    connection: ConnectionInfo,
    candidate_id: object,
    avatar: str | None,
) -> str | None:
    """Our own avatar route, for vendors whose photo URL needs credentials (viasto)."""
    cls = services.pool.connector_class(connection.connector)
    if avatar is None or Capability.DOWNLOAD_AVATAR not in cls.capabilities:
        return avatar
    base = services.settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/api/ats/v1/candidates/{candidate_id}/avatar"


def shaper(
    services: Services, request: Request, connection: ConnectionInfo, *, raw: bool, custom: bool
) -> Shape:
    """(model name, model) -> the model as served, for outer and embedded objects alike."""

    def shape(model: str, value: Any) -> Any:
        if model == "candidates":
            shaped: Candidate = shape_candidate(value, raw=raw, custom=custom)
            avatar = avatar_url(services, request, connection, value.id, value.avatar)
            if avatar != value.avatar:
                shaped = shaped.model_copy(update={"avatar": avatar})
            return shaped
        return shape_model(value, raw=raw, custom=custom)

    return shape


def page_json(items: list[Any], *, cursor: str | None, page_size: int) -> str:
    return Page[Any](cursor=cursor, page_size=page_size, items=items).model_dump_json()


@dataclass(frozen=True)
class View:
    """How one request wants records served: raw data and custom fields or not, and which
    relations to embed. Builds the response, outer and embedded objects shaped alike."""

    services: Services
    request: Request
    connection: ConnectionInfo
    raw: bool
    custom: bool
    relations: list[str]

    @functools.cached_property
    def without(self) -> frozenset[str]:
        """Fields not served: the store leaves them unparsed."""
        return frozenset(
            name
            for name, wanted in (("raw_data", self.raw), ("custom_fields", self.custom))
            if not wanted
        )

    def shape(self) -> Shape:
        return shaper(
            self.services, self.request, self.connection, raw=self.raw, custom=self.custom
        )

    def shape_document(self, model: str, document: dict[str, Any]) -> dict[str, Any]:
        """An embedded record as served (its raw data and custom fields were left unread)."""
        if model == "candidates" and document.get("avatar") is not None:
            avatar = avatar_url(
                self.services, self.request, self.connection, document["id"], document["avatar"]
            )
            return {**document, "avatar": avatar}
        return document

    async def embed(self, model: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await expand_relations(
            self.services,
            self.connection,
            model,
            documents,
            self.relations,
            self.shape_document,
            without=self.without,
        )

    async def served(self, model: str, items: list[Any]) -> list[Any]:
        """Models as served; with relations to embed, as JSON-ready documents."""
        shape = self.shape()
        shaped = [shape(model, item) for item in items]
        if not self.relations:
            return shaped
        return await self.embed(model, [item.model_dump(mode="json") for item in shaped])

    async def page(
        self, model: str, items: list[Any], *, cursor: str | None, page_size: int
    ) -> Response:
        served = await self.served(model, items)
        return json_response(page_json(served, cursor=cursor, page_size=page_size))

    async def listing(
        self, model: str, query: RecordQuery, *, cursor: str | None, page_size: int
    ) -> Response:
        """A keyset page of stored jobs, stages or applications matching ``query``, with its
        relations embedded (read in the page's own store session)."""
        relations = self.relations
        cursors = Cursors.for_request(self.services.signing_key, self.request, self.connection.id)
        stored, found = await self.services.records.records(
            model,
            self.connection.id,
            query,
            after=cursors.decode(cursor),
            limit=page_size + 1,
            without=self.without,
            related=(lambda docs: wanted_ids(model, docs, relations)) if relations else None,
        )
        next_cursor = cursors.encode(stored[page_size - 1][0]) if len(stored) > page_size else None
        documents = [self.shape_document(model, document) for _, document in stored[:page_size]]
        served = embed(model, documents, relations, found, self.shape_document)
        body = {"cursor": next_cursor, "page_size": page_size, "items": served}
        return json_response(to_json(body).decode())

    async def documents(self, model: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored documents as served: links shaped, relations embedded. Not for attachments
        (their ``file_url`` is our download route, set by their own routes)."""
        shaped = [self.shape_document(model, document) for document in documents]
        return await self.embed(model, shaped) if self.relations else shaped

    async def page_of_documents(
        self, model: str, documents: list[dict[str, Any]], *, cursor: str | None, page_size: int
    ) -> Response:
        items = await self.documents(model, documents)
        body = {"cursor": cursor, "page_size": page_size, "items": items}
        return json_response(to_json(body).decode())

    def serves_stored_text(self, model: str) -> bool:
        """Whether the stored text of the default view is what this request serves: nothing
        to embed, and no link to rewrite (a vendor whose photos need our avatar route)."""
        if self.relations or self.without != DEFAULT_WITHOUT:
            return False
        if model != "candidates":
            return True
        cls = self.services.pool.connector_class(self.connection.connector)
        return Capability.DOWNLOAD_AVATAR not in cls.capabilities

    async def page_of_stored(
        self,
        model: str,
        stored: Sequence[Stored[Any] | StoredText],
        *,
        cursor: str | None,
        page_size: int,
    ) -> Response:
        """A page of stored records: their stored text joined when that is the view asked
        for (parsing and serializing each item again was most of a list request's cost)."""
        if not self.serves_stored_text(model):
            documents = [s.document(self.without) for s in stored]
            return await self.page_of_documents(
                model, documents, cursor=cursor, page_size=page_size
            )
        without = self.without
        # Bytes throughout: the stored texts are read as UTF-8 and sent as read.
        items = b",".join(s.served_json(without) or to_json(s.document(without)) for s in stored)
        head = b'{"cursor":' + to_json(cursor) + b',"page_size":' + str(page_size).encode()
        return json_response(head + b',"items":[' + items + b"]}")

    async def one(self, model: str, read: Served[Any]) -> Response:
        # The stored document, not a model validated again and copied to drop raw_data: only
        # the fields asked for are read from it (see Stored.document).
        text = read.served_text(self.without) if self.serves_stored_text(model) else None
        if text is None:
            [item] = await self.documents(model, [read.document(self.without)])
            text = to_json(item).decode()
        return json_response(text, served=read, request=self.request)
