"""Flatchr jobs, stages and applications against the emulator: vacancies as jobs, the
company-wide columns as every vacancy's stages, applications pointing at both, the catalog kept
and refreshed, the webhook that moves an applicant, and vacancy changes over the control API."""

from typing import Any

import httpx
import pytest

from connectors.flatchr import FlatchrConnector
from connectors.flatchr.emulator import FlatchrEmulator
from connectors.flatchr.emulator.data import COLUMNS, VACANCIES, encoded_vacancy_id
from connectors.sdk.base import CandidateRecord, JobRecord, stage_remote_id
from connectors.sdk.emulation import EmulatorTransport
from connectors.sdk.errors import NotFound, RouteNotFound, VendorUnavailable
from schemas import JobStatus
from tests.connectors.flatchr.conftest import API_KEY, COMPANY_ID, make_connector, make_emulator

PIPELINE = ["Nouveaux candidats", "Entretien RH", "Entretien technique", "Recruté"]


async def all_jobs(connector: FlatchrConnector) -> list[JobRecord]:
    return [r async for page in connector.iter_jobs() for r in page.records]


async def all_records(connector: FlatchrConnector) -> list[CandidateRecord]:
    return [r async for page in connector.iter_candidates() for r in page.records]


def by_remote_id(jobs: list[JobRecord]) -> dict[str, JobRecord]:
    return {r.job.remote_id or "": r for r in jobs}


async def test_vacancies_are_jobs_with_the_columns_as_ordered_stages(
    emulator: FlatchrEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        jobs = by_remote_id(await all_jobs(connector))
    assert sorted(jobs) == sorted(encoded_vacancy_id(number) for number, *_ in VACANCIES)
    first = jobs[encoded_vacancy_id(2403)]
    assert first.job.name == "Ingénieur Développement  H/F"
    assert first.job.code == "ING-DEV-2021"
    assert first.job.status == JobStatus.OPEN
    assert first.job.job_posting_urls and first.job.job_posting_urls[0].type == "JOB_POSTING"
    assert first.job.custom_fields is not None and first.job.custom_fields["vacancy_id"] == 2403
    assert first.job.remote_created_at is not None and first.job.remote_created_at.microsecond
    # The listing is in id order (1313, 1314, 1316, 1317); the pipeline follows `position`.
    assert [s.name for s in first.stages] == PIPELINE
    assert [s.stage_order for s in first.stages] == [1, 2, 3, 4]
    assert [s.remote_id for s in first.stages] == [
        stage_remote_id(encoded_vacancy_id(2403), str(column_id))
        for column_id in (1313, 1316, 1317, 1314)
    ]
    assert first.stages[-1].custom_fields == {"hired": True, "visible": True, "position": 6}
    # A status other than 1 has no documented meaning: it passes through as its text.
    assert jobs[encoded_vacancy_id(2406)].job.status == "0"
    assert jobs[encoded_vacancy_id(2406)].job.code is None  # "" is no reference
    other_stages = {s.id for s in jobs[encoded_vacancy_id(2404)].stages}
    assert not other_stages & {s.id for s in first.stages}  # every job has its own stages


async def test_applications_point_at_the_job_and_stage_of_their_row(
    emulator: FlatchrEmulator,
) -> None:
    company = emulator.companies[COMPANY_ID]
    async with make_connector(emulator) as connector:
        jobs = by_remote_id(await all_jobs(connector))
        records = await all_records(connector)
    for record in records:
        applicant = company.applicants[record.candidate.remote_id or ""]
        [application] = record.applications
        job = jobs[encoded_vacancy_id(applicant.vacancy)]
        assert application.job == job.job.id
        [stage] = [s for s in job.stages if s.name == COLUMNS[applicant.column][1]]
        assert application.current_stage == stage.id
        assert application.archived is (applicant.status == 0)
        assert application.hired is COLUMNS[applicant.column][2]
        assert application.score == applicant.score
        assert application.applied_at == record.candidate.remote_created_at
        assert application.rejected_at is None and application.source is None
        assert application.raw_data is not None
        assert application.raw_data["source"] == applicant.source  # kept, not in the content
        assert record.candidate.applications == [application.id]


async def test_get_job_reads_the_vacancy_route_and_404s_for_an_unknown_one(
    emulator: FlatchrEmulator,
) -> None:
    async with make_connector(emulator) as connector:
        listed = by_remote_id(await all_jobs(connector))[encoded_vacancy_id(2405)]
        fresh = await connector.get_job(encoded_vacancy_id(2405))
        assert fresh.job.content() == listed.job.content()
        assert [s.content() for s in fresh.stages] == [s.content() for s in listed.stages]
        for missing in ("V999999999999999", "../company/x", " "):
            with pytest.raises(NotFound):
                await connector.get_job(missing)


async def test_a_vacancy_of_another_company_is_404_on_its_route() -> None:
    emulator = make_emulator(size=3)
    emulator.add_company(company_id="OtherCompany0001", api_key="other-key", name="Autre", size=1)
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://flatchr.test"
    ) as client:
        path = f"/vacancy/{encoded_vacancy_id(2403)}"
        mine = await client.get(path, headers={"Authorization": f"Bearer {API_KEY}"})
        assert mine.status_code == 200 and mine.json()["company"]["id"] == COMPANY_ID
        emulator.remove_vacancy("OtherCompany0001", 2403)
        theirs = await client.get(path, headers={"Authorization": "Bearer other-key"})
        assert theirs.status_code == 404 and theirs.json()["message"]
        anonymous = await client.get(path)
        assert anonymous.status_code == 401


