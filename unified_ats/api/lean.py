"""Read routes resolved in one step: their parameters validated by one model, their
dependencies called directly.

FastAPI resolves a request field by field: every query parameter, header and dependency goes
through its general machinery (aliases, multidict lookups, one validation each). On the read
routes that machinery cost more than reading and serving the record (a third of a single
read's time, half of a list's). The route keeps its signature, and so its OpenAPI, its
security schemes and FastAPI's own handling of anything unusual: a request is served the lean
way only when every parameter validates at once. Any validation error is handed to FastAPI's
handler, which answers it exactly as it would have.

A route is lean only when all it asks for is understood here: path, query and header
parameters without alias choices or default factories, ``Request``, and the dependencies in
``RESOLVERS``; an endpoint that returns a ``Response`` itself. Anything else (a body, a
dependency with ``yield``, a response model to serialize) keeps FastAPI's handler.
"""

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi import params as fastapi_params
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic_core import PydanticUndefined

from unified_ats.api.deps import RESOLVERS

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """An APIRoute served by ``LeanPlan`` when it can be (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        plan = LeanPlan.of(self.name, self.dependant, self.endpoint)
        if plan is None:
            return standard

        async def handler(request: Request) -> Response:
            arguments = plan.parameters(request)
            if arguments is None:  # FastAPI answers what does not validate, as it always has
                return await standard(request)
            for name, resolve in plan.dependencies:
                arguments[name] = await resolve(request)
            if plan.request_name is not None:
                arguments[plan.request_name] = request
            response: Response = await plan.endpoint(**arguments)
            return response

        return handler


@dataclass(slots=True, frozen=True)
class _Source:
    name: str
    key: str
    where: str
    many: bool


@dataclass(slots=True)
class LeanPlan:
    model: type[BaseModel]
    sources: list[_Source]
    dependencies: list[tuple[str, Callable[[Request], Awaitable[Any]]]]
    request_name: str | None
    endpoint: Callable[..., Coroutine[Any, Any, Response]]

    @classmethod
    def of(cls, name: str, dependant: Dependant, endpoint: Callable[..., Any]) -> "LeanPlan | None":
        if not inspect.iscoroutinefunction(endpoint) or not _returns_response(endpoint):
            return None
        if dependant.body_params or dependant.cookie_params:
            return None
        if any(
            getattr(dependant, attribute) is not None
            for attribute in (
                "response_param_name",
                "background_tasks_param_name",
                "security_scopes_param_name",
                "websocket_param_name",
                "http_connection_param_name",
            )
        ):
            return None
        dependencies = []
        for sub in dependant.dependencies:
            resolve = RESOLVERS.get(sub.call) if sub.call is not None else None
            if resolve is None or sub.name is None:
                return None
            dependencies.append((sub.name, resolve))
        definitions: dict[str, Any] = {}
        sources: list[_Source] = []
        for where, fields in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("header", dependant.header_params),
        ):
            for field in fields:
                source = _source(field, where)
                if source is None:
                    return None
                sources.append(source)
                info = field.field_info
                default = ... if info.default is PydanticUndefined else info.default
                annotation = (
                    Annotated[(info.annotation, *info.metadata)]
                    if info.metadata
                    else info.annotation
                )
                definitions[field.name] = (annotation, default)
        model = create_model(
            f"{name}_parameters", __config__=ConfigDict(extra="ignore"), **definitions
        )
        return cls(model, sources, dependencies, dependant.request_param_name, endpoint)

    def parameters(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's parameters, validated; None when any does not validate."""
        given: dict[str, Any] = {}
        query = request.query_params
        headers = request.headers
        path = request.path_params
        for source in self.sources:
            if source.where == "path":
                if source.key in path:
                    given[source.name] = path[source.key]
                continue
            found = query if source.where == "query" else headers
            if source.many:
                if values := found.getlist(source.key):
                    given[source.name] = values
            elif (value := found.get(source.key)) is not None:
                given[source.name] = value
        try:
            validated = self.model.model_validate(given)
        except ValidationError:
            return None
        return dict(validated.__dict__)


def _source(field: ModelField, where: str) -> _Source | None:
    info = field.field_info
    if info.validation_alias is not None or info.default_factory is not None:
        return None
    if not isinstance(info, fastapi_params.Param):
        return None
    alias = info.alias or field.name
    if where == "header" and not info.alias and getattr(info, "convert_underscores", True):
        alias = field.name.replace("_", "-")
    many = field_annotation_is_sequence(info.annotation)
    if where == "path" and many:
        return None
    return _Source(field.name, alias.lower() if where == "header" else alias, where, many)


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    returned = inspect.signature(endpoint, eval_str=True).return_annotation
    return inspect.isclass(returned) and issubclass(returned, Response)
