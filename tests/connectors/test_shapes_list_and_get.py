"""One normalization per record for vendors whose shapes are a list page and a single read
(Welcome Kit, viasto): whatever values the vendor holds, the candidate enumerated and the same
candidate read alone have one content (the content hash the store compares)."""

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sdk.conformance import enumerate_all
from tests.connectors.viasto.conftest import make_connector as viasto_connector
from tests.connectors.viasto.conftest import make_emulator as viasto_emulator
from tests.connectors.welcomekit.conftest import ORG
from tests.connectors.welcomekit.conftest import make_connector as wk_connector
from tests.connectors.welcomekit.conftest import make_emulator as wk_emulator

texts = st.none() | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
phones = st.none() | st.sampled_from(["", "+33606060606", "06 12 34 56 78", "0049 30 123456"])
emails = st.none() | st.just("") | st.emails()
CHECKS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


async def same_content(connector: Any) -> None:
    async with connector:
        records, _ = await enumerate_all(connector, 5)
        for record in records:
            alone = await connector.get_candidate(
                record.candidate.remote_id or "", known=record.candidate
            )
            assert alone.candidate.content() == record.candidate.content()
            assert [a.content() for a in alone.attachments] == [
                a.content() for a in record.attachments
            ]


@CHECKS
@given(first=texts, last=texts, email=emails, phone=phones, subtitle=texts, city=texts)
def test_welcome_kit_list_and_single_read_agree(**profile: Any) -> None:
    emulator = wk_emulator(size=3, jobs=2)
    for reference in list(emulator.organizations[ORG].candidates)[:2]:
        emulator.touch(
            ORG,
            reference,
            firstname=profile["first"],
            lastname=profile["last"],
            email=profile["email"],
            phone=profile["phone"],
            subtitle=profile["subtitle"],
            city=profile["city"],
        )
    asyncio.run(same_content(wk_connector(emulator)))


@CHECKS
@given(
    first=texts,
    last=texts,
    email=emails,
    phone=phones,
    status=st.sampled_from(["", "invited", "rated"]),
)
def test_viasto_list_and_single_read_agree(**values: Any) -> None:
    emulator = viasto_emulator(projects=2, per_project=2)
    for project in emulator.companies[4].candidates.values():
        for stored in project.values():
            stored.update(
                {
                    "first_name": values["first"] if values["first"] is not None else "",
                    "last_name": values["last"] if values["last"] is not None else "",
                    "email": values["email"] or "",
                    "phone": values["phone"] or "",
                }
            )
    asyncio.run(same_content(viasto_connector(emulator)))
