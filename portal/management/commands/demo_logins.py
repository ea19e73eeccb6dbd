import json
from pathlib import Path

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the logins a scenario file defines (make run prints the demo's)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="scenarios/demo.json")

    def handle(self, *args, file, **options):
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        rows = [
            (a["username"], a.get("password", "(none)"), ", ".join(a["roles"]), t["name"])
            for t in data.get("tenants", []) for a in t.get("admins", [])
        ] + [
            (s["username"], s.get("password", "(none)"), "support staff", "all tenants")
            for s in data.get("support_staff", [])
        ]
        width = max(len(r[0]) for r in rows)
        self.stdout.write("Demo logins (http://127.0.0.1:8000/login/):")
        for username, password, roles, tenant in rows:
            self.stdout.write(f"  {username:<{width}}  {password:<20}  {tenant}: {roles}")
