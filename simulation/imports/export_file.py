"""A Graph export as the import reads it: the bytes checked for size, JSON, the export's shape (each error named
by its JSON path, ``$.users[0].value[3].assignedLicenses[0].skuId``) and what must hold across it (every
licensed SKU listed, each user principal name once). Every refusal is an ``ExportRefused`` in the reader's
language; nothing is written before the file has passed all of them."""

import json
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from jsonschema import Draft202012Validator, validators

from billing.money import number_text
from portal.api.parsers import json_message, unstorable_string
from portal.errors import DomainError
from simulation.scenarios import schema as scenario_schema

GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
PARTS = ("organization", "subscribedSkus", "users")
ERRORS_SHOWN = 20


def max_bytes() -> int:
    return settings.PORTAL_IMPORT_MAX_BYTES


def max_users() -> int:
    return settings.PORTAL_IMPORT_MAX_USERS


class ExportRefused(DomainError):
    """A file the import refuses: ``code`` (``import_not_json``, ``import_not_graph_export``,
    ``import_invalid``, ``import_too_large``, ``import_too_many_users``, ``tenant_already_imported``,
    ``change_in_progress``), a
    sentence, and the errors by JSON path (the API answers them as ``errors``)."""

    def __init__(self, code: str, detail: str, *, errors: list[str] = (), status: int = 422):
        super().__init__(detail, code=code, status=status, errors=list(errors))
        self.errors = list(errors)

    def field_errors(self) -> dict:
        return {"file": str(self.detail)}


def _size(count: int) -> str:
    return f"{count / 1_000_000:.0f} MB" if count >= 10_000_000 else f"{count / 1_000_000:.1f} MB" \
        if count >= 100_000 else f"{count / 1000:.0f} kB"


def _obj(properties: dict, required=()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required)}


def _list(items: dict) -> dict:
    return {"type": "array", "items": items}


# A domain name as the portal keeps it (the scenario loader's form), in any case: the import lowercases it.
DOMAIN = scenario_schema.DOMAIN.strip("^$").replace("a-z", "A-Za-z")
_GUID = {"type": "string", "pattern": GUID}
_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": ["string", "null"]}
_NAME = {"type": ["string", "null"], "maxLength": 200}  # what the portal keeps of a name, never cut silently
_COUNTRY = {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"}  # ISO 3166-1 alpha-2, as Graph answers it
_MOMENT = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}(T|$)"}  # checked as a date below
_COUNT = {"type": "integer", "minimum": 0}
_USER = _obj({
    "id": _TEXT, "userPrincipalName": {"type": "string", "pattern": rf"^[^@\s]+@{DOMAIN}$"},
    "displayName": _NAME, "usageLocation": _COUNTRY, "accountEnabled": {"type": ["boolean", "null"]},
    "assignedLicenses": _list(_obj({"skuId": _GUID, "disabledPlans": _list(_GUID)}, ["skuId", "disabledPlans"])),
}, ["userPrincipalName", "assignedLicenses"])
_PAGE = _obj({"value": _list(_USER)}, ["value"])
SCHEMA = _obj({
    "organization": _obj({"value": {**_list(_obj({
        "id": _TEXT, "displayName": {"type": "string", "minLength": 1, "maxLength": 200},
        "verifiedDomains": {**_list(_obj({"name": {"type": "string", "pattern": f"^{DOMAIN}$"},
                                          "isDefault": {"type": ["boolean", "null"]}}, ["name"])),
                            "minItems": 1},
    }, ["displayName", "verifiedDomains"])), "minItems": 1}}, ["value"]),
    "subscribedSkus": _obj({"value": _list(_obj({
        "skuId": _GUID, "skuPartNumber": _TEXT, "consumedUnits": _COUNT, "capabilityStatus": _NULLABLE_TEXT,
        "prepaidUnits": _obj({name: _COUNT for name in ("enabled", "suspended", "warning", "lockedOut")}),
        "servicePlans": _list(_obj({"servicePlanId": _GUID, "servicePlanName": _TEXT},
                                   ["servicePlanId", "servicePlanName"])),
    }, ["skuId", "skuPartNumber", "prepaidUnits", "servicePlans"]))}, ["value"]),
    "directory/subscriptions": _obj({"value": _list(_obj({
        "id": {"type": "string", "minLength": 1, "maxLength": 64}, "skuId": _GUID,
        "status": {"enum": ["Enabled", "Warning", "Suspended", "LockedOut", "Deleted"]},
        "totalLicenses": _COUNT, "isTrial": {"type": ["boolean", "null"]},
        "createdDateTime": _MOMENT, "nextLifecycleDateTime": _MOMENT,
    }, ["id", "skuId", "status", "totalLicenses"]))}, ["value"]),
    # Every page as Graph answered it (the export's form), or one answer with every user in its value.
    "users": {"if": {"type": "array"}, "then": _list(_PAGE), "else": _PAGE},
}, PARTS)
# A whole number is an int, as Graph writes it: JSON Schema's integer would take 12.0 too, a float that billing's
# money can't be multiplied by.
_STRICT = validators.extend(Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)))
_VALIDATOR = _STRICT(SCHEMA)
_TYPES = {"object": "an object", "array": "a list", "string": "a string", "integer": "a whole number",
          "boolean": "true or false", "null": "null"}


