"""/docs and /redoc work offline: every script, stylesheet and icon they load is served by the
app itself (from the fastapi-offline package), none from a CDN."""

import re
from pathlib import Path

import httpx
import pytest

from unified_ats.api.app import create_app
from unified_ats.settings import Settings

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
KINDS = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_local_assets(page: str, tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assets = ASSET.findall(response.text)
        assert any(a.endswith(".js") for a in assets), response.text
        assert "cdn" not in response.text.lower() and "fonts.googleapis" not in response.text
        for asset in assets:
            assert asset.startswith("/docs/static/"), asset
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert KINDS[Path(asset).suffix] in served.headers["content-type"]
            assert len(served.content) > 1000
        assert "/openapi.json" in response.text


async def test_docs_routes_are_not_in_the_openapi_document(tmp_path: Path) -> None:
    paths = create_app(Settings(data_dir=tmp_path)).openapi()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
