"""Namespaces are written once and serve both clients.

A namespace method only *describes* its request: it returns a ``Call``. A decorator
(``operation``, ``listing``, ``download``) turns it into what the client's user calls, typed
for the client it hangs on: on ``Client`` ``client.jobs.get(id)`` returns a ``Job``; on
``AsyncClient`` it returns an awaitable of one. The decorators are descriptors whose overloads
pick the return type from the namespace's runner type, so the signature (and its filters) is
written once, where the request is built, and type checkers see it on both clients.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

import pydantic

from schemas import Page
from unified_ats.client._core import Call, Id
from unified_ats.client._runners import (
    AsyncFile,
    AsyncListing,
    AsyncRunner,
    SyncFile,
    SyncListing,
    SyncRunner,
)

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=pydantic.BaseModel)
R = TypeVar("R", SyncRunner, AsyncRunner)


class Namespace(Generic[R]):
    """A group of routes (``client.candidates``, ``client.connections``, …)."""

    def __init__(self, runner: R) -> None:
        self._runner: R = runner

    def __repr__(self) -> str:
        return f"<{type(self).__name__} namespace>"


def _bind(method: Callable[..., Any], namespace: Namespace[Any]) -> Callable[..., Any]:
    """``method`` bound to ``namespace``, with the name, docstring and signature (less
    ``self``) that ``help()`` and IDEs show."""

    def build(*args: Any, **kwargs: Any) -> Any:
        return method(namespace, *args, **kwargs)

    functools.update_wrapper(build, method)
    signature = inspect.signature(method)
    build.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:],
        return_annotation=inspect.Signature.empty,  # the method returns a Call, not the answer
    )
    return build


class operation(Generic[P, T]):
    """One request, one parsed answer."""

    def __init__(self, method: Callable[Concatenate[Any, P], Call[T]]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(self, namespace: Namespace[SyncRunner], owner: type) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, namespace: Namespace[AsyncRunner], owner: type
    ) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, namespace: Namespace[Any] | None, owner: type) -> Any:
        if namespace is None:
            return self
        build = _bind(self._method, namespace)
        run = namespace._runner.run

        def call(*args: Any, **kwargs: Any) -> Any:
            return run(build(*args, **kwargs))

        return functools.update_wrapper(call, build)


class listing(Generic[P, M]):
    """A paged list route: the method builds the call for the first page."""

    def __init__(self, method: Callable[Concatenate[Any, P], Call[Page[M]]]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(self, namespace: Namespace[SyncRunner], owner: type) -> SyncListing[P, M]: ...
    @overload
    def __get__(self, namespace: Namespace[AsyncRunner], owner: type) -> AsyncListing[P, M]: ...
    def __get__(self, namespace: Namespace[Any] | None, owner: type) -> Any:
        if namespace is None:
            return self
        runner = namespace._runner
        kind = SyncListing if isinstance(runner, SyncRunner) else AsyncListing
        return kind(runner, _bind(self._method, namespace))


class download:
    """A file route: the method builds the call from the record's id."""

    def __init__(self, method: Callable[[Any, Id], Call[bytes]]) -> None:
        self._method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, namespace: None, owner: type) -> Self: ...
    @overload
    def __get__(self, namespace: Namespace[SyncRunner], owner: type) -> SyncFile: ...
    @overload
    def __get__(self, namespace: Namespace[AsyncRunner], owner: type) -> AsyncFile: ...
    def __get__(self, namespace: Namespace[Any] | None, owner: type) -> Any:
        if namespace is None:
            return self
        runner = namespace._runner
        kind = SyncFile if isinstance(runner, SyncRunner) else AsyncFile
        return kind(runner, _bind(self._method, namespace))
