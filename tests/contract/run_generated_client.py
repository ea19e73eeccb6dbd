#!/usr/bin/env python
"""A client nobody here wrote can use the API, typed: `make client-flow`, and a section of .ci/run.

1. A fresh portal of its own (``var/client-flow/``, as tests/contract/run_schemathesis.py starts one).
2. Its ``/api/schema/``: openapi-spec-validator finds no error, tests/contract/schema_rules.py finds no
   breach, and Redocly CLI's recommended rules (redocly.yaml) find no error when ``npx`` is there.
3. openapi-python-client (pinned, in an environment of its own: it wants older typer and httpx than the
   portal's) generates a client; a warning of the generator fails the run, and so does a model property
   it couldn't type (``Any``, or an object with no fields) but the free-form ones schema_rules names.
4. A typed flow with that client against the live portal: the subscriptions, a subscription's upgrades,
   a preview, a change with an ``Idempotency-Key`` (and its replay), polled until done, its invoice, and
   a blocked change read as a ``Problem`` whose ``blockers`` are ``Blocker`` objects.

Exits non-zero on any failure.
"""

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

import requests
from openapi_spec_validator import OpenAPIV30SpecValidator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.contract.run_schemathesis import SCENARIOS, TENANTS, Portal, say  # noqa: E402
from tests.contract.schema_rules import FREE_FORM, problems  # noqa: E402

VAR = ROOT / "var" / "client-flow"
GENERATOR = "openapi-python-client==0.29.1"
REDOCLY = "@redocly/cli@2.77.0"
UV = next(ROOT.glob(".venv/.uv-*/bin/uv"), None) or shutil.which("uv")
PACKAGE = "portal_client"


def check_schema(schema_path: Path) -> list[str]:
    schema = json.loads(schema_path.read_text())
    failures = [f"openapi-spec-validator: {e.message[:200]}" for e in OpenAPIV30SpecValidator(schema).iter_errors()]
    say(f"openapi-spec-validator: {len(failures)} errors")
    breaches = problems(schema)
    say(f"schema rules (tests/contract/schema_rules.py): {len(breaches)} breaches")
    failures += [f"schema rules: {b}" for b in breaches]
    if shutil.which("npx"):
        lint = subprocess.run(["npx", "--yes", REDOCLY, "lint", str(schema_path), "--config", str(ROOT / "redocly.yaml"),
                               "--format", "summary", "--max-problems", "1000"], cwd=ROOT, capture_output=True,
                              text=True, check=False, env={**os.environ, "REDOCLY_TELEMETRY": "off",
                                                           "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"})
        summary = [line for line in (lint.stdout + lint.stderr).splitlines() if re.match(r"^(error|warning)\s", line)]
        say(f"Redocly CLI ({REDOCLY}, redocly.yaml): exit {lint.returncode}" + "".join(f"\n  {s}" for s in summary))
        if lint.returncode != 0:
            failures.append(f"Redocly lint failed: {lint.stdout[-2000:]} {lint.stderr[-1000:]}")
    else:
        say("Redocly CLI: no npx on this machine (Node.js); schema_rules.py checked its rules instead")
    return failures


def generate(schema_path: Path, out: Path) -> list[str]:
    shutil.rmtree(out, ignore_errors=True)
    run = subprocess.run([str(UV), "tool", "run", "--python", sys.executable, "--from", GENERATOR,
                          "openapi-python-client", "generate", "--path", str(schema_path), "--output-path", str(out),
                          "--meta", "none"], cwd=ROOT, capture_output=True, text=True, check=False)
    said = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    say(f"{GENERATOR}: exit {run.returncode}; it said: {said}")
    failures = [] if run.returncode == 0 else [f"the generator failed: {run.stderr[-2000:]}"]
    failures += [f"the generator said: {line}" for line in said
                 if not line.startswith(("Generating ", "Installed ", "Resolved ", "Prepared ", "Audited "))]
    return failures


def _free_form_models() -> set[str]:
    """The generated names of FREE_FORM's objects: ``Event.data`` → event_data.py."""
    def snake(name: str) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return {f"{snake(component)}_{field}.py" for component, field in (entry.split(".") for entry in FREE_FORM)}


