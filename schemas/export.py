"""Writes the JSON Schema of the public models into ``schemas/json/``.

Run ``python -m schemas.export`` after changing a model; a test fails while they drift.
"""

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas import Application, Attachment, Candidate, ErrorBody, Job, JobInterviewStage, Page

JSON_DIR = Path(__file__).parent / "json"

EXPORTED: dict[str, type[BaseModel]] = {
    "candidate.json": Candidate,
    "attachment.json": Attachment,
    "candidate_page.json": Page[Candidate],
    "attachment_page.json": Page[Attachment],
    "job.json": Job,
    "job_page.json": Page[Job],
    "job_interview_stage.json": JobInterviewStage,
    "job_interview_stage_page.json": Page[JobInterviewStage],
    "application.json": Application,
    "application_page.json": Page[Application],
    "error.json": ErrorBody,
}


def render(model: type[BaseModel]) -> str:
    schema: dict[str, Any] = model.model_json_schema(mode="serialization")
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    for file_name, model in EXPORTED.items():
        (JSON_DIR / file_name).write_text(render(model), encoding="utf-8")
        print(f"wrote schemas/json/{file_name}")


if __name__ == "__main__":
    main()
