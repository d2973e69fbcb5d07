import pytest

from connectors.viasto import ViastoConnector, ViastoSettings
from connectors.viasto.emulator import ViastoEmulator
from tests.helpers import over_emulator

BASE = "https://acme-inc.interview-suite.com/api/v3"
USER, PASSWORD, TOKEN = (
    "tarsila@viasto.com",
    "top-secret-pw-42",
    "a9e75326e273e8ef865522ac326b457ef1864e9e",
)


def make_emulator(projects: int = 3, per_project: int = 12, **kwargs: object) -> ViastoEmulator:
    emulator = ViastoEmulator(**kwargs)  # type: ignore[arg-type]
    emulator.add_company(
        company_id=4,
        name="ACME GmbH",
        token=TOKEN,
        username=USER,
        password=PASSWORD,
        projects=projects,
        candidates_per_project=per_project,
    )
    emulator.add_company(
        company_id=5, name="Other AG", token="b" * 40, projects=1, candidates_per_project=2, seed=2
    )
    return emulator


def make_connector(
    emulator: ViastoEmulator, *, login: bool = False, **kwargs: object
) -> ViastoConnector:
    credentials = (
        {"username": USER, "password": PASSWORD, "company_identifier": "acme-inc"}
        if login
        else {"token": TOKEN}
    )
    settings = ViastoSettings(
        base_url=BASE, company_id="4", page_size=int(kwargs.pop("page_size", 5)), **credentials
    )  # type: ignore[arg-type]
    return over_emulator(ViastoConnector, settings, emulator, **kwargs)


@pytest.fixture
def emulator() -> ViastoEmulator:
    return make_emulator()
