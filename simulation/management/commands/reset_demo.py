from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from billing.catalog import catalog_sync


class Command(BaseCommand):
    help = ("Start the demo over without reinstalling: delete every tenant, login, change, invoice and event, "
            "put the catalog back and load the scenario files (default: scenarios/demo.json).")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", default=["scenarios/demo.json"])
        parser.add_argument("--yes", action="store_true",
                            help="required outside DEBUG: this deletes everything in the database")

    def handle(self, *args, files, yes, **options):
        if not settings.DEBUG and not yes:
            raise CommandError("This deletes everything in the database. Run it again with --yes if you mean it.")
        call_command("flush", interactive=False, verbosity=0)
        catalog_sync(**{name: apps.get_model("billing", name)
                        for name in ("ServicePlan", "Product", "Offer", "AddOnProduct", "MicrosoftServicePlan")})
        call_command("load_scenario", *files, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(self.style.SUCCESS("The demo is as new. Sign in with:"))
        for path in files:
            call_command("demo_logins", path, stdout=self.stdout)
