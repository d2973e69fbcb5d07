"""Welcome Kit mapping throughput against pydantic validation of the same final JSON.

uv run python -m bench.welcomekit_mapping [N]      (target: mapping <= 2x validation)
"""

import random
import sys
import uuid
from datetime import UTC, datetime

from bench.common import best_of_each, report
from connectors.sdk.base import IdScope, MappingContext
from connectors.sdk.normalize import phone_cache_clear
from connectors.welcomekit.emulator import WelcomeKitEmulator
from connectors.welcomekit.mapping import JobInfo, map_candidate
from schemas import Application, Attachment, Candidate


def varied_phone(rng: random.Random, given: str | None) -> str | None:
    """A number of its own in the form the emulator drew (``+336...``, ``06 .. .. .. ..``)."""
    if not given:
        return given
    digits = f"{rng.randrange(10**8):08d}"
    if given.startswith("+"):
        return f"+336{digits}"
    return f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"


def main(n: int = 20_000) -> float:
    emulator = WelcomeKitEmulator()
    org = emulator.add_organization(reference="BENCH", name="Bench", api_key="k", size=n)
    jobs = {j["reference"]: JobInfo(j["reference"], j["name"]) for j in org.jobs}
    # The emulator draws phones from a few dozen values: each candidate gets its own number here
    # (same forms), so the cold run parses one number per candidate, as a first sync does.
    rng = random.Random(7)
    items = [
        (
            {**c, "profile": {**c["profile"], "phone": varied_phone(rng, c["profile"]["phone"])}},
            jobs[c["job_reference"]],
            org.documents[ref],
        )
        for ref, c in org.candidates.items()
    ]
    ctx = MappingContext(
        ids=IdScope(uuid.uuid4()),
        observed_at=datetime.now(UTC),
        company_name="Bench",
        default_phone_region="FR",
    )
    records = [map_candidate(c, ctx, job=job, documents=docs) for c, job, docs in items]
    candidates = [r.candidate.model_dump(mode="json") for r in records]
    attachments = [a.model_dump(mode="json") for r in records for a in r.attachments]
    applications = [a.model_dump(mode="json") for r in records for a in r.applications]

    def mapping_cold() -> None:
        phone_cache_clear()
        for c, job, docs in items:
            map_candidate(c, ctx, job=job, documents=docs)

    def mapping_warm() -> None:
        for c, job, docs in items:
            map_candidate(c, ctx, job=job, documents=docs)

    def validation() -> None:
        for payload in candidates:
            Candidate.model_validate(payload)
        for payload in attachments:
            Attachment.model_validate(payload)
        for payload in applications:
            Application.model_validate(payload)

    cold, warm, validated = best_of_each((mapping_cold, mapping_warm, validation))
    report(
        f"Welcome Kit mapping, {n} candidates ({len(attachments)} attachments)",
        [
            ("pydantic validation alone (baseline)", f"{n / validated:,.0f} records/s"),
            ("mapping, cold phone cache", f"{n / cold:,.0f} records/s ({cold / validated:.2f}x)"),
            (
                "mapping, warm phone cache",
                f"{n / warm:,.0f} records/s ({warm / validated:.2f}x, target <= 2x)",
            ),
        ],
    )
    return warm / validated


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
