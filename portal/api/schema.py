"""The OpenAPI schema's errors, in one place (settings: ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

Every operation of ``/api/schema/`` lists the problem+json answers it can give besides its own
successes, as a ``Problem`` (``portal.api.errors`` writes them), with an example each. Which
statuses follow from what the operation is, so an endpoint added later is covered without a
word of its own:

- every operation: 400 (a NUL in the query string or a header: ``portal.middleware``) and 429
  (throttled, with ``Retry-After``); 401 unless anyone may call it; 403 when a permission beyond
  "signed in" guards it (a tenant role, support staff) or it writes (the CSRF check of a session);
- 404: a path with an id, a paginated list (``?page=`` past the end) or a write (the services
  answer 404 for an id of the body that isn't the caller's tenant's);
- a write (POST, PUT, PATCH, DELETE): 409 (a conflict with the current state, or the
  database's own backstop) and 422 (a business rule: ``portal.errors.DomainError``), 413 (a
  body over the limit); 415 when it takes a body.

A view can add statuses the rules don't foresee with ``extend_schema(responses={...})``; a
status it names itself is left as it wrote it.

Requests say what the server takes, so that a generator (schemathesis) sends it: a field that
refuses characters its type allows names them in ``openapi_pattern`` (a UPN, a name without
control characters); any other text field that can't be blank needs a character that isn't
whitespace (DRF strips it); a request serializer whose rule spans several fields (``add`` or
``remove``; exactly one of ``days``, ``business_days`` or ``to``) states it in ``openapi_schema``
(e.g. ``{"oneOf": [...]}``), merged into its component, and its body is then required.
"""

import re
from http import HTTPStatus

from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_field
from rest_framework import permissions, serializers

from portal.api.errors import PROBLEM_CONTENT_TYPE
from portal.api.fields import NOT_BLANK_PATTERN
from portal.api.summaries import SUMMARIES
from portal.inputs import ID_MAX, ID_PATTERN

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ActionSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class BlockerSerializer(serializers.Serializer):
    """Why a plan can't change (docs/api.md "Plan-change blockers"): in ``upgrades/``, a 422 ``blocked``
    and a scheduled change's ``warnings``."""

    code = serializers.CharField()
    title = serializers.CharField()
    resolution = serializers.CharField()
    detail = serializers.CharField()
    action = ActionSerializer(allow_null=True)
    services = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="target_not_supported, service_incident: the services concerned")

    def to_representation(self, blocker):
        return blocker if isinstance(blocker, dict) else blocker.as_dict()