def untyped_models(models: Path) -> list[str]:
    """Model properties the generator couldn't type: annotated ``Any``, or a model whose only field is
    its ``additional_properties`` of ``Any`` (an object without fields), but FREE_FORM's."""
    found = []
    allowed = _free_form_models()
    for path in sorted(models.glob("*.py")):
        text = path.read_text()
        fields = re.findall(r"^    (\w+): (.+?)(?: = .*)?$", text, flags=re.M)
        found += [f"{path.stem}.{name}: {kind}" for name, kind in fields
                  if re.search(r"\bAny\b", kind) and name != "additional_properties"]
        if fields and all(name == "additional_properties" and "Any" in kind for name, kind in fields) \
                and path.name not in allowed:
            found.append(f"{path.stem}: an object without fields")
    return found


class Flow:
    """The typed flow, with the generated package's modules."""

    def __init__(self, base: str):
        self.base = base
        self.api = lambda name: importlib.import_module(f"{PACKAGE}.api.v1.{name}")
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.client_module = importlib.import_module(f"{PACKAGE}.client")

    def client(self, token: str):
        return self.client_module.AuthenticatedClient(base_url=self.base, token=token, prefix="Token",
                                                      raise_on_unexpected_status=True, timeout=120)

    def expect(self, answer, kind, what: str):
        if not isinstance(answer, kind):
            raise AssertionError(f"{what}: {type(answer).__name__} {answer!r:.500}, not {kind.__name__}")
        return answer

    def changeable(self, client):
        """An active subscription that can change automatically, and its first supported upgrade."""
        m = self.models
        page = self.expect(self.api("v1_subscriptions_list").sync(client=client, page_size=500),
                           m.PaginatedSubscriptionList, "GET subscriptions/")
        say(f"GET subscriptions/: {page.count} {type(page.results[0]).__name__} objects")
        for sub in page.results:
            upgrades = self.expect(self.api("v1_subscriptions_upgrades_retrieve").sync(id=sub.id, client=client),
                                   m.Upgrades, f"GET subscriptions/{sub.id}/upgrades/")
            supported = [u for u in upgrades.upgrades if u.supported]
            if upgrades.can_change_automatically and supported:
                say(f"GET subscriptions/{sub.id}/upgrades/: {sub.sku} → {[u.sku for u in supported]}")
                return sub, supported[0]
        raise AssertionError("no subscription can change automatically")

    def change(self, client):
        m = self.models
        sub, target = self.changeable(client)
        request = m.PlanChangeRequestRequest(subscription=sub.id, target_sku=target.sku)
        quote = self.expect(self.api("v1_plan_changes_preview_create").sync(client=client, body=request), m.Quote,
                            "POST plan-changes/preview/")
        assert all(isinstance(line, m.QuoteLine) for line in quote.lines) and quote.lines, quote.lines
        assert all(isinstance(user, m.UserChange) for user in quote.users), quote.users
        assert all(isinstance(group, m.UserChangeGroup) for group in quote.user_groups), quote.user_groups
        say(f"POST plan-changes/preview/: quote {quote.quote_id}, total {quote.total}, {len(quote.lines)} QuoteLine, "
            f"{len(quote.users)} UserChange, credit delivery {type(quote.credit_delivery).__name__}")
        key = str(uuid.uuid4())
        request = m.PlanChangeRequestRequest(subscription=sub.id, target_sku=target.sku, quote_id=quote.quote_id)
        create = self.api("v1_plan_changes_create")
        change = self.expect(create.sync(client=client, body=request, idempotency_key=key), m.PlanChange,
                             "POST plan-changes/")
        again = self.expect(create.sync(client=client, body=request, idempotency_key=key), m.PlanChange,
                            "POST plan-changes/ again with the same Idempotency-Key")
        assert again.id == change.id, (again.id, change.id)
        say(f"POST plan-changes/ (Idempotency-Key {key}, twice): PlanChange {change.id} {change.status.value}")
        return self.poll(client, change.id)

    def poll(self, client, change_id: int):
        m = self.models
        for _ in range(240):
            change = self.expect(self.api("v1_plan_changes_retrieve").sync(id=change_id, client=client), m.PlanChange,
                                 f"GET plan-changes/{change_id}/")
            if change.status.value in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.5)
        steps = ", ".join(f"{s.name.value if hasattr(s.name, 'value') else s.name}:{s.status.value}"
                          for s in change.steps)
        say(f"GET plan-changes/{change_id}/: {change.status.value} ({steps})")
        assert change.status.value == "completed", change.to_dict()
        assert all(isinstance(step, m.Step) for step in change.steps)
        return change

    def invoice(self, client, invoice_id: int):
        m = self.models
        invoice = self.expect(self.api("v1_invoices_retrieve").sync(id=invoice_id, client=client), m.Invoice,
                              f"GET invoices/{invoice_id}/")
        assert all(isinstance(line, m.InvoiceLine) for line in invoice.lines) and invoice.lines
        say(f"GET invoices/{invoice_id}/: {invoice.number}, total {invoice.total}, paid {invoice.paid}, "
            f"{len(invoice.lines)} InvoiceLine: " + "; ".join(f"{line.description} {line.amount}"
                                                              for line in invoice.lines))

    def blocked(self, client):
        """A change the rules refuse: 422 ``blocked``, read as a Problem with Blocker objects."""
        m = self.models
        page = self.api("v1_subscriptions_list").sync(client=client, page_size=500)
        for sub in page.results:
            upgrades = self.api("v1_subscriptions_upgrades_retrieve").sync(id=sub.id, client=client)
            refused = [u for u in upgrades.upgrades if not u.supported]
            if upgrades.can_change_automatically and not refused or not upgrades.upgrades:
                continue
            target = (refused or upgrades.upgrades)[0]
            answer = self.api("v1_plan_changes_create").sync_detailed(
                client=client, body=m.PlanChangeRequestRequest(subscription=sub.id, target_sku=target.sku),
                idempotency_key=str(uuid.uuid4()))
            problem = self.expect(answer.parsed, m.Problem, f"POST plan-changes/ {sub.sku} → {target.sku}")
            if answer.status_code != 422:
                continue  # refused for another reason (a change under way): try the next one
            assert problem.code == "blocked", problem.to_dict()
            assert problem.blockers and all(isinstance(b, m.Blocker) for b in problem.blockers), problem.blockers
            say(f"POST plan-changes/ {sub.sku} → {target.sku}: 422 Problem {problem.code}, blockers "
                + ", ".join(f"Blocker({b.code}, action {type(b.action).__name__})" for b in problem.blockers))
            return
        raise AssertionError("no change was refused as blocked")


