"""Welcome to the Jungle (Welcome Kit) connector (``https://www.welcomekit.co/api/v1/external``)."""

from connectors.welcomekit.connector import (
    CandidateCreate,
    WelcomeKitConnector,
    WelcomeKitSettings,
)

__all__ = ["CandidateCreate", "WelcomeKitConnector", "WelcomeKitSettings"]
