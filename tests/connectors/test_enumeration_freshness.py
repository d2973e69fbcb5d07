"""An enumeration lists the vendor's containers afresh (jobs, projects): a job or project created
after a connector's first sync must not hide its candidates from every later sync."""

import copy
import random

from connectors.sdk.conformance import enumerate_all
from tests.connectors.viasto.conftest import make_connector as viasto_connector
from tests.connectors.viasto.conftest import make_emulator as viasto_emulator
from tests.connectors.welcomekit.conftest import ORG
from tests.connectors.welcomekit.conftest import make_connector as wk_connector
from tests.connectors.welcomekit.conftest import make_emulator as wk_emulator


async def test_a_welcome_kit_job_created_later_is_enumerated() -> None:
    emulator = wk_emulator(size=12, jobs=2)
    async with wk_connector(emulator) as connector:
        before, _ = await enumerate_all(connector, 5)
        org = emulator.organizations[ORG]
        job = {**org.jobs[0], "reference": "WTTJ_NewJob1", "name": "Nouveau poste"}
        org.jobs.append(job)
        emulator._add_candidate(org, random.Random(5), 999, job, None)  # a recruiter's new job
        after, _ = await enumerate_all(connector, 5)
    new = {r.candidate.remote_id for r in after} - {r.candidate.remote_id for r in before}
    assert len(new) == 1 and len(after) == len(before) + 1


async def test_a_viasto_project_created_later_is_enumerated() -> None:
    emulator = viasto_emulator(projects=2, per_project=3)
    async with viasto_connector(emulator) as connector:
        before, _ = await enumerate_all(connector, 5)
        company = emulator.companies[4]
        template_id = next(iter(company.projects))
        project = copy.deepcopy(company.projects[template_id])
        project["resource_uri"] = project["resource_uri"].replace(f"/{template_id}/", "/77/")
        project["candidates"] = project["candidates"].replace(f"/{template_id}/", "/77/")
        company.projects[77] = project
        company.candidates[77] = {
            9001: emulator._generate(random.Random(1), 4, 77, 9001, 0),
        }
        after, _ = await enumerate_all(connector, 5)
    assert {r.candidate.remote_id for r in after} - {r.candidate.remote_id for r in before} == {
        "77/9001"
    }


async def test_a_single_page_listing_short_of_its_total_is_reported() -> None:
    """A project whose candidates fit on one page (no next link) still has its count checked:
    a listing that hides a record its total counts never passes for complete."""
    emulator = viasto_emulator(projects=2, per_project=3)  # one page each at page_size 5
    emulator.faults.unlisted_records = 1
    async with viasto_connector(emulator) as connector:
        reasons = [
            page.incomplete
            async for page in connector.iter_candidates(page_size=5)
            if page.incomplete
        ]
    assert sum("candidates" in r for r in reasons) == 1  # the one project still listed
    assert any("projects" in r for r in reasons)
