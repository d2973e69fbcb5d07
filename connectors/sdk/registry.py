"""Discovery of connectors through the ``unified_ats.connectors`` entry-point group.

Built-ins register the same way as third-party packages. Loading is lazy: listing names
imports nothing; :meth:`ConnectorRegistry.get` imports one connector and checks it.
"""

from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from connectors.sdk.base import Connector, ConnectorSettings

ENTRY_POINT_GROUP = "unified_ats.connectors"


class ConnectorLoadError(Exception):
    """An entry point that does not lead to a valid Connector subclass."""


class UnknownConnector(KeyError):
    pass


class ConnectorRegistry:
    def __init__(self, discovered: Iterable[EntryPoint] | None = None) -> None:
        found = entry_points(group=ENTRY_POINT_GROUP) if discovered is None else discovered
        self._entry_points: dict[str, EntryPoint] = {ep.name: ep for ep in found}
        self._loaded: dict[str, type[Connector[ConnectorSettings]]] = {}

    def names(self) -> list[str]:
        return sorted(set(self._entry_points) | set(self._loaded))

    def register(self, connector: type[Connector[ConnectorSettings]]) -> None:
        """Add a connector explicitly (tests, or an application embedding its own)."""
        self._loaded[connector.name] = self._checked(connector.name, connector)

    def get(self, name: str) -> type[Connector[ConnectorSettings]]:
        if name in self._loaded:
            return self._loaded[name]
        entry_point = self._entry_points.get(name)
        if entry_point is None:
            raise UnknownConnector(name)
        try:
            loaded = entry_point.load()
        except Exception as exc:
            raise ConnectorLoadError(f"connector {name!r} failed to import: {exc}") from exc
        connector = self._checked(name, loaded)
        self._loaded[name] = connector
        return connector

    def all(self) -> list[type[Connector[ConnectorSettings]]]:
        return [self.get(name) for name in self.names()]

    @staticmethod
    def _checked(name: str, loaded: object) -> type[Connector[ConnectorSettings]]:
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
            raise ConnectorLoadError(f"entry point {name!r} is not a Connector subclass")
        if getattr(loaded, "name", None) != name:
            raise ConnectorLoadError(
                f"entry point {name!r} leads to a connector named {getattr(loaded, 'name', None)!r}"
            )
        for attribute in ("display_name", "settings_model", "capabilities", "candidate_fields"):
            if not hasattr(loaded, attribute):
                raise ConnectorLoadError(f"connector {name!r} does not declare {attribute}")
        if not issubclass(loaded.settings_model, ConnectorSettings):
            raise ConnectorLoadError(f"connector {name!r} settings_model is not ConnectorSettings")
        return loaded


_default: ConnectorRegistry | None = None


def default_registry() -> ConnectorRegistry:
    global _default
    if _default is None:
        _default = ConnectorRegistry()
    return _default
