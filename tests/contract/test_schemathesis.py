"""schemathesis over every route of the live app (a real uvicorn server with a filled store):
positive and negative inputs with valid credentials, then bad credentials, then stateful
sequences along OpenAPI links (added to this test's copy of the document). Checks: no server
error, every status, content type, header and body as documented.

Destructive routes (delete a connection, rotate its token or webhook secret) run on a throwaway
tenant whose connections are recreated as the run consumes them, so the rest keeps its data.
"""

import copy
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests

from tests.contract.conftest import STORES, require, store_url
from tests.contract.live import API, LiveServer, live_server

require("schemathesis")

import schemathesis  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "schemas" / "openapi.json").read_text())
SEED = 20240917
MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
pytestmark = pytest.mark.e2e


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters}


FIRST = "$response.body#/items/0"
# Links between reads (stateful phase): operationId -> {status -> {link name -> link}}.
READ_LINKS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "candidates_list": {
        "200": {
            "GetCandidate": link("candidates_get", candidate_id=f"{FIRST}/id"),
            "GetAvatar": link("candidates_avatar", candidate_id=f"{FIRST}/id"),
            "ListAttachments": link("attachments_list", candidate=f"{FIRST}/id"),
            "ListApplications": link("applications_list", candidate=f"{FIRST}/id"),
            "NextPage": link("candidates_list", cursor="$response.body#/cursor"),
        }
    },
    "candidates_get": {
        "200": {
            "Revalidate": link(
                "candidates_get",
                candidate_id="$request.path.candidate_id",
                **{"header.If-None-Match": "$response.header.ETag"},
            ),
            "GetAttachment": link("attachments_get", attachment_id="$response.body#/attachments/0"),
            "Download": link("attachments_download", attachment_id="$response.body#/attachments/0"),
            "GetApplication": link(
                "applications_get", application_id="$response.body#/applications/0"
            ),
            "GetAvatar": link("candidates_avatar", candidate_id="$response.body#/id"),
        }
    },
    "attachments_list": {
        "200": {
            "GetAttachment": link("attachments_get", attachment_id=f"{FIRST}/id"),
            "Download": link("attachments_download", attachment_id=f"{FIRST}/id"),
            "NextPage": link("attachments_list", cursor="$response.body#/cursor"),
        }
    },
    "attachments_get": {
        "200": {
            "Download": link("attachments_download", attachment_id="$response.body#/id"),
            "Owner": link("candidates_get", candidate_id="$response.body#/candidate"),
        }
    },
    "applications_list": {
        "200": {
            "GetApplication": link("applications_get", application_id=f"{FIRST}/id"),
            "GetCandidate": link("candidates_get", candidate_id=f"{FIRST}/candidate"),
            "GetJob": link("jobs_get", job_id=f"{FIRST}/job"),
            "GetStage": link("job_interview_stages_get", stage_id=f"{FIRST}/current_stage"),
            "NextPage": link("applications_list", cursor="$response.body#/cursor"),
        }
    },
    "applications_get": {
        "200": {
            "Revalidate": link(
                "applications_get",
                application_id="$request.path.application_id",
                **{"header.If-None-Match": "$response.header.ETag"},
            ),
            "GetCandidate": link("candidates_get", candidate_id="$response.body#/candidate"),
            "GetJob": link("jobs_get", job_id="$response.body#/job"),
        }
    },
    "jobs_list": {
        "200": {
            "GetJob": link("jobs_get", job_id=f"{FIRST}/id"),
            "ListStages": link("job_interview_stages_list", job=f"{FIRST}/id"),
            "ListApplications": link("applications_list", job=f"{FIRST}/id"),
            "NextPage": link("jobs_list", cursor="$response.body#/cursor"),
        }
    },
    "jobs_get": {
        "200": {
            "Revalidate": link(
                "jobs_get",
                job_id="$request.path.job_id",
                **{"header.If-None-Match": "$response.header.ETag"},
            ),
            "ListStages": link("job_interview_stages_list", job="$response.body#/id"),
        }
    },
    "job_interview_stages_list": {
        "200": {
            "GetStage": link("job_interview_stages_get", stage_id=f"{FIRST}/id"),
            "NextPage": link("job_interview_stages_list", cursor="$response.body#/cursor"),
        }
    },
    "job_interview_stages_get": {
        "200": {
            "GetJob": link("jobs_get", job_id="$response.body#/job"),
            "Revalidate": link(
                "job_interview_stages_get",
                stage_id="$request.path.stage_id",
                **{"header.If-None-Match": "$response.header.ETag"},
            ),
        }
    },
}
# Links of the throwaway tenant's run: list its connections, then rotate or delete one.
CONNECTION_LINKS = {
    "connections_list": {
        "200": {
            "RotateToken": link("connections_rotate_token", connection_id="$response.body#/0/id"),
            "RotateWebhookSecret": link(
                "connections_rotate_webhook_secret", connection_id="$response.body#/0/id"
            ),
            "Delete": link("connections_delete", connection_id="$response.body#/0/id"),
        }
    },
    "connections_rotate_token": {
        "200": {
            "Delete": link("connections_delete", connection_id="$request.path.connection_id"),
        }
    },
}


