"""Flatchr mapping throughput against pydantic validation of the same final JSON.

    uv run python -m bench.flatchr_mapping [N]

Both sides run in the same process on the same rows; the ratio is what matters (target: <= 2x).
"""

import sys
import uuid
from datetime import UTC, datetime

from bench.common import best_of_each, report
from connectors.flatchr.emulator.data import Company, generate_applicants
from connectors.flatchr.mapping import CATALOG_KEY, build_catalog, map_applicant_row
from connectors.sdk.base import IdScope, MappingContext
from connectors.sdk.normalize import phone_cache_clear
from schemas import Application, Attachment, Candidate


def main(n: int = 20_000) -> float:
    company = Company(company_id="BENCH00000000000", name="Bench SA", api_key="k")
    generate_applicants(company, size=n, seed=42)
    rows = [a.search_row(include_cv=True) for a in company.applicants.values()]
    ctx = MappingContext(
        ids=IdScope(uuid.uuid4()),
        observed_at=datetime.now(UTC),
        company_name="Bench SA",
        default_phone_region="FR",
        # What the connector reads once per sync: vacancies and columns, to resolve job and stage.
        extra={CATALOG_KEY: build_catalog(company.vacancy_listing(), company.columns())},
    )
    records = [map_applicant_row(row, ctx) for row in rows]
    candidates_json = [r.candidate.model_dump(mode="json") for r in records]
    attachments_json = [a.model_dump(mode="json") for r in records for a in r.attachments]
    applications_json = [a.model_dump(mode="json") for r in records for a in r.applications]
    assert all(a["job"] and a["current_stage"] for a in applications_json)

    def mapping_cold() -> None:
        phone_cache_clear()  # a first sync: every phone number is parsed
        for row in rows:
            map_applicant_row(row, ctx)

    def mapping_warm() -> None:
        for row in rows:  # a re-sync: phone numbers already normalized once
            map_applicant_row(row, ctx)

    def validation() -> None:
        for payload in candidates_json:
            Candidate.model_validate(payload)
        for payload in attachments_json:
            Attachment.model_validate(payload)
        for payload in applications_json:
            Application.model_validate(payload)

    cold, warm, validated = best_of_each((mapping_cold, mapping_warm, validation))
    report(
        f"Flatchr mapping, {n} applicant rows ({len(attachments_json)} CVs)",
        [
            ("pydantic validation alone (baseline)", f"{n / validated:,.0f} records/s"),
            ("mapping, first sync (cold phone cache)", f"{n / cold:,.0f} records/s"),
            ("mapping, re-sync (warm phone cache)", f"{n / warm:,.0f} records/s"),
            ("ratio cold / validation", f"{cold / validated:.2f}x"),
            ("ratio warm / validation", f"{warm / validated:.2f}x (target <= 2x)"),
        ],
    )
    return warm / validated


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
