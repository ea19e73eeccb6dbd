"""The support console's "Import a tenant from a Graph export": an upload form (the file, Anonymize, Replace,
and what Graph doesn't say with its defaults), the import with live progress (the page's script asks for
``application/x-ndjson``: one line per step as the import goes, then the result), and the result once (the
admin login's password and token shown only here). Without the script the form posts and the result page
follows. The file is read into memory and never saved."""

import json
import logging
import queue
import threading

from django import forms
from django.db import connection
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import BillingFrequency, PaymentKind, Term
from portal.decorators import support_page
from portal.models import Tenant
from simulation.imports.convert import Choices
from simulation.imports.export_file import ExportRefused, max_bytes
from simulation.imports.service import tenant_import

log = logging.getLogger(__name__)
STREAM = "application/x-ndjson"


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Export file (examples/export_tenant.py)"))
    anonymize = forms.BooleanField(required=False, label=gettext_lazy(
        "Anonymize: replace names, user principal names and domains by pseudonyms"))
    replace = forms.BooleanField(required=False, label=gettext_lazy("Replace it if it was imported before"))
    agreement = forms.ChoiceField(choices=Tenant.Agreement.choices, initial=Tenant.Agreement.MOSA,
                                  label=gettext_lazy("Agreement"))
    kind = forms.ChoiceField(choices=Tenant.Kind.choices, initial=Tenant.Kind.COMMERCIAL,
                             label=gettext_lazy("Kind of organization"))
    term = forms.ChoiceField(choices=Term.choices, initial=Term.P1Y, label=gettext_lazy("Subscription length"))
    billing_frequency = forms.ChoiceField(choices=BillingFrequency.choices, initial=BillingFrequency.MONTHLY,
                                          label=gettext_lazy("Billing frequency"))
    payment = forms.ChoiceField(choices=PaymentKind.choices, initial=PaymentKind.CARD,
                                label=gettext_lazy("Payment method"))
    admin = forms.CharField(required=False, max_length=150, label=gettext_lazy("Admin login (default admin@<domain>)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # what Graph doesn't say: its default, in the reader's words
            if isinstance(field, forms.ChoiceField):
                field.help_text = _("Graph doesn't say; default %(value)s") % {
                    "value": dict(field.choices)[field.initial]}


def _choices(data: dict) -> Choices:
    return Choices(agreement=data["agreement"], kind=data["kind"], term=data["term"],
                   billing_frequency=data["billing_frequency"], payment=data["payment"], admin=data["admin"],
                   anonymize=data["anonymize"])


def _page(request, form, *, refused=None, status=200):
    return render(request, "support/import.html", {"section": "support", "form": form, "refused": refused,
                                                   "limit_mb": max_bytes() // 1_000_000}, status=status)


@support_page
def tenant_import_page(request):
    if request.method != "POST":
        return _page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form, status=400)
    raw, choices = form.cleaned_data["file"].read(), _choices(form.cleaned_data)
    replace = form.cleaned_data["replace"]
    if STREAM in request.headers.get("Accept", ""):
        return _streamed(request, raw, choices, replace)
    try:
        result = tenant_import(raw=raw, choices=choices, actor=request.user.get_username(), replace=replace)
    except ExportRefused as exc:
        return _page(request, form, refused=exc, status=exc.status)
    return render(request, "support/import_done.html", {"section": "support", "result": result})


def _streamed(request, raw: bytes, choices: Choices, replace: bool) -> StreamingHttpResponse:
    """The import on a thread of its own, its progress told line by line as it goes (NDJSON), then the result
    (the page's HTML), or the refusal."""
    events: queue.Queue = queue.Queue()
    language, actor = translation.get_language(), request.user.get_username()

    def run():
        try:
            with translation.override(language):
                result = tenant_import(raw=raw, choices=choices, actor=actor, replace=replace,
                                       progress=lambda stage, done, total: events.put(
                                           {"stage": stage, "done": done, "total": total}))
                events.put({"html": render_to_string("support/_import_result.html", {"result": result})})
        except ExportRefused as exc:
            with translation.override(language):
                events.put({"refused": str(exc.detail), "errors": exc.errors, "status": exc.status})
        except Exception:
            log.exception("import failed")
            with translation.override(language):
                events.put({"refused": _("The import failed; nothing was imported."), "errors": [], "status": 500})
        finally:
            connection.close()  # this thread's own
            events.put(None)

    threading.Thread(target=run, name="tenant-import", daemon=True).start()

    def lines():
        while (event := events.get()) is not None:
            yield json.dumps(event) + "\n"

    response = StreamingHttpResponse(lines(), content_type=STREAM)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
