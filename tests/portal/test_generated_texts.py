"""The one registry of generated texts (portal.texts): every audit event the code records says what
happened in English and in Swedish, every key renders, and a text keeps what it is made of."""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from portal.models import Event
from portal.texts import Text, event_key, registered, render

SOURCES = [p for app in ("portal", "billing", "licensing", "planchange", "webhooks", "simulation", "support") for p in Path(app).rglob("*.py")
           if "migrations" not in p.parts]

# What each event the code records carries (the services' data), to render it as a page would.
DATA = {
    "api_token.created": {"username": "admin@contoso.com", "name": "CI", "expires_at": None},
    "api_token.revoked": {"username": "admin@contoso.com", "name": "CI"},
    "clock.advanced": {"from": "2026-06-15", "to": "2026-07-15"},
    "incident.opened": {"service": "exchange", "status": "serviceDegradation", "title": "Mail delays"},
    "incident.updated": {"status": "serviceRestored"},
    "incident.resolved": {"service": "office_web", "title": "Slow editing"},
    "tenant.loaded": {"source": "scenarios/demo.json", "subscriptions": 2},
    "tenant.imported": {"users": 7, "anonymized": True, "replaced": True, "replaced_tenant": 3},
    "support_staff.created": {"username": "support@portal.local", "source": "scenarios/demo.json"},
    "credit_check.approved": {"requested": "2026-06-11", "reason": "two business days passed"},
    "credit_check.rejected": {},
    "subscription.provisioned": {"sku": "SPB", "licenses": 25, "by": "plan_change/3"},
    "subscription.provisioning_finished": {"reason": "set-up time passed"},
    "subscription.bought": {"sku": "SPB", "licenses": 1, "term": "P1Y", "billing_frequency": "monthly"},
    "subscription.cancelled": {"disabled_until": "2026-09-14", "credit": "-12.50"},
    "subscription.addon_removed": {"addon": "AUDIO_CONFERENCING"},
    "subscription.addon_added": {"addon": "AUDIO_CONFERENCING", "blocks_plan_change": True},
    "subscription.licenses_changed": {"from": 5, "to": 7},
    "subscription.licenses_removal_scheduled": {"from": 12, "to": 10, "on": "2026-10-01"},
    "subscription.licenses_removal_cancelled": {"licenses": 12, "was": 10},
    "subscription.recurring_billing_changed": {"recurring_billing": False},
    "subscription.reactivated": {"from": "expired", "term_start": "2026-06-15"},
    "subscription.renewed": {"term_start": "2027-01-01", "term": "P1Y"},
    "subscription.expired": {"on": "2027-01-01", "disabled_on": "2027-01-31"},
    "subscription.trial_converted": {"on": "2026-07-10", "payment": "card"},
    "subscription.trial_expired": {"on": "2026-07-10", "disabled_on": "2026-08-09", "reason": "no_payment_method"},
    "subscription.trial_extended": {"from": "2026-07-10", "trial_ends_on": "2026-08-09"},
    "subscription.trial_purchased": {"on": "2026-06-15", "payment": "card"},
    "subscription.disabled": {"on": "2027-01-31", "deleted_on": "2027-05-01"},
    "subscription.deleted": {"on": "2027-05-01", "licenses_removed": 1},
    "invoice.created": {"number": "INV-20260616-000002", "date": "2026-06-16", "due_date": "2026-06-16"},
    "invoice.paid": {"number": "INV-20260616-000002", "amount": "413.37", "card": "4242"},
    "invoice.refunded": {"number": "INV-20260616-C00018", "amount": "3.00", "card": "4242"},
    "invoice.overdue": {"number": "FAB-2026-06", "balance": "277.20", "due": "2026-07-01"},
    "payment_habit.changed": {"payer": "Fabrikam billing", "habit": "late", "days": 10, "from": "on_time",
                              "from_days": 0},
    "invoice.lines_added": {"number": "INV-20260616-000002", "lines": [{"description": "x", "amount": "1.00"}]},
    "payment_method.added": {"last4": "4242"},
    "licenses.assigned": {"users": ["alice@contoso.com"]},
    "licenses.unassigned": {"users": ["alice@contoso.com", "bjorn@contoso.com"]},
    "licenses.replaced": {"users": ["alice@contoso.com"], "from": 1, "to": 2, "backup_confirmed": True},
    "licenses.changed": {"user": "elsa@contoso.com", "via": "graph",
                         "added": [{"subscription": 2, "sku": "O365_BUSINESS_PREMIUM", "disabled_plans": []}],
                         "removed": [{"subscription": 1, "sku": "O365_BUSINESS_ESSENTIALS"}]},
    "licenses.moved": {"users": ["alice@contoso.com", "bjorn@contoso.com"], "from": 1, "to": 2, "by": "plan_change/3"},
    "licenses.removed": {"users": ["alice@contoso.com"], "count": 1, "reason": "the subscription was deleted"},
    "user.created": {"upn": "dana@contoso.com"},
    "plan_change.requested": {"subscription": 1, "target": "SPB", "licenses": 25, "schedule": "now",
                              "effective_date": "2026-06-16"},
    "plan_change.started": {"scheduled_for": "2027-01-01"},
    "plan_change.running": {"step": "validate"},
    "plan_change.step.validate": {"step": "validate", "effective_date": "2026-06-16"},
    "plan_change.step.provision": {"step": "provision", "new_subscription": 3},
    "plan_change.step.migrate_licenses": {"step": "migrate_licenses", "users": 1},
    "plan_change.step.bill": {"step": "bill", "invoice": 2, "credit": "-164.13"},
    "plan_change.step.cancel_source": {"step": "cancel_source"},
    "plan_change.step.complete": {"step": "complete", "new_subscription": 3},
    "plan_change.failed": {"step": "validate", "code": "blocked", "detail": "unpaid_balance",
                           "blockers": ["unpaid_balance"]},
    "plan_change.stuck": {"step": "bill", "error": "bill: OperationalError: database is locked"},
    "plan_change.retried": {"step": "bill"},
    "plan_change.cancelled": {"reason": "cancelled by an admin", "scheduled_for": "2027-01-01",
                              "reason_text": "cancelled.by_admin"},
    "webhook.created": {"url": "https://hooks.contoso.example/portal", "events": ["plan_change.completed"],
                        "description": ""},
    "webhook.deleted": {"url": "https://hooks.contoso.example/portal"},
    "webhook.test_sent": {"message": "msg_0123456789abcdef"},
    "webhook.resent": {"message": "msg_0123456789abcdef", "type": "plan_change.completed"},
    "webhook.failing": {"url": "https://hooks.contoso.example/portal", "message": "msg_0123456789abcdef",
                        "attempts": 8},
    "webhook.recovered": {"url": "https://hooks.contoso.example/portal", "message": "msg_0123456789abcdef"},
}


