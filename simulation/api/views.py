"""The simulation's API: support staff's clock (``/api/v1/support/clock/``) and its moves
(``/api/v1/support/clock/moves/``), and importing a tenant from a Graph export
(``/api/v1/support/tenants/import/``)."""

import re

from django.conf import settings
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from portal import clock
from portal.api.mixins import IsSupportStaff, NamedMissing
from portal.errors import Conflict, Missing
from portal.inputs import ID_PATTERN
from simulation.api.serializers import (
    ClockMoveDetailSerializer,
    ClockMovedSerializer,
    ClockMoveSerializer,
    ClockSerializer,
    TenantImportedSerializer,
    TenantImportSerializer,
)
from simulation.days import changes_started
from simulation.imports.convert import Choices
from simulation.imports.service import ImportResult, tenant_import
from simulation.models import ClockMove
from simulation.moves import move_await, move_failed_text, move_request, move_result

# How long a request waits for its move by default (and at most): within the deployed gunicorn's timeout.
MOVE_WAIT_MAX = 240


# RFC 7240's preferences: a token, optionally ``=value`` (quoted or not), then ``;parameters`` ignored.
_PREFERENCE = re.compile(r'^\s*([a-z-]+)\s*(?:=\s*"?([0-9]{1,12})"?)?\s*(?:;.*)?$', re.ASCII | re.IGNORECASE)


def _wait(prefer: str) -> float:
    """Seconds to wait, from RFC 7240's ``Prefer`` header: ``respond-async`` none, ``wait=N`` N (ASCII digits;
    at most MOVE_WAIT_MAX); anything else is a preference the portal doesn't have, ignored."""
    wait = MOVE_WAIT_MAX
    for preference in prefer.split(","):
        found = _PREFERENCE.match(preference)
        if found is None:
            continue
        name, value = found.group(1).lower(), found.group(2)
        if name == "respond-async":
            return 0
        if name == "wait" and value is not None:
            wait = min(int(value), MOVE_WAIT_MAX)
    return wait


class SupportClockView(GenericAPIView):
    """The simulation clock (support staff): GET it, POST to move it forward; the sweep runs at once."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = ClockSerializer

    @extend_schema(responses=inline_serializer("Clock", {"now": drf_serializers.DateTimeField(),
                                                         "today": drf_serializers.DateField()}))
    def get(self, request):
        return Response({"now": clock.now(), "today": clock.today()})

    @extend_schema(
        request=ClockSerializer,
        parameters=[OpenApiParameter("Prefer", str, OpenApiParameter.HEADER, required=False, description=(
            "`respond-async`: answer 202 at once with the move to follow; `wait=N`: wait up to N seconds "
            f"(at most {MOVE_WAIT_MAX}) instead of {MOVE_WAIT_MAX}"))],
        responses={200: ClockMovedSerializer, 202: ClockMoveSerializer},
    )
    def post(self, request):
        """Move the clock forward, applying every day on the way in order (renewals, invoices, lifecycle
        moves, scheduled changes, credit checks, provisioning); ``dry_run`` lists them and moves nothing.
        The move runs on a worker; the request waits for it (``Prefer`` says how long) and answers what
        happened, or 202 with the move to follow (GET ``support/clock/moves/{id}/``)."""
        data = ClockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wait = _wait(request.headers.get("Prefer", ""))
        move = move_request(actor=request.user.get_username(), **data.validated_data)
        if wait:
            move = move_await(move.pk, wait=wait, claim_wait=settings.CLOCK_MOVE_CLAIM_WAIT)
        if move.status == move.Status.FAILED:
            raise Conflict(move_failed_text(move), code="clock_move_failed", move=move.pk)
        if move.status != move.Status.DONE:
            followed = ClockMoveSerializer(move).data
            return Response(followed, status=202,
                            headers={"Location": followed["url"], "Preference-Applied": "respond-async"})
        moved = move_result(move)
        return Response({"now": clock.now(), "today": clock.today(), **moved, "move": move.pk,
                         "sweep": {"scheduled_started": changes_started(moved["events"])}})


CLOCK_MOVE_MISSING = Missing("clock_move_not_found", gettext_lazy("No such move of the clock."))


class SupportClockMoveViewSet(NamedMissing, viewsets.ReadOnlyModelViewSet):
    """Moves of the clock, the newest first: each one's progress as it goes and, once done, what happened."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    queryset = ClockMove.objects.all()
    lookup_value_regex = ID_PATTERN
    missing = CLOCK_MOVE_MISSING

    def get_serializer_class(self):
        return ClockMoveDetailSerializer if self.action == "retrieve" else ClockMoveSerializer