VENDOR_ID = {"type": ["string", "integer"]}
# The app reads webhook bodies itself (any vendor's shape), so the document declares none; this
# test's copy describes Flatchr's, so that generated bodies reach its mapping, not only the 422.
FLATCHR_WEBHOOK = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"enum": ["new_applicant", "drag_applicant"]},
                    "company_id": {"type": "string"},
                    "data": {
                        "type": "object",
                        "required": ["applicant", "candidate"],
                        "properties": {
                            "applicant": {
                                "type": "object",
                                "required": ["id"],
                                "properties": {
                                    "id": VENDOR_ID,
                                    "candidate_id": VENDOR_ID,
                                    "vacancy_id": VENDOR_ID,
                                    "column": {"type": ["object", "integer", "null"]},
                                    "created_at": {"type": "string", "format": "date-time"},
                                },
                            },
                            "candidate": {
                                "type": "object",
                                "properties": {
                                    "id": VENDOR_ID,
                                    "firstname": {"type": "string"},
                                    "lastname": {"type": "string"},
                                    "email": {"type": "string", "format": "email"},
                                    "phone": {"type": "string"},
                                    "aws": {"type": "object"},
                                },
                            },
                            "vacancy": {"type": "object", "properties": {"id": VENDOR_ID}},
                            "cv": {"type": "object"},
                            "column": {"type": ["object", "integer"]},
                        },
                    },
                },
            }
        }
    },
}


def document() -> dict[str, Any]:
    """A copy of the committed document, with the Flatchr webhook body described."""
    copied = copy.deepcopy(OPENAPI)
    copied["paths"]["/webhooks/{secret}"]["post"].setdefault("requestBody", FLATCHR_WEBHOOK)
    return copied


def with_links(links: dict[str, dict[str, dict[str, dict[str, Any]]]]) -> dict[str, Any]:
    """A copy of the document with these links on its responses."""
    document_ = document()
    by_id = {
        operation["operationId"]: operation
        for operations in document_["paths"].values()
        for operation in operations.values()
    }
    for operation_id, statuses in links.items():
        for status, named in statuses.items():
            by_id[operation_id]["responses"][status].setdefault("links", {}).update(named)
    return document_