VERB_MODULES = ["portal.verbs", "billing.verbs", "licensing.verbs", "planchange.verbs", "webhooks.verbs",
                "simulation.verbs"]


def _verbs_recorded() -> set[str]:
    """Every verb the apps record: each app's verbs module declares them (no literal elsewhere, below)."""
    from importlib import import_module

    from portal.texts import verbs_declared

    return set().union(*(verbs_declared(import_module(name)) for name in VERB_MODULES))


def test_no_verb_is_written_as_a_string_outside_the_verbs_modules():
    found = [f"{path}:{number}: {line.strip()}" for path in SOURCES if path.name != "verbs.py"
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r'\bverb=f?"|"verb": "|verb__(in|startswith)=\[?"', line)]
    assert found == []


def test_every_verb_the_code_records_says_what_happened():
    verbs = _verbs_recorded()
    assert "subscription.addon_removed" in verbs and "plan_change.step.bill" in verbs
    assert verbs == set(DATA), (verbs - set(DATA), set(DATA) - verbs)
    assert {event_key(verb) for verb in verbs} <= registered()


@pytest.mark.django_db
@pytest.mark.parametrize("verb", sorted(DATA))
def test_each_event_reads_in_english_and_in_swedish(verb):
    template = Template("{% load texts %}{{ event|event_text }}")
    event = Event(verb=verb, data=DATA[verb])
    with translation.override("en"):
        english = template.render(Context({"event": event}))
    with translation.override("sv"):
        swedish = template.render(Context({"event": event}))
    assert english != verb and swedish != verb
    assert swedish != english, swedish


