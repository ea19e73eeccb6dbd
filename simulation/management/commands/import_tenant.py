"""``manage.py import_tenant FILE``: a tenant from a Graph export (examples/export_tenant.py), with a progress
bar; what Graph doesn't say taken from the options, their defaults stated in what it prints (docs/import.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


class Command(BaseCommand):
    help = ("Make a tenant from a Microsoft Graph export (examples/export_tenant.py) in one transaction; what Graph "
            "doesn't say comes from the options (defaults stated); --anonymize keeps no name of the file.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--anonymize", action="store_true",
                            help="replace user names, principal names, the organization and its domains by stable "
                                 "pseudonyms; counts and license patterns kept")
        parser.add_argument("--replace", action="store_true", help="swap a tenant imported before for this one")
        parser.add_argument("--agreement", choices=Tenant.Agreement.values, default=Tenant.Agreement.MOSA)
        parser.add_argument("--kind", choices=Tenant.Kind.values, default=Tenant.Kind.COMMERCIAL)
        parser.add_argument("--term", choices=Term.values, default=Term.P1Y, help="every subscription's term")
        parser.add_argument("--billing-frequency", choices=BillingFrequency.values, default=BillingFrequency.MONTHLY)
        parser.add_argument("--subscription-term", action="append", default=[], metavar="ID_OR_SKU=TERM/FREQUENCY",
                            help="one subscription's (its Graph id) or one SKU's term and billing frequency")
        parser.add_argument("--payment", choices=PaymentKind.values, default=PaymentKind.CARD)
        parser.add_argument("--admin", default="", help="the admin login made for the import (admin@<domain>)")

    def handle(self, *args, file, anonymize, replace, **o):
        try:
            raw = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
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
                result = tenant_import(raw=raw, choices=choices, replace=replace, progress=progress)
            except ExportRefused as exc:
                bar.stop()
                self.stderr.write(self.style.ERROR(f"refused, nothing imported: {exc.detail}"))
                for line in exc.errors:
                    self.stderr.write(f"  {line}")
                raise CommandError(exc.code) from None
        for line in result_lines(result):
            self.stdout.write(line)
