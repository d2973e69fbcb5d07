"""Welcome to the Jungle (Welcome Kit) connector (``https://www.welcomekit.co/api/v1/external``)."""

from connectors.welcomekit.connector import WRITE_RULES, WelcomeKitConnector, WelcomeKitSettings

__all__ = ["WRITE_RULES", "WelcomeKitConnector", "WelcomeKitSettings"]
