"""viasto Interview Suite connector (``https://{company}.interview-suite.com/api/v3``)."""

from connectors.viasto.connector import ViastoCandidateCreate, ViastoConnector, ViastoSettings

__all__ = ["ViastoCandidateCreate", "ViastoConnector", "ViastoSettings"]
