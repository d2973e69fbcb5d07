"""The hosted link page's HTML: Jinja2 templates, no JavaScript, strict security headers."""

import base64
import hashlib
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

STYLE = """
:root { color-scheme: light dark; --accent: #1d4ed8; --error: #b91c1c; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 1rem; }
main { max-width: 34rem; margin: 2rem auto; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
.lead { margin-top: 0; }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
.choice label, .field input[type=checkbox] + label { display: inline; font-weight: 400; }
.req { font-weight: 400; font-size: .9em; }
input[type=text], input[type=password], input[type=number] {
  box-sizing: border-box; width: 100%; padding: .5rem; font: inherit;
  border: 1px solid #6b7280; border-radius: 4px; }
input:focus, button:focus, summary:focus, a:focus { outline: 3px solid var(--accent);
  outline-offset: 2px; }
.field { margin: 1rem 0; }
.field.invalid input { border-color: var(--error); border-width: 2px; }
.hint { margin: .2rem 0 0; font-size: .9em; }
.error { margin: .2rem 0 0; color: var(--error); font-weight: 600; }
.error-summary { border: 2px solid var(--error); border-radius: 4px; padding: .5rem 1rem;
  margin: 1rem 0; }
.help, .notice { border-left: 4px solid var(--accent); padding: .25rem 1rem; margin: 1rem 0; }
fieldset { border: 1px solid #6b7280; border-radius: 4px; margin: 1rem 0; }
.choice { margin: .4rem 0; }
details { margin: 1rem 0; }
summary { cursor: pointer; font-weight: 600; }
button { font: inherit; padding: .6rem 1.2rem; background: var(--accent); color: #fff;
  border: 0; border-radius: 4px; cursor: pointer; }
footer, .expiry { font-size: .85em; max-width: 34rem; margin: 1rem auto; }
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; img-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

templates = Environment(
    loader=PackageLoader("unified_ats.api", "templates/link"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    body = templates.get_template(template).render(style=STYLE, **context)
    return HTMLResponse(body, status_code=status_code, headers=HEADERS)


def message_page(status_code: int, title: str, *paragraphs: str) -> HTMLResponse:
    return page("message.html", status_code, title=title, paragraphs=paragraphs, org_name=None)


def html_responses(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for statuses the page answers with HTML."""
    declared: dict[int | str, dict[str, Any]] = {
        status: {"description": text, "content": {"text/html": {"schema": {"type": "string"}}}}
        for status, text in statuses.items()
    }
    if 429 in declared:
        declared[429]["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again (the vendor's own advice).",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return declared
