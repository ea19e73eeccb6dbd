import time

from django.core.management.base import BaseCommand, CommandError

from portal.models import Tenant
from simulation.scenarios.loader import ScenarioError, scenario_load, scenario_read


class Command(BaseCommand):
    help = "Load scenario files (CONTRACT.md); an invalid file loads nothing and is named with its bad fields."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument(
            "--once", action="store_true",
            help="skip a file whose tenants are all already in the database (used by make run)",
        )

    def handle(self, *args, files, once, **options):
        failed = 0
        for path in files:
            try:
                data = scenario_read(path)
                domains = [t.get("domain") for t in data.get("tenants", [])] if isinstance(data, dict) else []
                if once and domains and Tenant.objects.filter(domain__in=domains).count() == len(set(domains)):
                    self.stdout.write(f"{path}: already loaded, skipped")
                    continue
                started = time.monotonic()
                report = scenario_load(data, source=str(path))
            except ScenarioError as exc:
                failed += 1
                self.stderr.write(self.style.ERROR(f"{path}: refused, nothing loaded"))
                for line in exc.errors:
                    self.stderr.write(f"  {line}")
                continue
            self.stdout.write(self.style.SUCCESS(f"{path}: loaded in {time.monotonic() - started:.1f} s"))
            for line in report.lines:
                self.stdout.write(f"  {line}")
        if failed:
            raise CommandError(f"{failed} of {len(files)} file(s) refused")