async def test_get_job_maps_faults_and_a_missing_columns_route(emulator: FlatchrEmulator) -> None:
    async with make_connector(emulator) as connector:
        emulator.faults.fail_status = 500
        with pytest.raises(VendorUnavailable):
            await connector.get_job(encoded_vacancy_id(2403))
        emulator.faults.reset()
        emulator.faults.fail_status, emulator.faults.only_paths = 404, ("/company/",)
        with pytest.raises(RouteNotFound):  # the columns 404: says nothing about the vacancy
            await connector.get_job(encoded_vacancy_id(2403))


async def test_a_row_whose_vacancy_the_listing_lacks_gets_no_job(
    emulator: FlatchrEmulator,
) -> None:
    company = emulator.companies[COMPANY_ID]
    orphan = next(iter(company.applicants.values()))
    del company.vacancies[orphan.vacancy]  # gone from the listing, its rows still searched
    async with make_connector(emulator) as connector:
        records = {r.candidate.remote_id: r for r in await all_records(connector)}
        jobs = await all_jobs(connector)
    [application] = records[orphan.applicant_id].applications
    assert application.job is None and application.current_stage is None
    assert application.custom_fields == {
        "vacancy_id": orphan.vacancy,
        "stage": COLUMNS[orphan.column][1],
    }
    assert len(jobs) == len(VACANCIES) - 1


async def test_the_catalog_is_kept_and_each_enumeration_reads_it_again(
    emulator: FlatchrEmulator,
) -> None:
    company = emulator.companies[COMPANY_ID]
    async with make_connector(emulator) as connector:
        await all_records(connector)
        before = emulator.app.requests_seen
        await connector.mapping_context()  # kept: no request
        assert emulator.app.requests_seen == before
        # A vacancy created after the catalog was read, and an applicant moved onto it.
        vacancy = emulator.add_vacancy(COMPANY_ID, "Sage-femme H/F")
        moved = next(iter(company.applicants.values()))
        emulator.touch(COMPANY_ID, moved.applicant_id, vacancy=vacancy.number)
        fresh = await connector.get_candidate(moved.applicant_id)  # refreshes when unknown
        job_id = connector.ids.job_id(vacancy.encoded_id)
        assert fresh.applications[0].job == job_id
        records = {r.candidate.remote_id: r for r in await all_records(connector)}
        assert records[moved.applicant_id].applications[0].job == job_id
        assert job_id in {r.job.id for r in await all_jobs(connector)}


async def test_drag_applicant_moves_the_stage_and_agrees_with_a_later_search(
    emulator: FlatchrEmulator,
) -> None:
    company = emulator.companies[COMPANY_ID]
    applicant = next(a for a in company.applicants.values() if a.column == 0)
    async with make_connector(emulator) as connector:
        ctx = await connector.mapping_context()
        before = connector.parse_webhook(
            emulator.webhook_payload(COMPANY_ID, applicant.applicant_id), ctx
        ).applications[0]
        emulator.touch(COMPANY_ID, applicant.applicant_id, column=3)  # dragged to "Recruté"
        body = emulator.webhook_payload(COMPANY_ID, applicant.applicant_id, "drag_applicant")
        assert isinstance(body["data"]["column"], dict)  # the column object in drag_applicant
        dragged = connector.parse_webhook(body, ctx).applications[0]
        stage_key = stage_remote_id(encoded_vacancy_id(applicant.vacancy), "1314")
        assert dragged.current_stage == connector.ids.stage_id(stage_key)
        assert dragged.current_stage != before.current_stage and dragged.hired is True
        searched = await connector.get_candidate(applicant.applicant_id)
    assert [a.content() for a in searched.applications] == [dragged.content()]


