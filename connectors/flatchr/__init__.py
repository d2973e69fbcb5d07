"""Flatchr connector (``https://api.flatchr.io``)."""

from connectors.flatchr.connector import FlatchrConnector, FlatchrSettings

__all__ = ["FlatchrConnector", "FlatchrSettings"]
