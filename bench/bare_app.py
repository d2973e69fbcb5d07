"""The baseline: a bare FastAPI route answering the same JSON bytes from memory."""

import os
from pathlib import Path

from fastapi import FastAPI, Response


def create() -> FastAPI:
    body = Path(os.environ["BENCH_BARE_JSON"]).read_bytes()
    app = FastAPI()

    @app.get("/api/ats/v1/candidates/{candidate_id}")
    async def candidate(candidate_id: str) -> Response:
        return Response(body, media_type="application/json")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