@pytest.mark.django_db
def test_an_event_nobody_describes_or_with_data_from_another_version_shows_its_verb():
    template = Template("{% load texts %}{{ event|event_text }}")
    for event in (Event(verb="something.new", data={}), Event(verb="invoice.paid", data={"amount": "1.00"}),
                  Event(verb="invoice.paid", data=["not", "a", "dict"])):
        assert template.render(Context({"event": event})) == event.verb


def test_a_text_keeps_json_and_renders_in_the_active_language():
    text = Text("line.period", product="Microsoft 365 Business Basic", licenses=1, start=date(2026, 6, 16),
                end=date(2026, 7, 16))
    assert text.params == {"product": "Microsoft 365 Business Basic", "licenses": 1, "start": "2026-06-16",
                           "end": "2026-07-16"}
    assert text.stored() == {"description": "Microsoft 365 Business Basic (1 license), 2026-06-16 to 2026-07-16",
                             "text": "line.period", "params": text.params}
    with translation.override("sv"):
        assert str(text) == "Microsoft 365 Business Basic (1 licens), 2026-06-16 till 2026-07-16"
        assert text.english() == text.stored()["description"]
    assert Text("invoice", amount=Decimal("1.50")).params == {"amount": "1.50"}
    with pytest.raises(KeyError):
        render("no.such.text", {})


def test_a_text_rendered_again_is_the_same_in_each_language_and_made_once_per_language_and_params(monkeypatch):
    """``render`` keeps what it made for plain params (a clock move renders the same line for tenant after tenant):
    each language its own, params of another type (True is not 1) or value their own, and params it can't keep (a
    list, an amount) are rendered each time."""
    from portal import texts

    made = []

    def message(params):
        made.append(dict(params))
        return f"{translation.get_language()}: {params['n']!r}"

    monkeypatch.setitem(texts._REGISTRY, "test:memo", message)
    monkeypatch.setattr(texts, "_RENDERED", {})
    with translation.override("en"):
        assert [render("test:memo", {"n": 1}) for _ in range(3)] == ["en: 1"] * 3
        assert render("test:memo", {"n": True}) == "en: True"
        assert [render("test:memo", {"n": [1]}) for _ in range(2)] == ["en: [1]"] * 2
        assert [render("test:memo", {"n": Decimal("1.0")}) for _ in range(2)] == ["en: Decimal('1.0')"] * 2
    with translation.override("sv"):
        assert render("test:memo", {"n": 1}) == "sv: 1"
    assert made == [{"n": 1}, {"n": True}, {"n": [1]}, {"n": [1]}, {"n": Decimal("1.0")}, {"n": Decimal("1.0")},
                    {"n": 1}]
    # the real texts: a period line in English and in Swedish, twice each
    line = Text("line.period", product="Microsoft 365 Business Basic", licenses=10, start=date(2027, 1, 1),
                end=date(2027, 2, 1))
    with translation.override("en"):
        english = [str(line), str(line)]
    with translation.override("sv"):
        swedish = [str(line), str(line)]
    assert english[0] == english[1] and swedish[0] == swedish[1] and english[0] != swedish[0]


@pytest.mark.django_db
def test_a_text_made_from_stored_rows_is_made_again_each_time(monkeypatch):
    """An add-on's event names it by its catalog name, read when it is shown: renamed in the catalog, the same event
    reads the new name (``reads_rows``: the memo doesn't keep it)."""
    from billing.models import AddOnProduct
    from portal import texts

    monkeypatch.setattr(texts, "_RENDERED", {})
    addon = AddOnProduct.objects.first()
    key, params = event_key("subscription.addon_removed"), {"addon": addon.code}
    with translation.override("en"):
        before = render(key, params)
        AddOnProduct.objects.filter(pk=addon.pk).update(name="Renamed add-on")
        assert (before, render(key, params)) == (f"Add-on removed: {addon.name}.", "Add-on removed: Renamed add-on.")
