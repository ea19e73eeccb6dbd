"""``tenant_import``: a tenant made from a Graph export in one transaction, or nothing at all. The file is
read and checked whole (``export_file``), turned into a scenario tenant (``convert``) and loaded by the
scenario loader, so each app writes its own rows; the admin login made for it gets a password and an API
token, answered once and kept only as their hashes. A tenant of the same domain is refused unless
``replace``, which forgets the old one (each app its own rows) in the same transaction."""

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Product
from billing.scenario import billing_unload
from billing.services import subscriptions_lock_all
from licensing.scenario import directory_unload
from licensing.selectors import upns_taken
from planchange.models import PlanChange
from planchange.scenario import plan_changes_unload
from portal.models import Tenant
from portal.scenario import tenant_unload
from portal.services import api_token_replace, event_record
from simulation.imports.convert import Choices, Converted, export_convert
from simulation.imports.export_file import DOMAIN, ExportRefused, errors_shown, export_read
from simulation.scenarios.loader import ScenarioError, scenario_load
from simulation.verbs import TENANT_IMPORTED

SOURCE = "Microsoft Graph export"


@dataclass
class ImportResult:
    tenant: Tenant
    users: int
    admin: str
    password: str  # shown once: only its hash is kept
    token: str  # shown once: only its digest is kept
    replaced: bool = False
    lines: list[str] = field(default_factory=list)
    unknown_skus: list[dict] = field(default_factory=list)
    unknown_plans: list[dict] = field(default_factory=list)
    assumed: list[tuple[str, str]] = field(default_factory=list)


def _nothing(stage: str, done: int, total: int) -> None:
    return None


def _tenant_forget(tenant: Tenant) -> None:
    plan_changes_unload(tenant)
    directory_unload(tenant)
    billing_unload(tenant)
    tenant_unload(tenant)


def _replace_allowed(tenant: Tenant) -> None:
    """A tenant is never swapped under a plan change a worker may be running: its subscriptions are locked (the
    lock order: subscriptions, then changes), then its changes asked. A change only scheduled goes with it."""
    subscriptions_lock_all(tenant=tenant)
    if PlanChange.objects.filter(tenant=tenant, status__in=(PlanChange.Status.QUEUED,
                                                            PlanChange.Status.RUNNING)).exists():
        raise ExportRefused("change_in_progress", _(
            "%(name)s (%(domain)s) has a plan change under way; replace it when the change has finished.") % {
            "name": tenant.name, "domain": tenant.domain}, status=409)


def _refusals(converted: Converted) -> list[str]:
    """What the portal itself doesn't allow of the file (the scenario loader would refuse it too, in its own
    words, by the scenario's paths): named by where the file says it, in the reader's language."""
    errors = []
    scenario = converted.scenario
    products = {p.sku: p for p in Product.objects.filter(sku__in={s["sku"] for s in scenario["subscriptions"]})}
    for sub in scenario["subscriptions"]:
        product = products[sub["sku"]]
        if product.max_licenses is not None and sub["licenses"] > product.max_licenses:
            errors.append(_("%(path)s: %(product)s allows at most %(max)d licenses") % {
                "path": converted.count_paths[sub["key"]], "product": product.name, "max": product.max_licenses})
    users = scenario["users"]
    taken = upns_taken([u["upn"] for u in users])
    for path, user in zip(converted.user_paths, users, strict=True):
        if user["upn"] in taken:
            errors.append(_("%(path)s: %(upn)s is a user of another organization in the portal") % {
                "path": f"{path}.userPrincipalName", "upn": user["upn"]})
    if not re.fullmatch(rf"[^@\s<>\"']{{1,64}}@{DOMAIN}", converted.admin) or len(converted.admin) > 150:
        errors.append(_("admin: %(username)s is not a login in the form name@domain") % {
            "username": converted.admin})
    elif get_user_model().objects.filter(username__iexact=converted.admin).exists():  # as user names compare
        errors.append(_("admin: a login named %(username)s is in the portal already; choose another") % {
            "username": converted.admin})
    return errors


def tenant_import(*, raw: bytes, choices: Choices, actor: str, replace: bool = False,
                  progress=_nothing) -> ImportResult:
    """Import the export in ``raw`` for ``actor`` (the support login, or the command), who is named on the new
    tenant's audit event ``tenant.imported``; ``progress(stage, done, total)`` hears how far it is (stages
    ``read``, ``users``, ``done``). Refusals are ``ExportRefused`` and write nothing."""
    progress("read", 0, 1)
    export = export_read(raw)
    progress("read", 1, 1)
    converted = export_convert(export, choices)
    total = len(converted.scenario["users"])
    progress("users", 0, total)
    with transaction.atomic():
        existing = Tenant.objects.select_for_update().filter(domain=converted.domain).first()
        if existing is not None and not replace:
            raise ExportRefused("tenant_already_imported", _(
                "%(name)s (%(domain)s) is in the portal already. Import it again with --replace (the upload "
                "page's \"Replace it\") to swap it whole.") % {"name": existing.name, "domain": existing.domain},
                status=409)
        replaced = existing.pk if existing is not None else None
        if existing is not None:
            _replace_allowed(existing)
            _tenant_forget(existing)
        refusals = _refusals(converted)
        if refusals:
            raise ExportRefused("import_invalid", _("The tenant can't be made as the file says; nothing was "
                                                    "imported."), errors=errors_shown(refusals))
        source = f"{SOURCE}, anonymized" if choices.anonymize else SOURCE
        try:
            report = scenario_load({"tenants": [converted.scenario]}, source=source,
                                   progress=lambda done: progress("users", done, total))
        except ScenarioError as exc:
            raise ExportRefused("import_invalid", _("The tenant can't be made as the file says; nothing was "
                                                    "imported."), errors=errors_shown(exc.errors)) from None
        tenant = report.tenants[0]
        event_record(tenant=tenant, actor=actor, verb=TENANT_IMPORTED, obj=tenant, data={
            "users": total, "anonymized": choices.anonymize, "replaced": replaced is not None,
            **({"replaced_tenant": replaced} if replaced is not None else {})})
        token = api_token_replace(username=converted.admin, name="import")
    progress("done", total, total)
    return ImportResult(tenant=report.tenants[0], users=total, admin=converted.admin, password=converted.password,
                        token=token, replaced=existing is not None, lines=report.lines,
                        unknown_skus=converted.unknown_skus, unknown_plans=converted.unknown_plans,
                        assumed=converted.assumed)