# A field's messages: a list of sentences (400 invalid), or for a list or a nested object the same by index
# or by its own fields; one sentence (422 invalid_card). A file's errors (422 import_invalid): a list of
# sentences, each naming its JSON path.
FIELD_ERRORS = {"oneOf": [
    {"type": "object", "additionalProperties": {"oneOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    ]}},
    {"type": "array", "items": {"type": "string"}},
]}


@extend_schema_field(FIELD_ERRORS)
class FieldErrorsField(serializers.DictField):
    pass


class ProblemSerializer(serializers.Serializer):
    """An error (RFC 9457). ``code`` is stable, ``title`` and ``detail`` are for people (translated).
    Some codes add fields of their own (docs/api.md, "Error codes"): those below."""

    type = serializers.CharField(help_text="/api/problems/<code>")
    title = serializers.CharField(help_text="the HTTP status, in the caller's language")
    status = serializers.IntegerField(help_text="the HTTP status code")
    detail = serializers.CharField(help_text="what went wrong, in the caller's language")
    code = serializers.CharField(help_text="what went wrong, for scripts: match on it")
    errors = FieldErrorsField(required=False, help_text="400 invalid, 422 invalid_card: field → messages; "
                                                        "422 import_invalid: a sentence per error, by JSON path")
    field = serializers.CharField(required=False, help_text="the request field a 422 is about")
    blockers = BlockerSerializer(many=True, required=False, help_text="422 blocked: what prevents the plan change")
    subscription = serializers.IntegerField(required=False, help_text="409 change_in_progress: the subscription "
                                                                      "a change under way holds")
    services = serializers.ListField(child=serializers.CharField(), required=False,
                                     help_text="422 backup_required: services whose data would be lost")
    users = serializers.ListField(child=serializers.CharField(), required=False,
                                  help_text="422 unknown_users, user_not_licensed: the UPNs concerned")
    needed = serializers.IntegerField(required=False, help_text="422 not_enough_licenses: licenses needed")
    available = serializers.IntegerField(required=False, help_text="422 not_enough_licenses: licenses free")
    missing = serializers.IntegerField(required=False, help_text="422 not_enough_licenses: needed - available")
    move = serializers.IntegerField(required=False, help_text="409 clock_move_failed: the clock move's id")


def _example(status: int, code: str, title: str, detail: str, **extra) -> OpenApiExample:
    return OpenApiExample(code, value={"type": f"/api/problems/{code}", "title": title, "status": status,
                                       "detail": detail, "code": code, **extra}, response_only=True,
                          status_codes=[str(status)])


# What each status means here, and an answer it can be.
PROBLEMS = {
    400: ("The request can't be read or has invalid fields (also: a NUL in the query string or a header).",
          [_example(400, "invalid", "Bad request", "The request has invalid fields.",
                    errors={"licenses": ["Ensure this value is greater than or equal to 1."]}),
           _example(400, "nul_character", "Bad request",
                    "The request contains a NUL character, which isn't allowed.")]),
    401: ("No credentials, or a token that isn't valid.",
          [_example(401, "not_authenticated", "Not authenticated", "Authentication credentials were not provided.")]),
    403: ("The caller's role can't do this, or the endpoint is for the other kind of login (tenant or support).",
          [_example(403, "permission_denied", "Permission denied", "Your admin role can't make this change.")]),
    404: ("No such object, or it belongs to another tenant (the same answer): the code names the kind "
          "(`subscription_not_found`, `plan_change_not_found`, …; docs/api.md \"Not found\"); `not_found` is a path "
          "the API doesn't have.",
          [_example(404, "subscription_not_found", "Not found", "No such subscription.")]),
    409: ("Conflicts with the current state: a change under way, a quote that no longer holds, already done.",
          [_example(409, "change_in_progress", "Conflict",
                    "A plan change involving Microsoft 365 Business Basic is under way; the subscription can't be "
                    "edited until the change finishes.", subscription=2)]),
    413: ("The body is larger than 2,621,440 bytes.",
          [_example(413, "body_too_large", "Content too large", "The request body is larger than 2621440 bytes.")]),
    415: ("The body isn't JSON (nor a form).",
          [_example(415, "unsupported_media_type", "Unsupported media type",
                    'Unsupported media type "text/plain" in request.')]),
    422: ("Readable, but refused by a business rule.",
          [_example(422, "unknown_sku", "Unprocessable request", "Unknown plan NOPE.", field="target_sku")]),
    429: ("Throttled: try again after Retry-After seconds.",
          [_example(429, "throttled", "Too many requests",
                    "Request was throttled. Expected available in 12 seconds.")]),
}


def problem_response(status: int, description: str = "", examples: list | None = None) -> OpenApiResponse:
    """The problem+json answer of ``status``: what it means here and an answer it can be, the general ones
    unless a view describes its own codes (``problem_example``)."""
    general_description, general_examples = PROBLEMS[status]
    return OpenApiResponse(response=ProblemSerializer, description=description or general_description,
                           examples=examples or general_examples)


def problem_codes(status: int, description: str, *codes: str) -> OpenApiResponse:
    """A view's own problem+json answer of ``status``: what it means there, with an example of each code."""
    return problem_response(status, description, [
        _example(status, code, HTTPStatus(status).phrase, description) for code in codes])


class AutoSchema(openapi.AutoSchema):
    def problem_statuses(self) -> set[int]:
        writes = self.method not in SAFE_METHODS
        checks = self.view.get_permissions()
        statuses = {400, 429}
        if not all(isinstance(check, permissions.AllowAny) for check in checks):
            statuses.add(401)
        if writes or any(type(check) not in (permissions.IsAuthenticated, permissions.AllowAny) for check in checks):
            statuses.add(403)
        if writes or "{" in self.path or (self._is_list_view() and self._get_paginator()):
            statuses.add(404)
        if writes:
            statuses |= {409, 413, 422}
            if self.get_request_serializer() is not None:
                statuses.add(415)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status, response in responses.items():
            # A view's own error response (its codes described) is problem+json like every other error.
            content = response.get("content", {}) if status.isdigit() and int(status) >= 400 else {}
            if "application/json" in content and PROBLEM_CONTENT_TYPE not in content:
                content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        for status in sorted(self.problem_statuses()):
            responses.setdefault(str(status), self._get_response_for_code(
                problem_response(status), str(status), [PROBLEM_CONTENT_TYPE], direction))
        return responses

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response":
            # An answer has every field its serializer has (DRF renders them all), but those declared
            # ``required=False`` (a problem's fields of some codes, a blocker's ``services``).
            optional = {name for name, field in serializer.fields.items()
                        if name in serializer._declared_fields and not field.required and not field.read_only}
            required = [name for name in schema.get("properties", {}) if name not in optional]
            if required:
                schema["required"] = required
        extra = getattr(serializer, "openapi_schema", None)
        if extra and direction == "request":
            schema.update(extra)
        return schema

    def _get_request_body(self, direction="request"):
        # A body whose rule names its fields (``openapi_schema``) can't be left out, even from a PATCH.
        body = super()._get_request_body(direction)
        if body and getattr(force_instance(self.get_request_serializer()), "openapi_schema", None):
            body["required"] = True
        return body

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # A field that refuses characters or spellings its type allows says which (``openapi_pattern``).
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        pattern = getattr(field, "openapi_pattern", None)
        if (pattern is None and isinstance(field, serializers.CharField) and type(field) is not serializers.RegexField
                and field.trim_whitespace and not field.allow_blank):
            pattern = NOT_BLANK_PATTERN  # "   " is stripped to "", which the field refuses
        if pattern and direction == "request" and schema is not None and schema.get("type") == "string":
            schema.setdefault("pattern", pattern)
        # A length the service checks (the field passes on what it got) is still the schema's to say.
        max_length = getattr(field, "openapi_max_length", None)
        if max_length and direction == "request" and schema is not None and schema.get("type") == "string":
            schema.setdefault("maxLength", max_length)
        return schema

    def get_summary(self):
        return super().get_summary() or SUMMARIES.get(self.get_operation_id())

    def _resolve_path_parameters(self, variables):
        # An id in a path is a number (the router's ``ID_PATTERN``, ``<id:…>``): a generated client takes an int.
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"] in ({"type": "string", "pattern": f"^{ID_PATTERN}$"}, {"type": "string",
                                                                                         "pattern": ID_PATTERN}):
                parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": ID_MAX}
        return parameters

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers.setdefault("Retry-After", {
                "schema": {"type": "integer", "minimum": 0}, "required": True,
                "description": "seconds until a request may succeed again"})
        return headers