def config(*, stateful: bool = False, coverage: bool = True) -> schemathesis.Config:
    """Deterministic generation, every phase; credentials are sent by the tests themselves."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "request-timeout": 30,
            # 501 is the documented "this connector cannot do that" (docs/api.md#errors), never a
            # crash; any other 5xx fails (the vendors are healthy emulators here).
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}},
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {
                    "enabled": stateful,
                    "max-steps": 8,
                    "inference": {"algorithms": []},
                },
            },
        }
    )


@pytest.fixture(scope="module", params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def server(store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("store")
    with live_server(folder, store_url(store, folder)) as live:
        yield live


@pytest.fixture(scope="module")
def stranger_token(server: LiveServer) -> str:
    """A valid connector token of another tenant."""
    _, api_key = server.new_tenant("stranger")
    return server.connect("viasto", api_key=api_key)["connector_token"]


schema = schemathesis.openapi.from_dict(document(), config=config())


@schema.parametrize()
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True)
def test_every_route_answers_as_documented(case: schemathesis.Case, server: LiveServer) -> None:
    """Both credentials valid, of the Flatchr connection (candidates with CVs)."""
    case.call_and_validate(base_url=server.base_url, headers=server.headers(), checks=CHECKS)


@pytest.fixture(scope="module")
def webhook_secret(server: LiveServer) -> str:
    """The webhook secret of a Flatchr connection of its own (webhooks may change its data)."""
    _, api_key = server.new_tenant("webhooks")
    return server.connect("flatchr", api_key=api_key)["webhook_url"].rsplit("/", 1)[1]


@schema.include(operation_id="webhooks_receive").parametrize()
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True)
def test_webhooks_with_a_real_secret_answer_as_documented(
    case: schemathesis.Case, server: LiveServer, webhook_secret: str
) -> None:
    """Generated bodies reach the vendor mapping behind a real secret (not only the 404)."""
    case.path_parameters = {**(case.path_parameters or {}), "secret": webhook_secret}
    case.call_and_validate(base_url=server.base_url, checks=CHECKS)


BAD_CREDENTIALS = itertools.cycle(
    [
        {},  # neither
        {"Authorization": "Bearer uats_sk_" + "0" * 43},  # an unknown key, no token
        {"Authorization": "Basic dXNlcjpwYXNz", "x-connector-token": "uats_ct_" + "1" * 43},
    ]
)


# Bad credentials meet the same checks before any input does: fewer, plainer inputs suffice.
unauthenticated = schemathesis.openapi.from_dict(document(), config=config(coverage=False))


@unauthenticated.parametrize()
@hypothesis.settings(max_examples=6, deadline=None, derandomize=True)
def test_every_route_answers_bad_credentials_as_documented(
    case: schemathesis.Case, server: LiveServer, stranger_token: str
) -> None:
    """Missing, unknown, or another tenant's credentials: each route still answers as documented."""
    headers = dict(next(BAD_CREDENTIALS))
    key_valid = not headers
    if key_valid:
        # A valid API key with another tenant's connector token.
        headers = {**server.headers(), "x-connector-token": stranger_token}
    response = case.call_and_validate(base_url=server.base_url, headers=headers, checks=CHECKS)
    security = case.operation.definition.raw.get("security") or [{}]
    if "ConnectorToken" in security[0] or ("ApiKey" in security[0] and not key_valid):
        # Credentials come first: only a wrong method or path shape (405, 422) can answer before.
        assert response.status_code in {401, 405, 422}, (
            case.method,
            case.path,
            sorted(headers),
            response.status_code,
            response.text[:200],
        )


SINGLE_READS = {
    "candidates": "candidate_id",
    "attachments": "attachment_id",
    "applications": "application_id",
    "jobs": "job_id",
    "job-interview-stages": "stage_id",
}


@pytest.mark.parametrize("resource", SINGLE_READS)
def test_single_reads_and_their_304_answer_as_documented(server: LiveServer, resource: str) -> None:
    """A real record read, then read again with its ETag: both responses as documented."""
    listed = requests.get(
        f"{server.base_url}{API}/{resource}", headers=server.headers(), timeout=30
    ).json()
    record = listed["items"][0]["id"]
    operation = schema[f"{API}/{resource}/{{{SINGLE_READS[resource]}}}"]["GET"]
    first = operation.Case(path_parameters={SINGLE_READS[resource]: record})
    response = first.call_and_validate(
        base_url=server.base_url, headers=server.headers(), checks=CHECKS
    )
    assert response.status_code == 200
    etag = response.headers["etag"][0]
    again = operation.Case(
        path_parameters={SINGLE_READS[resource]: record}, headers={"If-None-Match": etag}
    )
    response = again.call_and_validate(
        base_url=server.base_url, headers=server.headers(), checks=CHECKS
    )
    assert response.status_code == 304