def import_choices(data: dict) -> Choices:
    """What Graph doesn't say, from a checked upload (the API's and the support console's)."""
    return Choices(agreement=data["agreement"], kind=data["kind"], term=data["term"],
                   billing_frequency=data["billing_frequency"], payment=data["payment"], admin=data["admin"],
                   anonymize=data["anonymize"])


def imported_body(result: ImportResult) -> dict:
    t = result.tenant
    return {"tenant": {"id": t.pk, "name": t.name, "domain": t.domain, "agreement": t.agreement, "kind": t.kind},
            "users": result.users, "replaced": result.replaced,
            "admin": {"username": result.admin, "password": result.password, "api_token": result.token},
            "unknown_skus": result.unknown_skus, "unknown_plans": result.unknown_plans,
            "assumed": [{"what": what, "value": value} for what, value in result.assumed]}


def _graph_list(item_properties: dict) -> dict:
    """A Graph collection as the export keeps it: ``value``, a list of Graph's objects (more fields than named)."""
    return {"type": "object", "required": ["value"], "properties": {"value": {"type": "array", "items": {
        "type": "object", "additionalProperties": True, "properties": item_properties}}}}


_TEXT, _ID = {"type": "string"}, {"type": "string", "format": "uuid"}
# The export's shape as clients see it (docs/import.md); the import checks it whole (simulation.imports.export_file).
GRAPH_EXPORT_SCHEMA = {
    "type": "object", "required": ["organization", "subscribedSkus", "users"],
    "properties": {
        "@export": {"type": "object", "properties": {"format": _TEXT, "version": {"type": "integer"}}},
        "organization": _graph_list({"id": _ID, "displayName": _TEXT, "verifiedDomains": {"type": "array", "items": {
            "type": "object", "properties": {"name": _TEXT, "isDefault": {"type": "boolean"}}}}}),
        "subscribedSkus": _graph_list({"skuId": _ID, "skuPartNumber": _TEXT, "prepaidUnits": {
            "type": "object", "additionalProperties": {"type": "integer"}}, "servicePlans": {"type": "array", "items": {
                "type": "object", "properties": {"servicePlanId": _ID, "servicePlanName": _TEXT}}}}),
        "directory/subscriptions": _graph_list({"id": _ID, "skuId": _ID, "status": _TEXT,
                                                "totalLicenses": {"type": "integer"}}),
        "users": _graph_list({"id": _ID, "userPrincipalName": _TEXT, "displayName": _TEXT, "usageLocation": _TEXT,
                              "assignedLicenses": {"type": "array", "items": {"type": "object", "properties": {
                                  "skuId": _ID, "disabledPlans": {"type": "array", "items": _ID}}}}}),
    },
}


class ExportBodyParser(BaseParser):
    """The body as it came: an export is read by the import itself (its own size limit, its own checks)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read() if stream is not None else b""


class SupportTenantImportView(GenericAPIView):
    """Make a tenant from a Microsoft Graph export (docs/import.md), in one transaction: the body is the export
    (examples/export_tenant.py's file), the query parameters what Graph doesn't say. 201 with the tenant, what
    was left out and assumed, and its admin login's password and API token (shown only here). A bad file is a
    4xx problem (``import_not_json``, ``import_not_graph_export``, ``import_invalid`` with ``errors`` by JSON
    path, ``import_too_large``, ``import_too_many_users``); the same tenant again is 409
    ``tenant_already_imported`` unless ``replace=true``. Nothing is written on a refusal."""

    permission_classes = [IsAuthenticated, IsSupportStaff]
    serializer_class = TenantImportSerializer
    parser_classes = [ExportBodyParser]

    @extend_schema(summary="Import a tenant from a Microsoft Graph export", parameters=[TenantImportSerializer],
                   request={"application/json": GRAPH_EXPORT_SCHEMA}, responses={201: TenantImportedSerializer})
    def post(self, request):
        options = TenantImportSerializer(data=request.query_params)
        options.is_valid(raise_exception=True)
        raw = request.data if isinstance(request.data, bytes) else b""  # no JSON body at all: the import's "not JSON"
        result = tenant_import(raw=raw, choices=import_choices(options.validated_data),
                               actor=request.user.get_username(), replace=options.validated_data["replace"])
        return Response(TenantImportedSerializer(imported_body(result)).data, status=201)
