"""/api/schema/ is valid OpenAPI that linters pass and generators type fully: openapi-spec-validator
finds nothing, and tests/contract/schema_rules.py (Redocly's recommended rules that need no Node.js, and
what openapi-python-client needs to type every field) finds nothing either."""

import json

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_spec_validator import OpenAPIV30SpecValidator

from tests.contract.schema_rules import FREE_FORM, problems

SCHEMA = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
COMPONENTS = SCHEMA["components"]["schemas"]


NULL = {"type": "object", "nullable": True, "enum": [None]}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def test_the_schema_is_valid_openapi():
    assert [error.message for error in OpenAPIV30SpecValidator(SCHEMA).iter_errors()] == []


def test_the_schema_keeps_every_rule_of_linters_and_generators():
    assert problems(SCHEMA) == []


def test_the_rules_see_each_kind_of_breach():
    """The control: a schema with one breach of each rule gets one sentence each."""
    broken = {
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/things/{id}/": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "", "content": {"application/json": {
                "schema": ref("Thing"), "examples": {"Bad": {"value": {"name": "x", "extra": 1}}}}}}}}}},
        "components": {"schemas": {"Thing": {"type": "object", "properties": {
            "name": {"type": "string", "default": ""  , "minLength": 1},
            "owner": {"allOf": [ref("Thing")], "nullable": True},
            "bag": {"type": "object"},
            "lines": {"type": "array", "items": {}},
            "when": {"type": "string", "format": "date-time", "example": "2026-09-15"},
        }}}},
    }
    assert problems(broken) == [
        "GET /things/{id}/: no summary",
        "GET /things/{id}/: the path's id is a string, not an integer",
        "GET /things/{id}/ 200 application/json example Bad: Additional properties are not allowed "
        "('extra' was unexpected)",
        "Thing.bag: an object without properties (a free-form dict)",
        "Thing.lines[]: no type",
        "#.components.schemas.Thing.properties.owner: nullable without a type",
        "#/components.schemas.Thing.properties.name.default: '' should be non-empty",
        "#/components.schemas.Thing.properties.when.example: '2026-09-15' is not a 'date-time'",
    ]


def test_a_problems_blockers_are_blockers():
    assert COMPONENTS["Problem"]["properties"]["blockers"]["items"] == ref("Blocker")
    assert set(COMPONENTS["Blocker"]["required"]) == {"code", "title", "resolution", "detail", "action"}
    assert COMPONENTS["Blocker"]["properties"]["action"] == {"oneOf": [ref("Action"), NULL]}


def test_a_quotes_lines_users_groups_and_credit_delivery_are_named_schemas():
    quote = COMPONENTS["Quote"]["properties"]
    assert quote["lines"]["items"] == ref("QuoteLine")
    assert quote["users"]["items"] == ref("UserChange")
    assert quote["user_groups"]["items"] == ref("UserChangeGroup")
    assert quote["credit_delivery"]["oneOf"] == [ref("CreditDelivery"), NULL]
    assert set(COMPONENTS["QuoteLine"]["required"]) == {"description", "amount", "start", "end"}
    assert set(COMPONENTS["CreditDelivery"]["required"]) == {"kind", "invoice_date", "refund_date", "text"}


def test_every_path_id_is_an_integer():
    ids = [parameter["schema"] for item in SCHEMA["paths"].values() for operation in item.values()
           if isinstance(operation, dict) for parameter in operation.get("parameters", [])
           if parameter["in"] == "path" and parameter["name"] in ("id", "webhook_pk")]
    assert ids and all(schema == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1} for schema in ids), ids


def test_an_invoices_total_and_paid_are_always_there():
    assert {"total", "paid", "balance", "lines"} <= set(COMPONENTS["Invoice"]["required"])


def test_only_the_fields_whose_shape_varies_by_design_are_free_form():
    assert FREE_FORM == {"Event.data", "DeliveryPayload.data", "SupportEvent.data"}


def test_the_ci_flow_sees_a_generated_model_left_untyped(tmp_path):
    """tests/contract/run_generated_client.py's check of the generated models: an ``Any`` property and a
    model of nothing but ``Any`` extras are untyped; typed extras and FREE_FORM's objects are not."""
    from tests.contract.run_generated_client import untyped_models

    (tmp_path / "plan_change.py").write_text("class PlanChange:\n    id: int\n    blockers: Any | Unset = UNSET\n")
    (tmp_path / "problem_blockers_item.py").write_text(
        "class ProblemBlockersItem:\n    additional_properties: dict[str, Any] = _attrs_field(init=False)\n")
    (tmp_path / "problem_errors.py").write_text(
        "class ProblemErrors:\n    additional_properties: dict[str, list[str]] = _attrs_field(init=False)\n")
    (tmp_path / "event_data.py").write_text(
        "class EventData:\n    additional_properties: dict[str, Any] = _attrs_field(init=False)\n")
    assert untyped_models(tmp_path) == ["plan_change.blockers: Any | Unset", "problem_blockers_item: an object "
                                                                            "without fields"]
