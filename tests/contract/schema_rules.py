"""What a client generator and a linter need of /api/schema/, checked without either: ``problems(schema)``
lists every breach, one sentence each (empty when the schema keeps every rule).

The rules are Redocly's recommended ones that need no Node.js (an operation has a ``summary``; ``nullable``
stands beside a ``type``; every example and default is valid against its schema), and the typing rules a
generated client needs (openapi-python-client makes an untyped dict of an object without properties, and
``Any`` of a schema without a type): every property, array item and parameter has a type or a ``$ref``; an
object has properties or typed ``additionalProperties``; a path's ``{id}`` is an integer.
"""

from openapi_schema_validator import OAS30Validator

METHODS = ("get", "post", "put", "patch", "delete")
# The objects whose shape varies by design, each a JSON object of its own kind's fields (docs/api.md):
# an audit event's data (per verb) and a webhook delivery's data (per event type).
FREE_FORM = {"Event.data", "DeliveryPayload.data", "SupportEvent.data"}
COMBINERS = ("$ref", "allOf", "oneOf", "anyOf")


def _typed(schema: dict) -> bool:
    return any(key in schema for key in ("type", "enum", *COMBINERS))


def _object_untyped(schema: dict, where: str) -> list[str]:
    extra = schema.get("additionalProperties")
    if where in FREE_FORM and extra in ({}, True):
        return []
    found = []
    if not schema.get("properties") and not (isinstance(extra, dict) and _typed(extra)):
        found.append(f"{where}: an object without properties (a free-form dict)")
    for name, prop in schema.get("properties", {}).items():
        found += _untyped(prop, f"{where}.{name}")
    if isinstance(extra, dict):
        found += _untyped(extra, f"{where}.*")
    return found


def _untyped(schema: dict, where: str) -> list[str]:
    """Each place under ``schema`` a generator can't type."""
    if not isinstance(schema, dict):
        return []
    if not _typed(schema):
        return [f"{where}: no type"]
    if schema.get("enum") == [None]:  # null (the other branch of an object or null)
        return []
    found = []
    for key in ("allOf", "oneOf", "anyOf"):
        for n, part in enumerate(schema.get(key, [])):
            if _typed(part):  # a branch that only names required fields (a rule across fields) is no type
                found += _untyped(part, f"{where}.{key}[{n}]")
    if schema.get("type") == "object" and not any(key in schema for key in COMBINERS):
        found += _object_untyped(schema, where)
    if schema.get("type") == "array":
        found += _untyped(schema.get("items", {}), f"{where}[]")
    return found


def _nullable_without_type(schema, where: str) -> list[str]:
    found = []
    if isinstance(schema, dict):
        if schema.get("nullable") and "type" not in schema:
            found.append(f"{where}: nullable without a type")
        for key, value in schema.items():
            if key in ("example", "examples", "default", "enum"):
                continue
            found += _nullable_without_type(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for n, value in enumerate(schema):
            found += _nullable_without_type(value, f"{where}[{n}]")
    return found


def _closed(schema):
    """The schema with no room for undeclared fields (as Redocly checks examples): an object with
    properties and no word on others takes no others."""
    if isinstance(schema, list):
        return [_closed(value) for value in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: value if key in ("example", "default", "enum") else _closed(value) for key, value in schema.items()}
    if closed.get("properties") and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


class _Examples:
    """Checks values against the schemas they illustrate, ``$ref`` resolved within the document."""

    def __init__(self, document: dict):
        self.components = _closed(document.get("components", {}))

    def errors(self, schema: dict, value, where: str) -> list[str]:
        # The schema as the root of a document that holds the components, so "#/components/…" resolves.
        validator = OAS30Validator({**_closed(schema), "components": self.components},
                                   format_checker=OAS30Validator.FORMAT_CHECKER)
        return [f"{where}: {error.message[:160]}" for error in validator.iter_errors(value)]

    def in_schemas(self, schema, where: str) -> list[str]:
        """Each ``default`` and ``example`` inside a schema against the schema it stands in."""
        found = []
        if isinstance(schema, dict):
            for key in ("default", "example"):
                if key in schema:
                    found += self.errors(schema, schema[key], f"{where}.{key}")
            for key, value in schema.items():
                if key not in ("default", "example", "enum"):
                    found += self.in_schemas(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for n, value in enumerate(schema):
                found += self.in_schemas(value, f"{where}[{n}]")
        return found


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _operation_problems(path: str, method: str, operation: dict, examples: _Examples) -> list[str]:
    name = f"{method.upper()} {path}"
    found = [] if operation.get("summary") else [f"{name}: no summary"]
    for parameter in operation.get("parameters", []):
        found += _untyped(parameter.get("schema", {}), f"{name} parameter {parameter['name']}")
        if parameter["in"] == "path" and parameter["schema"].get("type") != "string" and "{id}" in path \
                and parameter["name"] == "id" and parameter["schema"].get("type") != "integer":
            found.append(f"{name}: the path's id isn't an integer")
        if parameter["in"] == "path" and parameter["name"] == "id" and parameter["schema"].get("type") != "integer":
            found.append(f"{name}: the path's id is a {parameter['schema'].get('type')}, not an integer")
    bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
    bodies += [(status, response.get("content", {})) for status, response in operation.get("responses", {}).items()]
    for status, content in bodies:
        for media, body in content.items():
            where = f"{name} {status} {media}"
            schema = body.get("schema")
            if schema is None:
                found.append(f"{where}: no schema")
                continue
            found += _untyped(schema, where)
            for label, example in body.get("examples", {}).items():
                if "value" in example:
                    found += examples.errors(schema, example["value"], f"{where} example {label}")
    return found


def problems(schema: dict) -> list[str]:
    """Every breach of the rules above, in a stable order."""
    examples = _Examples(schema)
    found = []
    for path, method, operation in _operations(schema):
        found += _operation_problems(path, method, operation, examples)
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        found += _untyped(component, name)
    found += _nullable_without_type(schema, "#")
    found += examples.in_schemas(schema.get("components", {}), "#/components")
    return found
