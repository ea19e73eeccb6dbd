"""A request field takes the JSON type the schema gives it (issue 21): a string field refuses a JSON
number (DRF's CharField would take 123 as "123"), a boolean field anything but ``true`` or ``false``
(DRF's BooleanField takes 0, 1, "1", "yes"). Every string and boolean field of every request body,
read from the OpenAPI schema, through the API with the caller's real ids: 400 problem+json
``invalid`` naming the field, and nothing written."""

import json

import pytest
from rest_framework import serializers as drf_serializers

from portal.api.fields import StrictBooleanField, StrictText
from tests.test_hostile_inputs import (
    ENDPOINTS,
    ONE_OF,
    SCHEMA,
    _api_client,
    _fields,
    _request_serializers,
    base_bodies,
    changes,
    fingerprint,
    real_path_params,
    request_fields,
    world,  # noqa: F401 - the sweep's world: one tenant of each agreement, support staff, real ids
)

# What a boolean field must refuse: numbers and text that DRF's BooleanField reads as true or false.
NOT_BOOLEANS = [0, 1, "1", "0", "true", "false", "yes", "off"]
BODIES = [(path, method) for path, method in ENDPOINTS if request_fields(SCHEMA["paths"][path][method.lower()])]


def _type(prop: dict) -> str | None:
    return prop.get("type") or next((p.get("type") for p in prop.get("oneOf", ()) if p.get("type")), None)


def wrong_types(fields: dict) -> list[tuple[str, object]]:
    """(field, a value of the wrong JSON type) for each string, string array and boolean field."""
    cases = []
    for name, prop in fields.items():
        kind = _type(prop)
        if kind == "string":
            cases += [(name, 4242424242424242), (name, 12.5)]
        elif kind == "array" and _type(prop["items"]) == "string":
            cases.append((name, [4242424242424242]))
        elif kind == "boolean":
            cases += [(name, value) for value in NOT_BOOLEANS]
    return cases


def _sweep(w, path, method, kinds):
    """Each case's outcome that isn't a 400 ``invalid`` naming the field with nothing written."""
    fields = request_fields(SCHEMA["paths"][path][method.lower()])
    base = base_bodies(w)[(path, method)]
    url = path.format(**real_path_params(w, path))
    client = _api_client(w["staff"] if path.startswith("/api/v1/support/") else w["admin"])
    wrong, after = [], fingerprint()
    cases = [(name, value) for name, value in wrong_types(fields) if _type(fields[name]) in kinds]
    for n, (name, value) in enumerate(cases):
        body = {**(dict(list(base.items())[:1]) if (path, method) in ONE_OF else base), name: value}
        before, response = after, client.generic(method, url, json.dumps(body), content_type="application/json",
                                                 HTTP_IDEMPOTENCY_KEY=f"json-types-{n}")
        after = fingerprint()
        problem = response.get("Content-Type") == "application/problem+json"
        outcome = (response.status_code, response.json().get("code") if problem else response.content[:200],
                   sorted(response.json().get("errors", {})) if problem else None, changes(before, after))
        if outcome != (400, "invalid", [name], {}):
            wrong.append(f"{name} = {value!r}: {outcome}")
    return wrong


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), BODIES, ids=[f"{m} {p}" for p, m in BODIES])
def test_every_request_text_field_refuses_a_json_number(world, path, method):  # noqa: F811
    assert _sweep(world, path, method, {"string", "array"}) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), BODIES, ids=[f"{m} {p}" for p, m in BODIES])
def test_every_request_boolean_field_refuses_anything_but_true_or_false(world, path, method):  # noqa: F811
    assert _sweep(world, path, method, {"boolean"}) == []


def test_the_sweep_covers_the_fields_the_probe_found():
    swept = {(path, name) for path, method in BODIES
             for name, _value in wrong_types(request_fields(SCHEMA["paths"][path][method.lower()]))}
    assert {("/api/v1/payment-methods/", "holder_name"), ("/api/v1/payment-methods/", "number"),
            ("/api/v1/subscriptions/{id}/", "recurring_billing"), ("/api/v1/support/clock/", "dry_run")} <= swept


def test_every_request_text_and_boolean_field_is_strict():
    """Each request serializer's text field takes only a string and each boolean only true or false
    (``portal.api.serializers`` makes them so by default; a field built on DRF's own would not)."""
    loose = [f"{component}.{name}: {type(field).__name__}" for component, serializer in _request_serializers()
             for name, field in _fields(serializer) if not field.read_only and (
                 (isinstance(field, drf_serializers.CharField) and not isinstance(field, StrictText))
                 or (isinstance(field, drf_serializers.BooleanField) and not isinstance(field, StrictBooleanField)))]
    assert loose == []