def json_path(parts) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if "/" not in part else f"['{part}']")
    return out


def _message(error) -> str:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return _("%(path)s: is missing (Graph always answers it)") % {"path": json_path([*path, missing])}
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return _("%(path)s: must be %(expected)s") % {
            "path": json_path(path), "expected": _(" or ").join(_(_TYPES[t]) for t in expected)}
    if error.validator == "pattern" and error.validator_value == GUID:
        return _("%(path)s: %(value)s is not a GUID") % {"path": json_path(path), "value": json.dumps(error.instance)}
    if error.validator == "enum":
        return _("%(path)s: %(value)s is not one of: %(values)s") % {
            "path": json_path(path), "value": json.dumps(error.instance), "values": ", ".join(error.validator_value)}
    if error.validator == "minItems":
        return _("%(path)s: is empty") % {"path": json_path(path)}
    return _("%(path)s: %(value)s is not in the form Graph answers") % {
        "path": json_path(path), "value": json.dumps(error.instance)[:80]}


@dataclass
class Export:
    """The parts of an export the import reads, in Graph's words, with the JSON path of each user."""

    organization: dict
    skus: list[dict]
    subscriptions: list[dict] | None  # None: the file has no directory/subscriptions (prepaidUnits say it all)
    users: list[tuple[str, dict]] = field(default_factory=list)  # (JSON path, user)


def _decode(raw: bytes):
    if len(raw) > max_bytes():
        raise ExportRefused("import_too_large", _(
            "The file is %(size)s; an import takes at most %(limit)s.") % {
            "size": _size(len(raw)), "limit": _size(max_bytes())}, status=413)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ExportRefused("import_not_json", _("The file isn't text (UTF-8): it can't be a Graph export."),
                            status=400) from None
    except RecursionError:
        raise ExportRefused("import_not_json", _("The file nests deeper than any Graph export does."),
                            status=400) from None
    except json.JSONDecodeError as exc:
        raise ExportRefused("import_not_json", _(
            "The file isn't JSON: %(error)s at line %(line)d, column %(column)d.") % {
            "error": json_message(exc), "line": exc.lineno, "column": exc.colno}, status=400) from None
    problem = unstorable_string(data)
    if problem:
        raise ExportRefused("import_not_json", _("The file can't be stored: %(error)s") % {"error": problem},
                            status=400)
    return data


def errors_shown(errors: list[str]) -> list[str]:
    """The first ``ERRORS_SHOWN`` errors, and how many more there are."""
    shown = list(errors[:ERRORS_SHOWN])
    if len(errors) > ERRORS_SHOWN:
        shown.append(_("… and %(count)d more") % {"count": len(errors) - ERRORS_SHOWN})
    return shown


def _pages(users) -> list[tuple[list, dict]]:
    return [(["users", i], page) for i, page in enumerate(users)] if isinstance(users, list) else [(["users"], users)]


def _count_users(data: dict) -> None:
    """A file with more users than an import takes is refused before anything else is read of it."""
    users = data.get("users")
    count = sum(len(page.get("value") or []) for _p, page in _pages(users) if isinstance(page, dict)) \
        if isinstance(users, list | dict) else 0
    if count > max_users():
        minutes = count / settings.PORTAL_IMPORT_USERS_PER_SECOND / 60
        minutes = max(round(minutes), 1)
        raise ExportRefused("import_too_many_users", ngettext(
            "The file has %(count)s user; an import takes at most %(limit)s.",
            "The file has %(count)s users; an import takes at most %(limit)s.", count) % {
            "count": number_text(count), "limit": number_text(max_users())} + " " + ngettext(
            "At this portal's pace (about %(rate)s users a second) it would take about %(minutes)d minute, in one "
            "transaction. Import a part of the tenant (the users of the subscriptions you will change).",
            "At this portal's pace (about %(rate)s users a second) it would take about %(minutes)d minutes, in one "
            "transaction. Import a part of the tenant (the users of the subscriptions you will change).", minutes) % {
            "rate": number_text(settings.PORTAL_IMPORT_USERS_PER_SECOND), "minutes": minutes}, status=422)


