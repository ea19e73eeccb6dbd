"""A stateless fuzz of the API with schemathesis, beside tests/test_hostile_inputs.py: for every
operation of /api/schema/, called through the WSGI application, generated valid and invalid
requests (a small budget) answer no 5xx and nothing under /api/ answers HTML."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from portal.wsgi import application
from tests.factories import LoginFactory, admin_of, mosa_standard, token_for

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", application)
# The boundary values are tests/test_hostile_inputs.py's; here only generated requests, a few per operation.
SCHEMA.config.phases.coverage.enabled = False
EXAMPLES = 5  # per operation: ~215 requests in all, the same each run (derandomized)


@schemathesis.check
def problem_json_for_errors(ctx, response, case):
    """An error under /api/ is application/problem+json, never an HTML page."""
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])
    if response.status_code >= 400 and content_type != ["application/problem+json"]:
        raise AssertionError(f"{response.status_code} answered {content_type}")


@pytest.fixture
def tokens(at_date):
    at_date("2026-06-16")
    tenant, _card, _std, _users = mosa_standard(users=2)
    # As Django's test client does: a request's end must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"admin": token_for(admin_of(tenant)), "staff": token_for(LoginFactory(is_staff=True))}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_generated_requests_answer_no_5xx_and_no_html(case, tokens):
    token = tokens["staff" if case.path.startswith("/api/v1/support/") else "admin"]
    case.call_and_validate(headers={"Authorization": f"Token {token}"},
                           checks=[not_a_server_error, problem_json_for_errors])
