"""The OData query options the Graph endpoints take (docs/graph.md "Query parameters"), parsed once and
refused in Graph's words: ``$select``, ``$top`` (1–999), ``$count``, ``$skiptoken`` (the nextLink's), and on
users ``$filter`` with ``userPrincipalName eq '…'`` or ``assignedLicenses/any(x:x/skuId eq <GUID>)``, the
second an advanced query (``ConsistencyLevel: eventual`` and ``$count=true``, as Graph requires). Any other
``$`` option is refused, never ignored: a script that relies on it would get another answer from Graph."""

import base64
import re
import uuid
from dataclasses import dataclass, field

from graph.errors import BAD_REQUEST, UNSUPPORTED_QUERY, GraphError
from graph.ids import parse_uuid

TOP_MAX = 999
_UPN_EQ = re.compile(r"^\s*userPrincipalName\s+eq\s+'((?:[^']|'')*)'\s*$", re.I)
_SKU_ANY = re.compile(
    r"^\s*assignedLicenses/any\(\s*(\w+)\s*:\s*(\w+)/skuId\s+eq\s+([0-9a-fA-F-]{36})\s*\)\s*$", re.I)
_PROPERTY = re.compile(r"^\s*(?:not\s*\(?\s*)?([A-Za-z]+)")


@dataclass
class Query:
    select: list[str] = field(default_factory=list)  # canonical property names, in the order asked
    top: int | None = None
    count: bool = False
    upn: str | None = None  # $filter=userPrincipalName eq '…'
    sku_id: uuid.UUID | None = None  # $filter=assignedLicenses/any(x:x/skuId eq …)
    after: int = 0  # $skiptoken: the last id of the page before
    params: dict = field(default_factory=dict)  # the options as sent, for the nextLink


def _flag(value: str, name: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise GraphError(400, BAD_REQUEST, f"Invalid value '{value}' for query option '{name}': true or false.")
    return value.lower() == "true"


def _top(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= TOP_MAX:
        raise GraphError(400, BAD_REQUEST, f"Invalid page size specified: '{value}'. Must be between 1 and {TOP_MAX} "
                                           "inclusive.")
    return int(value)


def _select(value: str, properties: dict[str, str], type_name: str) -> list[str]:
    chosen = []
    for name in (part.strip() for part in value.split(",")):
        canonical = properties.get(name.lower())
        if canonical is None:
            raise GraphError(400, BAD_REQUEST, f"Could not find a property named '{name}' on type "
                                               f"'microsoft.graph.{type_name}'.")
        if canonical not in chosen:
            chosen.append(canonical)
    return chosen


def skiptoken(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def _after(value: str) -> int:
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except ValueError:
        text = ""
    if not re.fullmatch(r"after:[0-9]{1,15}", text):
        raise GraphError(400, BAD_REQUEST, "The specified page token value has expired or is invalid.")
    return int(text.split(":")[1])


def _filter(query: Query, value: str, *, eventual: bool) -> None:
    if m := _UPN_EQ.match(value):
        query.upn = m.group(1).replace("''", "'").lower()
        return
    if m := _SKU_ANY.match(value):
        sku_id = parse_uuid(m.group(3))
        if m.group(1).lower() != m.group(2).lower() or sku_id is None:
            raise GraphError(400, "BadRequest", f"Invalid filter clause: '{value}'.")
        if not (eventual and query.count):
            raise GraphError(400, UNSUPPORTED_QUERY, "Unsupported or invalid query filter clause specified for "
                                                     "property 'assignedLicenses' of resource 'User'.")
        query.sku_id = sku_id
        return
    name = m.group(1) if (m := _PROPERTY.match(value)) else value.strip()
    raise GraphError(400, UNSUPPORTED_QUERY, f"Unsupported or invalid query filter clause specified for property "
                                             f"'{name}' of resource 'User'.")


def parse(request, *, properties: dict[str, str], type_name: str, allowed=("$select",)) -> Query:
    """The request's query options (``allowed``: the ``$`` options this endpoint takes); ``properties``:
    lower-cased name → canonical name of what ``$select`` may name."""
    query = Query()
    eventual = request.headers.get("ConsistencyLevel", "").strip().lower() == "eventual"
    for name, values in request.query_params.lists():
        if not name.startswith("$"):
            continue
        key = name.lower()
        if key not in allowed:
            raise GraphError(400, BAD_REQUEST, f"Query option '{name}' is not supported here (docs/graph.md).")
        if len(values) > 1 or key in query.params:  # OData's rule: never one of them taken
            raise GraphError(400, BAD_REQUEST, f"Query option '{key}' was specified more than once, but it must be "
                                               "specified at most once.")
        query.params[key] = values[0]
    if "$count" in query.params:
        query.count = _flag(query.params["$count"], "$count")
        if query.count and not eventual:
            raise GraphError(400, BAD_REQUEST, "$count is not currently supported.")
    if "$select" in query.params:
        query.select = _select(query.params["$select"], properties, type_name)
    if "$top" in query.params:
        query.top = _top(query.params["$top"])
    if "$skiptoken" in query.params:
        query.after = _after(query.params["$skiptoken"])
    if "$filter" in query.params:
        _filter(query, query.params["$filter"], eventual=eventual)
    return query
