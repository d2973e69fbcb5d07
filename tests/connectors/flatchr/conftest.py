import pytest

from connectors.flatchr import FlatchrConnector, FlatchrSettings
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.http import RetryPolicy
from tests.helpers import VirtualClock, no_sleep

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
        api_key=API_KEY, company_id=COMPANY_ID, base_url="https://api.flatchr.test"
    )
    kwargs.setdefault("sleep", no_sleep)
    kwargs.setdefault("retry", RetryPolicy(max_attempts=3, base_delay=0.01))
    return FlatchrConnector(settings, transport=EmulatorTransport(emulator.app), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def emulator() -> FlatchrEmulator:
    return make_emulator()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()