def _refuse_errors(errors: list[str]) -> None:
    if errors:
        shown = errors_shown(errors)
        raise ExportRefused("import_invalid", ngettext(
            "The export has %(count)d error; nothing was imported.",
            "The export has %(count)d errors; nothing was imported.", len(errors)) % {"count": len(errors)},
            errors=shown)


def _consistency(export: Export) -> list[str]:
    """What must hold across the file: each user once (user principal names are case-insensitive), every
    licensed SKU listed in subscribedSkus (and held once by each user), every subscription's SKU too."""
    errors, seen = [], {}
    listed = {sku["skuId"].lower() for sku in export.skus}
    for path, user in export.users:
        upn = user["userPrincipalName"].lower()
        if upn in seen:
            errors.append(_("%(path)s: %(upn)s appears twice (also at %(other)s)") % {
                "path": f"{path}.userPrincipalName", "upn": user["userPrincipalName"], "other": seen[upn]})
        else:
            seen[upn] = f"{path}.userPrincipalName"
        held: dict[str, str] = {}
        for i, lic in enumerate(user["assignedLicenses"]):
            here = f"{path}.assignedLicenses[{i}].skuId"
            if lic["skuId"].lower() not in listed:
                errors.append(_("%(path)s: the user holds SKU %(sku)s, which the file's subscribedSkus doesn't "
                                "list") % {"path": here, "sku": lic["skuId"]})
            if lic["skuId"].lower() in held:
                errors.append(_("%(path)s: the user holds SKU %(sku)s twice (also at %(other)s)") % {
                    "path": here, "sku": lic["skuId"], "other": held[lic["skuId"].lower()]})
            else:
                held[lic["skuId"].lower()] = here
    errors += _skus_once(export) + _domains_verified(export)
    for i, sub in enumerate(export.subscriptions or []):
        for name in ("createdDateTime", "nextLifecycleDateTime"):
            if sub.get(name) and _day(sub[name]) is None:
                errors.append(_("%(path)s: %(value)s is not a date") % {
                    "path": f"$['directory/subscriptions'].value[{i}].{name}", "value": json.dumps(sub[name])})
        if sub["skuId"].lower() not in listed:
            errors.append(_("%(path)s: SKU %(sku)s isn't listed in the file's subscribedSkus") % {
                "path": f"$['directory/subscriptions'].value[{i}].skuId", "sku": sub["skuId"]})
    return errors


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _skus_once(export: Export) -> list[str]:
    errors, seen = [], {}
    for j, sku in enumerate(export.skus):
        here = f"$.subscribedSkus.value[{j}].skuId"
        if sku["skuId"].lower() in seen:
            errors.append(_("%(path)s: SKU %(sku)s is listed twice (also at %(other)s)") % {
                "path": here, "sku": sku["skuId"], "other": seen[sku["skuId"].lower()]})
        else:
            seen[sku["skuId"].lower()] = here
    return errors


def _domains_verified(export: Export) -> list[str]:
    """Every user is in one of the organization's verified domains: a user principal name is unique across the
    portal, so a user in another domain would take that name from whoever owns it."""
    verified = {d["name"].lower() for d in export.organization["verifiedDomains"]}
    return [_("%(path)s: %(upn)s is in none of the organization's verified domains (%(domains)s)") % {
        "path": f"{path}.userPrincipalName", "upn": user["userPrincipalName"], "domains": ", ".join(sorted(verified))}
        for path, user in export.users if user["userPrincipalName"].rpartition("@")[2].lower() not in verified]


def export_read(raw: bytes) -> Export:
    """The export in ``raw``, checked whole, or ``ExportRefused``."""
    data = _decode(raw)
    if not isinstance(data, dict) or not any(part in data for part in PARTS):
        raise ExportRefused("import_not_graph_export", _(
            "This isn't an export of Microsoft Graph: it has none of organization, subscribedSkus and users. "
            "examples/export_tenant.py writes one."), status=400)
    _count_users(data)
    _refuse_errors(sorted({_message(e) for e in _VALIDATOR.iter_errors(data)}))
    users = [(f"{json_path(p)}.value[{i}]", user) for p, page in _pages(data["users"])
             for i, user in enumerate(page["value"])]
    export = Export(organization=data["organization"]["value"][0], skus=data["subscribedSkus"]["value"],
                    subscriptions=data["directory/subscriptions"]["value"] if "directory/subscriptions" in data
                    else None, users=users)
    _refuse_errors(_consistency(export))
    return export