NULL = {"type": "object", "nullable": True, "enum": [None]}  # null, and nothing else


def _valid_default(schema: dict) -> bool:
    default = schema["default"]
    if not isinstance(default, str):
        return True
    pattern = schema.get("pattern")
    return len(default) >= schema.get("minLength", 0) and (pattern is None or re.search(pattern, default))


def _typed_nullables(node, components: dict) -> None:
    """``nullable`` beside a ``type`` (OpenAPI 3.0 ignores one without: Redocly's nullable-type-sibling), and
    no ``default`` its own schema refuses (a blank name's ``""`` that the pattern doesn't take)."""
    if isinstance(node, list):
        for item in node:
            _typed_nullables(item, components)
        return
    if not isinstance(node, dict):
        return
    if node.get("nullable") and "type" not in node and len(node.get("allOf", [])) == 1:
        # An object or null: OpenAPI 3.0's way that linters and generators both read (a generator drops
        # the null of ``allOf`` + ``nullable`` + ``type``; a linter refuses ``nullable`` without ``type``).
        del node["nullable"]
        node["oneOf"] = [node.pop("allOf")[0], NULL]
    if "default" in node and not _valid_default(node):
        del node["default"]
    for key, value in node.items():
        if key not in ("example", "examples", "default", "enum"):
            _typed_nullables(value, components)


def _bodies_with_required_fields_required(result) -> None:
    """A request body given as a schema of its own (not a serializer: the tenant import's export) is required when
    that schema requires fields, as drf-spectacular already does for serializers: an empty POST isn't valid."""
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body and "required" not in body and any(
                    media.get("schema", {}).get("required") for media in body.get("content", {}).values()):
                body["required"] = True


def postprocess_schema(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: the whole schema's last touches (``_typed_nullables``,
    ``_bodies_with_required_fields_required``)."""
    _typed_nullables(result, result.get("components", {}).get("schemas", {}))
    _bodies_with_required_fields_required(result)
    return result