def flow(base: str) -> list[str]:
    runner = Flow(base)
    contoso, fabrikam = runner.client(TENANTS["Contoso"]), runner.client(TENANTS["Fabrikam"])
    me = runner.expect(runner.api("v1_me_retrieve").sync(client=contoso), runner.models.Me, "GET me/")
    say(f"GET me/: {me.username} of {me.tenant.name}")
    change = runner.change(contoso)
    runner.invoice(contoso, change.invoice)
    runner.blocked(fabrikam)
    return []


def main() -> int:
    failures = []
    # The generated package lives only for the run (a temporary folder): generated code is no module of ours,
    # and left in the tree it would be read as such (STYLE.md's 400 lines, duplicates).
    with Portal(VAR) as portal, tempfile.TemporaryDirectory(prefix="client-flow-") as generated:
        schema_path = VAR / "schema.json"
        schema_path.write_text(requests.get(f"{portal.base}/api/schema/?format=json", timeout=60).text)
        say(f"\n----- the schema ({schema_path}) -----")
        failures += check_schema(schema_path)
        say("\n----- a client generated from it -----")
        out = Path(generated) / PACKAGE
        failures += generate(schema_path, out)
        untyped = untyped_models(out / "models")
        say(f"model properties left untyped: {len(untyped)} (free-form by design: {sorted(FREE_FORM)})")
        failures += [f"untyped: {u}" for u in untyped]
        if out.exists():
            say("\n----- the typed flow -----")
            sys.path.insert(0, str(out.parent))
            try:
                failures += flow(portal.base)
            except Exception as error:  # noqa: BLE001 - any failure of the flow is the run's
                failures.append(f"the typed flow: {type(error).__name__}: {error}\n{traceback.format_exc()}")
    for failure in failures:
        say(f"FAIL {failure}")
    say("\nthe generated client's typed flow ran" if not failures else f"\n{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    assert SCENARIOS  # the same portal as the schemathesis run's
    sys.exit(main())
