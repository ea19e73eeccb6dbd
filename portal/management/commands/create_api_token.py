from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.services import api_token_create


class Command(BaseCommand):
    help = "Print a new API token for an admin (replacing the old one)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"no user named {username!r}")
        token = api_token_create(username=username)
        self.stdout.write(token.key)
