"""``manage.py import_tenant FILE``: a tenant from a Graph export (examples/export_tenant.py), with a progress
bar; what Graph doesn't say taken from the options, their defaults stated in what it prints (docs/import.md)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.prompt import Prompt

from billing.models import BillingFrequency, PaymentKind, Term
from portal.models import Tenant
from simulation.imports.convert import Choices
from simulation.imports.export_file import ExportRefused
from simulation.imports.report import result_lines
from simulation.imports.service import tenant_import


def _term(value: str) -> tuple[str, tuple[str, str]]:
    """``--subscription-term ID_OR_SKU=TERM/FREQUENCY`` (P1M/monthly, P1Y/annual, …)."""
    key, _eq, rest = value.partition("=")
    term, _slash, frequency = rest.partition("/")
    if not key or term not in Term.values or frequency not in BillingFrequency.values:
        raise CommandError(f"--subscription-term {value!r}: give ID_OR_SKU=TERM/FREQUENCY, TERM one of "
                           f"{', '.join(Term.values)}, FREQUENCY one of {', '.join(BillingFrequency.values)}")
    return key, (term, frequency)


# What Graph doesn't say, each with its default: (option, values, default).
COMMAND_ACTOR = "manage.py import_tenant"  # the audit event's actor: whoever ran the command on the server
ASKED = (("agreement", Tenant.Agreement.values, Tenant.Agreement.MOSA),
         ("kind", Tenant.Kind.values, Tenant.Kind.COMMERCIAL),
         ("term", Term.values, Term.P1Y), ("billing_frequency", BillingFrequency.values, BillingFrequency.MONTHLY),
         ("payment", PaymentKind.values, PaymentKind.CARD))
PROMPTS = {"agreement": "Agreement (Graph doesn't say)", "kind": "Kind of organization",
           "term": "Every subscription's term", "billing_frequency": "Billing frequency",
           "payment": "Payment method"}


class Command(BaseCommand):
    help = ("Make a tenant from a Microsoft Graph export (examples/export_tenant.py) in one transaction; what Graph "
            "doesn't say comes from the options (defaults stated); --anonymize keeps no name of the file.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--anonymize", action="store_true",
                            help="replace user names, principal names, the organization and its domains by stable "
                                 "pseudonyms; counts and license patterns kept")
        parser.add_argument("--replace", action="store_true", help="swap a tenant imported before for this one")
        for name, values, default in ASKED:
            parser.add_argument(f"--{name.replace('_', '-')}", choices=values,
                                help=f"Graph doesn't say; asked on a terminal, default {default}")
        parser.add_argument("--subscription-term", action="append", default=[], metavar="ID_OR_SKU=TERM/FREQUENCY",
                            help="one subscription's (its Graph id) or one SKU's term and billing frequency")
        parser.add_argument("--admin", default=None, help="the admin login made for the import (admin@<domain>)")
        parser.add_argument("--no-input", action="store_true",
                            help="ask nothing on a terminal: what the options don't say takes its default")

    def ask(self, o: dict) -> dict:
        """What Graph doesn't say and the options didn't either: asked for on a terminal (Enter takes the
        default), else the default."""
        interactive = sys.stdin.isatty() and not o["no_input"]
        for name, values, default in ASKED:
            if o[name] is None:
                o[name] = Prompt.ask(PROMPTS[name], choices=list(values), default=default) if interactive else default
        if o["admin"] is None:
            o["admin"] = Prompt.ask("Admin login made for the import (Enter: admin@<domain>)", default="",
                                    show_default=False) if interactive else ""
        return o

    def handle(self, *args, file, anonymize, replace, **o):
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        o = self.ask(o)
        choices = Choices(agreement=o["agreement"], kind=o["kind"], term=o["term"],
                          billing_frequency=o["billing_frequency"], payment=o["payment"], admin=o["admin"],
                          terms=dict(_term(v) for v in o["subscription_term"]), anonymize=anonymize)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=None, transient=False) as bar:
            task = bar.add_task("reading the export", total=1)

            def progress(stage, done, total):
                bar.update(task, description={"read": "reading the export", "users": "users",
                                              "done": "done"}[stage], completed=done, total=max(total, 1))
            try:
                result = tenant_import(raw=raw, choices=choices, actor=COMMAND_ACTOR, replace=replace,
                                       progress=progress)
            except ExportRefused as exc:
                bar.stop()
                self.stderr.write(self.style.ERROR(f"refused, nothing imported: {exc.detail}"))
                for line in exc.errors:
                    self.stderr.write(f"  {line}")
                raise CommandError(exc.code) from None
        for line in result_lines(result):
            self.stdout.write(line)
