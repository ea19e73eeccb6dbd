from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.errors import DomainError
from portal.services import API_TOKEN_DEFAULT_NAME, api_token_replace


class Command(BaseCommand):
    help = ("Print a new API token for an admin. Without --name it replaces the admin's token made "
            "this way before (named 'default'); with --name it replaces the live tokens of that name.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default=API_TOKEN_DEFAULT_NAME,
                            help="the token's name, as the list of API tokens shows it (default: 'default')")

    def handle(self, *args, username, name, **options):
        if not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"no user named {username!r}")
        try:
            token = api_token_replace(username=username, name=name)
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stdout.write(token)
