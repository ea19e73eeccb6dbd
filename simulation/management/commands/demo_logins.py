import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Print the logins a scenario file defines, with the URL the portal serves (PORTAL_PORT, default "
            "8000) and the API tokens it fixes (make run prints the demo's).")

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="scenarios/demo.json")

    def handle(self, *args, file, **options):
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        url = f"http://127.0.0.1:{os.environ.get('PORTAL_PORT') or 8000}"
        logins = [
            (a["username"], a.get("password", "(none)"), ", ".join(a["roles"]), t["name"], a.get("api_token"))
            for t in data.get("tenants", []) for a in t.get("admins", [])
        ] + [
            (s["username"], s.get("password", "(none)"), "support staff", "all tenants", s.get("api_token"))
            for s in data.get("support_staff", [])
        ]
        width = max(len(r[0]) for r in logins)
        self.stdout.write(f"Demo logins ({url}/login/):")
        for username, password, roles, tenant, _token in logins:
            self.stdout.write(f"  {username:<{width}}  {password:<20}  {tenant}: {roles}")
        tokens = [(username, token) for username, _p, _r, _t, token in logins if token]
        if tokens:
            self.stdout.write(f"API tokens ({url}/api/docs/; portalctl login --url {url} --token …):")
            for username, token in tokens:
                self.stdout.write(f"  {username:<{width}}  {token}")