# --- vacancy changes over the control API ------------------------------------------------------


async def control(emulator: FlatchrEmulator, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emulator.app), base_url="http://flatchr.test"
    ) as client:
        return await client.post("/_emulator/change", json=body)


async def test_the_control_api_creates_renames_and_deletes_vacancies(
    emulator: FlatchrEmulator,
) -> None:
    company = emulator.companies[COMPANY_ID]
    created = await control(emulator, {"kind": "job", "action": "create", "count": 2})
    assert created.status_code == 200, created.text
    new_ids = created.json()["ids"]
    assert created.json()["kind"] == "job" and len(new_ids) == 2
    state = emulator.state()["accounts"][0]
    assert set(new_ids) <= set(state["job_remote_ids"])
    assert state["job_count"] == len(VACANCIES) + 2
    async with make_connector(emulator) as connector:
        assert set(new_ids) <= set(by_remote_id(await all_jobs(connector)))
        assert (await connector.get_job(new_ids[0])).job.status == JobStatus.OPEN

        [renamed] = (await control(emulator, {"kind": "job", "action": "update"})).json()["ids"]
        fresh = await connector.get_job(renamed)
        number = int(renamed[1:])
        assert fresh.job.name == company.vacancies[number].title.strip()
        titles = {
            r.candidate.title
            for r in await all_records(connector)
            if company.applicants[r.candidate.remote_id or ""].vacancy == number
        }
        assert titles <= {fresh.job.name}  # search rows show the new title

        deleted = await control(emulator, {"kind": "job", "action": "delete", "count": 1})
        [gone] = deleted.json()["ids"]
        assert gone == encoded_vacancy_id(2403)  # the oldest first
        with pytest.raises(NotFound):
            await connector.get_job(gone)
        records = await all_records(connector)
        assert all(r.applications[0].job != connector.ids.job_id(gone) for r in records)
        assert all(a.vacancy != 2403 for a in company.applicants.values())


async def test_candidate_changes_still_work_with_or_without_kind(
    emulator: FlatchrEmulator,
) -> None:
    before = len(emulator.companies[COMPANY_ID].applicants)
    plain = await control(emulator, {"action": "create", "count": 1})
    tagged = await control(emulator, {"kind": "candidate", "action": "create", "count": 2})
    assert plain.status_code == tagged.status_code == 200
    assert len(emulator.companies[COMPANY_ID].applicants) == before + 3
    assert plain.json()["kind"] == tagged.json()["kind"] == "candidate"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "vacancy", "action": "create"},
        {"kind": "job", "action": "explode"},
        {"kind": "job", "action": "create", "count": 0},
        {"kind": "job", "action": "create", "count": True},
        {"kind": "job", "action": "create", "colour": "red"},
        {"kind": "job", "action": "create", "account": "no-such-company"},
        {"kind": "job", "action": "delete", "count": len(VACANCIES) + 1},
        {"kind": "candidate", "action": "create", "colour": "red"},
    ],
)
async def test_invalid_job_changes_are_422_and_change_nothing(
    emulator: FlatchrEmulator, body: dict[str, Any]
) -> None:
    before = emulator.state()
    response = await control(emulator, body)
    assert response.status_code == 422 and response.json()["detail"]
    assert emulator.state() == before


async def test_deleting_every_vacancy_leaves_nothing_to_apply_to(
    emulator: FlatchrEmulator,
) -> None:
    gone = await control(emulator, {"kind": "job", "action": "delete", "count": len(VACANCIES)})
    assert gone.status_code == 200
    assert emulator.companies[COMPANY_ID].applicants == {}
    refused = await control(emulator, {"action": "create"})
    assert refused.status_code == 422 and "vacancy" in refused.json()["detail"]
    async with make_connector(emulator) as connector:
        assert await all_jobs(connector) == []
