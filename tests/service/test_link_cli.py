"""`unified-ats tenants link-redirects`: the redirect allow-list of hosted link pages."""

import re
from pathlib import Path

from tests.service.test_cli import UNKNOWN, cli_env, fails, run

__all__ = ["cli_env"]  # the fixture, used by name


def test_link_redirects_show_set_refuse_and_clear(cli_env: Path) -> None:
    created = run("tenants", "create", "acme")
    tenant = re.search(r"tenant ([0-9a-f-]{36})", created)[1]  # type: ignore[index]
    assert "no redirect URL is allowed" in run("tenants", "link-redirects", tenant)
    out = run(
        "tenants",
        "link-redirects",
        tenant,
        "--allow",
        "https://app.example.com/*",
        "--allow",
        "http://localhost:3000/done",
    )
    assert "https://app.example.com/*" in out and "http://localhost:3000/done" in out
    assert "https://app.example.com/*" in run("tenants", "link-redirects", tenant)
    code, _, stderr = fails("tenants", "link-redirects", tenant, "--allow", "http://evil.example/")
    assert code == 2 and "must be https" in stderr
    code, _, stderr = fails("tenants", "link-redirects", UNKNOWN)
    assert "no tenant" in stderr
    assert "no redirect URL is allowed" in run("tenants", "link-redirects", tenant, "--clear")
