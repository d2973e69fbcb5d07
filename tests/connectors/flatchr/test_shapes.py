"""One normalization per record: a Flatchr applicant sent as a search row, a `new_applicant`
webhook or a `drag_applicant` webhook maps to the same unified content and content hash, for
the candidate, its CV and its application (job and stage included).

Before, the webhook gave an encoded `vacancy_id` and the search row `source`, `hired` and an
integer `vacancy_id`, so `modified_at` moved on every webhook-then-refresh round.
"""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.flatchr.emulator import FlatchrEmulator
from connectors.flatchr.emulator.data import COLUMNS, SOURCES, VACANCY_NUMBERS, Applicant
from connectors.flatchr.mapping import CATALOG_KEY, build_catalog, map_applicant_row, map_webhook
from connectors.sdk.base import IdScope, MappingContext
from unified_ats.store.hashing import content_hash

COMPANY = "Wy3EOp2NP3p1KMq8"
names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
)
moments = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def applicants(draw: st.DrawFn) -> Applicant:
    created = draw(moments)
    with_cv = draw(st.booleans())
    return Applicant(
        applicant_id=draw(st.text("abcdefghijkLMNOP0123456789", min_size=16, max_size=16)),
        candidate_id=draw(st.integers(1, 10**9)),
        firstname=draw(names),
        lastname=draw(names),
        email=draw(st.none() | st.emails()),
        phone=draw(
            st.none() | st.sampled_from(["+33654342384", "06 54 34 23 84", "0033654342384"])
        ),
        vacancy=draw(st.sampled_from(VACANCY_NUMBERS)),
        column=draw(st.integers(0, len(COLUMNS) - 1)),
        status=draw(st.sampled_from([0, 1])),
        score=draw(st.integers(0, 5)),
        external_id=draw(st.sampled_from(["", "EXT-1", "ATS-42"])),
        source=draw(st.sampled_from(SOURCES)),
        created=created,
        updated=created + timedelta(seconds=draw(st.integers(0, 10**8))),
        urls=draw(st.sampled_from([{}, {"linkedin": "https://www.linkedin.com/in/x"}])),
        cv_key=draw(st.text("abcdef0123456789", min_size=8, max_size=8)) if with_cv else None,
        cv_extension=draw(st.sampled_from(["pdf", "docx"])) if with_cv else None,
        updated_as_epoch=draw(st.booleans()),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(applicants())
def test_every_shape_of_an_applicant_has_one_content(applicant: Applicant) -> None:
    emulator = FlatchrEmulator()
    company = emulator.add_company(company_id=COMPANY, api_key="k", name="Hôpital", size=0)
    company.applicants[applicant.applicant_id] = applicant
    ctx = MappingContext(
        ids=IdScope.for_account("flatchr", COMPANY),
        observed_at=datetime.now(UTC),
        company_name="Hôpital",
        extra={CATALOG_KEY: build_catalog(company.vacancy_listing(), company.columns())},
    )
    row = map_applicant_row(company.search_row(applicant, include_cv=True), ctx)
    [application] = row.applications
    assert application.job is not None and application.current_stage is not None
    for event in ("new_applicant", "drag_applicant"):
        hooked = map_webhook(emulator.webhook_payload(COMPANY, applicant.applicant_id, event), ctx)
        assert hooked.candidate.content() == row.candidate.content()
        assert content_hash(hooked.candidate) == content_hash(row.candidate)
        assert [content_hash(a) for a in hooked.attachments] == [
            content_hash(a) for a in row.attachments
        ]
        assert [a.content() for a in hooked.applications] == [application.content()]
        assert [content_hash(a) for a in hooked.applications] == [content_hash(application)]
