import pytest

from connectors.welcomekit import WelcomeKitConnector, WelcomeKitSettings
from connectors.welcomekit.emulator import WelcomeKitEmulator
from tests.helpers import over_emulator

ORG = "Pg4eV6k"
API_KEY = "wk_test_5e0c8a1f9b2d"


def make_emulator(size: int = 45, jobs: int | None = 3, **kwargs: object) -> WelcomeKitEmulator:
    emulator = WelcomeKitEmulator(**kwargs)  # type: ignore[arg-type]
    emulator.add_organization(
        reference=ORG, name="Welcome to the Jungle", api_key=API_KEY, size=size, jobs=jobs
    )
    return emulator


def make_connector(emulator: WelcomeKitEmulator, **kwargs: object) -> WelcomeKitConnector:
    settings = WelcomeKitSettings(
        api_key=API_KEY,
        organization_reference=ORG,
        per_page=kwargs.pop("per_page", 7),  # type: ignore[arg-type]
    )
    return over_emulator(WelcomeKitConnector, settings, emulator, **kwargs)


@pytest.fixture
def emulator() -> WelcomeKitEmulator:
    return make_emulator()
