"""The baseline: bare FastAPI routes answering the very JSON bytes the store serves, from memory.

``BENCH_BARE_JSON`` names a file mapping each request path (with its query for lists) to the
body the store gave for it, so both servers answer the same bytes for the same request.
"""

import json
import os
from pathlib import Path

from fastapi import FastAPI, Request, Response


def create() -> FastAPI:
    bodies: dict[str, bytes] = {
        path: body.encode()
        for path, body in json.loads(Path(os.environ["BENCH_BARE_JSON"]).read_text()).items()
    }
    app = FastAPI()

    @app.get("/api/ats/v1/candidates/{candidate_id}")
    async def candidate(candidate_id: str, request: Request) -> Response:
        return Response(bodies[request.url.path], media_type="application/json")

    @app.get("/api/ats/v1/candidates")
    async def candidates(request: Request) -> Response:
        return Response(
            bodies[f"{request.url.path}?{request.url.query}"], media_type="application/json"
        )

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
