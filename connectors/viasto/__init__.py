"""viasto Interview Suite connector (``https://{company}.interview-suite.com/api/v3``)."""

from connectors.viasto.connector import ViastoConnector, ViastoSettings

__all__ = ["ViastoConnector", "ViastoSettings"]