class Recorded(dict[tuple[str, int], int]):
    def add(self, operation_id: str, status: int) -> None:
        self[operation_id, status] = self.get((operation_id, status), 0) + 1


def machine_for(
    stateful: schemathesis.BaseSchema,
    headers: Callable[[], dict[str, str]],
    base_url: str,
    recorded: Recorded,
) -> Any:
    """The schema's state machine, calling the live server with these credentials and checks."""
    base = stateful.as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": base_url, "headers": headers()}

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            recorded.add(case.operation.definition.raw["operationId"], response.status_code)

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: Any = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    return Machine


STATEFUL_SETTINGS = hypothesis.settings(
    max_examples=20,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def test_reads_follow_links_as_documented(server: LiveServer, store: str) -> None:
    """Lists lead to single reads, single reads to files and to their own ETag: every vendor's
    records on SQLite; on PostgreSQL (same mapping, another store) Flatchr's."""
    connectors = ["flatchr", "welcomekit", "viasto"] if store == "sqlite" else ["flatchr"]
    reads = schemathesis.openapi.from_dict(with_links(READ_LINKS), config=config(stateful=True))
    linked = {
        link["operationId"] for named in READ_LINKS.values() for link in named["200"].values()
    }
    reads = reads.include(operation_id=sorted(linked | set(READ_LINKS)))  # writes have own tests
    everything = Recorded()
    for connector in connectors:
        recorded = Recorded()
        machine = machine_for(
            reads, lambda connector=connector: server.headers(connector), server.base_url, recorded
        )
        machine.run(settings=STATEFUL_SETTINGS)
        assert {operation_id for operation_id, _ in recorded} <= linked | set(READ_LINKS)
        # The links reached this vendor's real records, not only 404s on random ids.
        assert ("candidates_get", 200) in recorded, (connector, sorted(recorded.items()))
        for key, count in recorded.items():
            everything[key] = everything.get(key, 0) + count
    reached = {operation_id for operation_id, status in everything if status == 200}
    targets = {"candidates_get", "attachments_get", "attachments_download", "jobs_get"}
    if store == "sqlite":
        # Every linked read reached a real record (the avatar too, when a viasto photo came up:
        # a stateful run's path through the links varies with the data, so it is not required).
        targets |= linked - {"candidates_avatar"}
    assert targets <= reached, (sorted(targets - reached), sorted(everything.items()))


def test_destructive_routes_on_a_throwaway_tenant(server: LiveServer) -> None:
    """Rotate and delete real connections of another tenant, recreated as they are consumed."""
    _, api_key = server.new_tenant("throwaway")
    recorded = Recorded()
    connections = schemathesis.openapi.from_dict(
        with_links(CONNECTION_LINKS), config=config(stateful=True)
    )
    base = machine_for(
        connections.include(tag="connections"),
        lambda: {"Authorization": f"Bearer {api_key}"},
        server.base_url,
        recorded,
    )

    class Throwaway(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            listed = requests.get(
                f"{server.base_url}{API}/connections",
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=30,
            )
            if not listed.json():
                server.connect("flatchr", api_key=api_key)

    Throwaway.run(settings=hypothesis.settings(STATEFUL_SETTINGS, max_examples=10))
    for operation_id, status in [
        ("connections_rotate_token", 200),
        ("connections_rotate_webhook_secret", 200),
        ("connections_delete", 204),
    ]:
        assert (operation_id, status) in recorded, sorted(recorded.items())
    # The main tenant's connections were never touched.
    with requests.get(
        f"{server.base_url}{API}/candidates", headers=server.headers(), timeout=30
    ) as response:
        assert response.status_code == 200
