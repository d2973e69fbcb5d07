import pytest

from connectors.flatchr import FlatchrConnector, FlatchrSettings
from connectors.flatchr.emulator import FlatchrEmulator
from tests.helpers import VirtualClock, over_emulator

COMPANY_ID = "Wy3EOp2NP3p1KMq8"
API_KEY = "flt_test_4f9d2c0b8e1a7d3c"


def make_emulator(size: int = 40, **kwargs: object) -> FlatchrEmulator:
    emulator = FlatchrEmulator(**kwargs)  # type: ignore[arg-type]
    emulator.add_company(
        company_id=COMPANY_ID, api_key=API_KEY, name="Hôpital de la Timone", size=size
    )
    return emulator


def make_connector(emulator: FlatchrEmulator, **kwargs: object) -> FlatchrConnector:
    settings = FlatchrSettings(
        api_key=API_KEY,
        company_id=COMPANY_ID,
        base_url="https://api.flatchr.test",
        careers_url="https://careers.flatchr.test",
    )
    return over_emulator(FlatchrConnector, settings, emulator, **kwargs)


@pytest.fixture
def emulator() -> FlatchrEmulator:
    return make_emulator()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
