"""load_scenario: every field of CONTRACT.md loaded, every bad input refused with the
path of the bad field, and nothing at all loaded from a refused file."""

import copy
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from billing.models import CreditCheck, Invoice, PaymentMethod, Subscription
from licensing.models import DirectoryUser, LicenseAssignment
from planchange.models import PlanChange
from portal import clock, tokens
from portal.models import AdminMembership, ApiToken, Event, ServiceIncident, SimulationClock, Tenant
from simulation.scenarios import ScenarioError, scenario_load

pytestmark = pytest.mark.django_db

FULL = {
    "clock": "2026-06-15",
    "tenants": [{
        "name": "Contoso", "domain": "contoso.com", "kind": "commercial", "agreement": "MCA",
        "billing_profiles": [{"key": "main", "name": "Contoso billing", "payment": "invoice"}],
        "payment_methods": [
            {"key": "visa", "kind": "card", "last4": "4242", "default": True, "holder_name": "Contoso Ltd"},
            {"key": "inv", "kind": "invoice"},
        ],
        "admins": [
            {"username": "admin@contoso.com", "password": "pw-contoso-1", "roles": ["global_admin", "billing_admin"],
             "api_token": "fixed-token-for-contoso-admin"},
            {"username": "reader@contoso.com", "password": "pw-contoso-2", "roles": ["global_reader"]},
        ],
        "subscriptions": [
            {"key": "std", "sku": "O365_BUSINESS_PREMIUM", "licenses": 25, "term": "P1Y",
             "billing_frequency": "monthly", "start_date": "2026-01-01", "status": "active",
             "provisioning": "provisioned", "source": "direct", "payment": "card",
             "payment_method": "visa", "billing_profile": "main", "recurring_billing": True,
             "addons": ["AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"]},
            {"key": "old", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 2, "term": "P1M",
             "billing_frequency": "monthly", "start_date": "2025-03-01", "status": "expired",
             "provisioning": "provisioning", "source": "reseller", "payment": "invoice",
             "recurring_billing": False},
        ],
        "users": [
            {"upn": "alice@contoso.com", "display_name": "Alice Andersson",
             "licenses": [{"subscription": "std", "disabled_plans": ["YAMMER_ENTERPRISE"]},
                          {"subscription": "old"}]},
            {"upn": "bob@contoso.com", "display_name": "Bob Berg",
             "licenses": [{"subscription": "old"}]},
        ],
        "generate_users": [{"count": 30, "subscription": "std", "prefix": "user"}],
        "invoices": [{"number": "INV-1001", "date": "2026-05-01", "due_date": "2026-05-31",
                      "amount": "312.50", "paid": "12.50", "billing_profile": "main"}],
        "credit_checks": [{"status": "pending", "requested": "2026-06-14"}],
        "incidents": [{"service": "exchange", "status": "serviceDegradation", "title": "Mail delays"}],
        "plan_changes": [{"subscription": "std", "target_sku": "SPB", "status": "scheduled"}],
    }],
    "support_staff": [{"username": "support@portal.local", "password": "pw-support", "api_token": "fixed-support-token"}],
}


def snapshot():
    """What a load could have changed."""
    return (
        Tenant.objects.count(), Subscription.objects.count(), DirectoryUser.objects.count(),
        LicenseAssignment.objects.count(), Invoice.objects.count(), get_user_model().objects.count(),
        ApiToken.objects.count(), CreditCheck.objects.count(), ServiceIncident.objects.count(),
        PlanChange.objects.count(), PaymentMethod.objects.count(), Event.objects.count(),
        SimulationClock.objects.count(),
    )


def test_every_field_is_loaded():
    report = scenario_load(copy.deepcopy(FULL))
    assert clock.today() == date(2026, 6, 15)
    t = Tenant.objects.get(domain="contoso.com")
    assert (t.name, t.kind, t.agreement) == ("Contoso", "commercial", "MCA")
    assert report.tenants == [t]
    profile = t.billing_profiles.get()
    assert (profile.name, profile.payment) == ("Contoso billing", "invoice")
    visa = t.payment_methods.get(kind="card")
    assert (visa.last4, visa.is_default, visa.holder_name) == ("4242", True, "Contoso Ltd")
    assert t.payment_methods.filter(kind="invoice").exists()

    admin = get_user_model().objects.get(username="admin@contoso.com")
    assert admin.check_password("pw-contoso-1")
    assert set(AdminMembership.objects.filter(user=admin, tenant=t).values_list("role", flat=True)) == {
        "global_admin", "billing_admin"}
    # Stored as its digest, never as it is (the file is where it is written down).
    assert ApiToken.objects.get(user=admin).digest == tokens.digest("fixed-token-for-contoso-admin")
    assert not ApiToken.objects.filter(key_id__contains="fixed").exists()
    assert not ApiToken.objects.filter(user__username="reader@contoso.com").exists()

    std = Subscription.objects.get(tenant=t, product__sku="O365_BUSINESS_PREMIUM")
    assert (std.licenses, std.term, std.billing_frequency, std.start_date) == (25, "P1Y", "monthly", date(2026, 1, 1))
    assert (std.status, std.provisioning, std.source, std.payment) == ("active", "provisioned", "direct", "card")
    assert (std.payment_method, std.billing_profile, std.recurring_billing) == (visa, profile, True)
    assert set(std.addons.values_list("code", flat=True)) == {"AUDIO_CONFERENCING", "EXTRA_FILE_STORAGE"}
    old = Subscription.objects.get(tenant=t, product__sku="O365_BUSINESS_ESSENTIALS")
    assert (old.status, old.provisioning, old.source, old.payment, old.recurring_billing, old.term) == (
        "expired", "provisioning", "reseller", "invoice", False, "P1M")
    assert old.billing_profile == profile  # the tenant's only profile

    alice = DirectoryUser.objects.get(upn="alice@contoso.com")
    assert alice.display_name == "Alice Andersson"
    assert {(a.subscription_id, tuple(a.disabled_plans)) for a in alice.licenses.all()} == {
        (std.pk, ("YAMMER_ENTERPRISE",)), (old.pk, ())}
    assert DirectoryUser.objects.filter(tenant=t, upn__startswith="user").count() == 30
    assert DirectoryUser.objects.get(upn="user30@contoso.com").licenses.get().subscription == std
    assert LicenseAssignment.objects.filter(subscription=std).count() == 31  # more users than licenses: kept

    inv = Invoice.objects.get(number="INV-1001")
    assert (inv.total, inv.paid, inv.balance, inv.billing_profile) == (
        Decimal("312.50"), Decimal("12.50"), Decimal("300.00"), profile)
    assert [(line.amount, line.description) for line in inv.lines.all()] == [(Decimal("312.50"), "Subscription charges")]
    assert inv.status_on(clock.today()) == "overdue"

    check = CreditCheck.objects.get(tenant=t)
    assert (check.status, check.requested, check.decided_on) == ("pending", date(2026, 6, 14), None)
    incident = ServiceIncident.objects.get(tenant=t)
    assert (incident.service, incident.status, incident.title, incident.is_healthy) == (
        "exchange", "serviceDegradation", "Mail delays", False)
    change = PlanChange.objects.get(subscription=std)
    assert (change.status, change.schedule, change.scheduled_for, change.target_product.sku) == (
        "scheduled", "renewal", date(2027, 1, 1), "SPB")
    assert list(change.steps.values_list("name", flat=True)) == [
        "validate", "provision", "migrate_licenses", "bill", "cancel_source", "complete"]

    support = get_user_model().objects.get(username="support@portal.local")
    assert support.is_staff and support.check_password("pw-support")
    assert ApiToken.objects.get(user=support).digest == tokens.digest("fixed-support-token")
    assert Event.objects.filter(tenant=t, verb="tenant.loaded").count() == 1


def test_omitted_fields_take_the_contract_defaults():
    scenario_load({"tenants": [{
        "name": "Tiny", "domain": "tiny.example",
        "payment_methods": [{"key": "c", "kind": "card", "last4": "1111"}],
        "admins": [{"username": "a@tiny.example", "roles": ["global_admin"]}],
        "subscriptions": [{"key": "s", "sku": "O365_BUSINESS_ESSENTIALS", "licenses": 3}],
        "users": [{"upn": "bo@tiny.example"}],
    }]})
    t = Tenant.objects.get(domain="tiny.example")
    assert (t.kind, t.agreement) == ("commercial", "MOSA")
    s = t.subscriptions.get()
    assert (s.status, s.provisioning, s.source, s.recurring_billing, s.payment, s.term, s.billing_frequency) == (
        "active", "provisioned", "direct", True, "card", "P1Y", "monthly")
    assert s.payment_method == t.payment_methods.get()  # the tenant's card
    assert s.start_date == clock.today()
    assert list(s.addons.all()) == []
    assert DirectoryUser.objects.get(upn="bo@tiny.example").display_name == "bo"
    assert not get_user_model().objects.get(username="a@tiny.example").has_usable_password()


def _bad(mutate):
    data = copy.deepcopy(FULL)
    mutate(data)
    return data


def _t(data):
    return data["tenants"][0]


BAD = [
    ("unknown SKU", lambda d: _t(d)["subscriptions"][1].update(sku="FOO"),
     "tenants[0].subscriptions[1].sku: unknown SKU 'FOO'"),
    ("missing required field", lambda d: _t(d)["subscriptions"][0].pop("licenses"),
     "tenants[0].subscriptions[0].licenses: required field is missing"),
    ("unknown field", lambda d: _t(d)["users"][0].update(mail="x"),
     "tenants[0].users[0].mail: unknown field"),
    ("wrong type", lambda d: _t(d)["subscriptions"][0].update(licenses="25"),
     "tenants[0].subscriptions[0].licenses: must be an integer, not str '25'"),
    ("negative licenses", lambda d: _t(d)["subscriptions"][0].update(licenses=-1),
     "tenants[0].subscriptions[0].licenses: -1 is less than the minimum of 0"),
    ("bad enum", lambda d: _t(d).update(kind="charity"),
     "tenants[0].kind: 'charity' is not one of: commercial, government, nonprofit"),
    ("bad date form", lambda d: d.update(clock="15/06/2026"),
     "clock: '15/06/2026' is not a date (YYYY-MM-DD)"),
    ("impossible date", lambda d: _t(d)["subscriptions"][0].update(start_date="2026-02-30"),
     "tenants[0].subscriptions[0].start_date: '2026-02-30' is not a date (YYYY-MM-DD)"),
    ("bad money", lambda d: _t(d)["invoices"][0].update(amount="312.5"),
     "tenants[0].invoices[0].amount: '312.5' is not money (a string with 2 decimals, like \"312.50\")"),
    ("money as a number", lambda d: _t(d)["invoices"][0].update(amount=312.50),
     "tenants[0].invoices[0].amount: must be a string, not float 312.5"),
    ("overpaid invoice", lambda d: _t(d)["invoices"][0].update(paid="400.00"),
     "tenants[0].invoices[0].paid: is more than the amount 312.50"),
    ("due before date", lambda d: _t(d)["invoices"][0].update(due_date="2026-04-01"),
     "tenants[0].invoices[0].due_date: is before the invoice date"),
    ("dangling payment method", lambda d: _t(d)["subscriptions"][0].update(payment_method="amex"),
     "tenants[0].subscriptions[0].payment_method: no payment method with key 'amex'"),
    ("dangling billing profile", lambda d: _t(d)["subscriptions"][0].update(billing_profile="other"),
     "tenants[0].subscriptions[0].billing_profile: no billing profile with key 'other'"),
    ("dangling license", lambda d: _t(d)["users"][1]["licenses"][0].update(subscription="nope"),
     "tenants[0].users[1].licenses[0].subscription: no subscription with key 'nope'"),
    ("dangling generated license", lambda d: _t(d)["generate_users"][0].update(subscription="nope"),
     "tenants[0].generate_users[0].subscription: no subscription with key 'nope'"),
    ("disabled plan not in product", lambda d: _t(d)["users"][0]["licenses"][0].update(disabled_plans=["INTUNE_A"]),
     "tenants[0].users[0].licenses[0].disabled_plans[0]: 'INTUNE_A' is not a service plan of Microsoft 365 Business Standard"),
    ("unknown add-on", lambda d: _t(d)["subscriptions"][0].update(addons=["FAX"]),
     "tenants[0].subscriptions[0].addons[0]: unknown add-on 'FAX'"),
    ("duplicate subscription key", lambda d: _t(d)["subscriptions"][1].update(key="std"),
     "tenants[0].subscriptions[1].key: key 'std' appears twice"),
    ("duplicate user", lambda d: _t(d)["users"][1].update(upn="alice@contoso.com"),
     "tenants[0].users[1].upn: user 'alice@contoso.com' appears twice"),
    ("user outside the domain", lambda d: _t(d)["users"][1].update(upn="bob@fabrikam.com"),
     "tenants[0].users[1].upn: 'bob@fabrikam.com' is not in the tenant's domain 'contoso.com'"),
    ("uppercase upn", lambda d: _t(d)["users"][1].update(upn="Bob@contoso.com"),
     "tenants[0].users[1].upn: 'Bob@contoso.com' must be lowercase"),
    ("generated users clash", lambda d: _t(d)["users"][1].update(upn="user7@contoso.com"),
     "tenants[0].generate_users[0].prefix: generated users would clash with 'user7@contoso.com'"),
    ("card without digits", lambda d: _t(d)["payment_methods"][0].pop("last4"),
     "tenants[0].payment_methods[0].last4: a card needs its last four digits"),
    ("two defaults", lambda d: _t(d)["payment_methods"][1].update(default=True),
     "tenants[0].payment_methods[1].default: only one payment method can be the default"),
    ("profile on MOSA", lambda d: _t(d).update(agreement="MOSA"),
     "tenants[0].billing_profiles: only an MCA tenant has billing profiles (set \"agreement\": \"MCA\")"),
    ("MCA without profile", lambda d: (_t(d).update(billing_profiles=[]), _t(d)["subscriptions"][0].pop("billing_profile"),
                                       _t(d)["invoices"][0].pop("billing_profile")),
     "tenants[0].billing_profiles: an MCA tenant needs a billing profile"),
    ("over the product's maximum", lambda d: _t(d)["subscriptions"][0].update(licenses=301),
     "tenants[0].subscriptions[0].licenses: Microsoft 365 Business Standard allows at most 300 licenses"),
    ("P1M billed annually", lambda d: _t(d)["subscriptions"][1].update(billing_frequency="annual"),
     "tenants[0].subscriptions[1].billing_frequency: a monthly commitment (P1M) is billed monthly"),
    ("unknown role", lambda d: _t(d)["admins"][0].update(roles=["owner"]),
     "tenants[0].admins[0].roles[0]: 'owner' is not one of: global_admin, billing_admin, license_admin, "
     "user_admin, global_reader, service_support_admin"),
    ("no roles", lambda d: _t(d)["admins"][0].update(roles=[]),
     "tenants[0].admins[0].roles: [] should be non-empty"),
    ("duplicate username", lambda d: d["support_staff"][0].update(username="admin@contoso.com"),
     "support_staff[0].username: username 'admin@contoso.com' appears twice"),
    ("duplicate token", lambda d: d["support_staff"][0].update(api_token="fixed-token-for-contoso-admin"),
     "support_staff[0].api_token: this API token is already in use"),
    ("unknown incident service", lambda d: _t(d)["incidents"][0].update(service="email"),
     "tenants[0].incidents[0].service: 'email' is not one of: exchange, exchange_archiving, sharepoint, "
     "onedrive, viva_engage, teams, office_web, office_desktop, intune, entra, defender"),
    ("two live changes", lambda d: _t(d)["plan_changes"].append({"subscription": "std", "target_sku": "SPE_E3", "status": "queued"}),
     "tenants[0].plan_changes[1].subscription: a subscription has at most one scheduled or queued change"),
    ("tenants not a list", lambda d: d.update(tenants={}),
     "tenants: must be an array, not dict {}"),
]


@pytest.mark.parametrize(("mutate", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_scenario_is_refused_with_the_path_and_loads_nothing(mutate, message):
    before = snapshot()
    with pytest.raises(ScenarioError) as excinfo:
        scenario_load(_bad(mutate))
    assert message in excinfo.value.errors
    assert snapshot() == before


def test_every_error_of_a_file_is_reported_at_once():
    def two_errors(d):
        _t(d)["subscriptions"][1]["sku"] = "FOO"
        _t(d)["invoices"][0]["paid"] = "999.00"

    with pytest.raises(ScenarioError) as excinfo:
        scenario_load(_bad(two_errors))
    assert excinfo.value.errors == [
        "tenants[0].subscriptions[1].sku: unknown SKU 'FOO'",
        "tenants[0].invoices[0].paid: is more than the amount 312.50",
    ]


def test_an_existing_tenant_or_login_is_refused():
    scenario_load(copy.deepcopy(FULL))
    before = snapshot()
    with pytest.raises(ScenarioError) as excinfo:
        scenario_load(copy.deepcopy(FULL))
    assert "tenants[0].domain: a tenant with domain 'contoso.com' already exists" in excinfo.value.errors
    assert "tenants[0].admins[0].username: a login named 'admin@contoso.com' already exists" in excinfo.value.errors
    assert "tenants[0].invoices[0].number: invoice number 'INV-1001' already exists" in excinfo.value.errors
    assert snapshot() == before


def test_a_failure_while_writing_rolls_everything_back(monkeypatch):
    """Even an error validation did not foresee leaves nothing behind, clock included."""
    from simulation.scenarios import loader

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "plan_changes_load", explode)
    before = snapshot()
    clock_before = clock.today()
    with pytest.raises(RuntimeError):
        scenario_load(copy.deepcopy(FULL))
    assert snapshot() == before
    assert clock.today() == clock_before


def test_command_loads_files_and_prints_what_it_created(tmp_path, capsys):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(FULL))
    call_command("load_scenario", str(path))
    out = capsys.readouterr().out
    assert f"{path}: loaded in" in out
    assert "clock set to 2026-06-15" in out
    assert "tenant Contoso (contoso.com, MCA, commercial): 2 subscriptions, 32 users, 2 admins, 1 invoices, 1 credit checks, 1 incidents" in out
    assert "support staff support@portal.local" in out


@pytest.mark.parametrize(("content", "message"), [
    ('{"tenants": [', "(file): not valid JSON: Expecting value (line 1, column 14)"),
    ('[1, 2]', "(file): a scenario is a JSON object"),
    (json.dumps({"tenants": [{"name": "X", "domain": "x.example",
                              "subscriptions": [{"key": "a", "sku": "FOO", "licenses": 1}]}]}),
     "tenants[0].subscriptions[0].sku: unknown SKU 'FOO'"),
])
def test_command_refuses_a_bad_file_naming_the_field(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(FULL))
    before = Tenant.objects.count()
    with pytest.raises(CommandError, match="1 of 2 file"):
        call_command("load_scenario", str(bad), str(good))
    err = capsys.readouterr().err
    assert f"{bad}: refused, nothing loaded" in err
    assert f"  {message}" in err
    assert Tenant.objects.count() == before + 1  # the good file still loads; nothing of the bad one


def test_command_once_skips_a_file_already_loaded(tmp_path, capsys):
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(FULL))
    call_command("load_scenario", "--once", str(path))
    call_command("load_scenario", "--once", str(path))
    assert f"{path}: already loaded, skipped" in capsys.readouterr().out
    assert Tenant.objects.filter(domain="contoso.com").count() == 1


def test_command_exits_non_zero_from_the_shell(tmp_path):
    """The exit status scripts see (not only Python's exception)."""
    import subprocess
    import sys

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tenants": [{"name": "X", "domain": "x.example", "colour": "red"}]}))
    result = subprocess.run(
        [sys.executable, "manage.py", "load_scenario", str(bad)], capture_output=True, text=True,
        env={**__import__("os").environ, "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3")},
        check=False,
    )
    # The database is empty (no tables), yet the bad field is reported before anything is written.
    assert result.returncode != 0
    assert "tenants[0].colour: unknown field" in result.stderr


def test_generate_users_makes_users_with_licenses_in_bulk(django_assert_max_num_queries):
    data = {"tenants": [{
        "name": "Big", "domain": "big.example",
        "subscriptions": [{"key": "e3", "sku": "ENTERPRISEPACK", "licenses": 10000}],
        "generate_users": [{"count": 10000, "subscription": "e3", "prefix": "user"}],
    }]}
    # Bulk inserts: SQLite caps the variables per statement (a few hundred rows a batch),
    # so about 100 queries here, against 20,000 for a query per row.
    with django_assert_max_num_queries(250):
        scenario_load(data)
    sub = Subscription.objects.get(tenant__domain="big.example")
    assert DirectoryUser.objects.filter(tenant=sub.tenant).count() == 10000
    assert LicenseAssignment.objects.filter(subscription=sub).count() == 10000
    assert DirectoryUser.objects.get(upn="user10000@big.example").display_name == "User 10000"
    assert DirectoryUser.objects.get(upn="user1@big.example").licenses.get().subscription == sub


@pytest.mark.parametrize("path", sorted(__import__("pathlib").Path("scenarios").glob("*.json")), ids=str)
def test_shipped_scenarios_load(path):
    from simulation.scenarios.loader import scenario_load_file

    report = scenario_load_file(path)
    assert report.tenants


def test_a_scenario_earlier_than_the_clock_is_shifted_forward_and_the_clock_never_goes_back(tmp_path, capsys):
    """Training file at 2026-06-15 after support moved time to 2027-10-01: the tenant stands as the file
    describes relative to today (every date 473 days later), and the clock stays where it was."""
    clock.set_date(date(2027, 10, 1))
    path = tmp_path / "training.json"
    path.write_text(json.dumps(FULL))
    call_command("load_scenario", str(path))
    out = capsys.readouterr().out
    assert ("clock stays at 2027-10-01 (the file's 2026-06-15 is earlier; time never runs back): "
            "every date of the file moved forward 473 days") in out
    assert clock.today() == date(2027, 10, 1)
    std = Subscription.objects.get(product__sku="O365_BUSINESS_PREMIUM")
    assert std.start_date == date(2027, 4, 19)  # 2026-01-01 + 473 days
    invoice = Invoice.objects.get(number="INV-1001")
    assert (invoice.date, invoice.due_date) == (date(2027, 8, 17), date(2027, 9, 16))
    assert CreditCheck.objects.get().requested == date(2027, 9, 30)
    assert PlanChange.objects.get().scheduled_for == date(2028, 4, 19)  # std's renewal, from its shifted start


def test_a_later_scenario_moves_the_clock_forward_and_one_with_no_clock_row_sets_it():
    scenario_load({"clock": "2026-06-15", "tenants": []})
    assert clock.today() == date(2026, 6, 15)
    scenario_load({"clock": "2026-09-01", "tenants": []})
    assert clock.today() == date(2026, 9, 1)


def test_a_scenario_whose_dates_would_pass_the_end_of_time_once_shifted_is_refused():
    clock.set_date(date(2099, 6, 1))
    shift = (date(2099, 6, 1) - date(2026, 6, 15)).days
    data = copy.deepcopy(FULL)
    data["tenants"][0]["invoices"][0]["due_date"] = "2027-01-15"
    with pytest.raises(ScenarioError) as refused:
        scenario_load(data)
    moved = date(2027, 1, 15) + timedelta(days=shift)
    assert refused.value.errors == [
        f"tenants[0].invoices[0].due_date: '2027-01-15' would be {moved.isoformat()} once the file's dates move "
        f"forward {shift} days, after 2099-12-31, the end of the simulation's time",
    ]
    assert Tenant.objects.count() == 0
    assert clock.today() == date(2099, 6, 1)


@pytest.mark.parametrize("field", ["clock", "start_date"])
def test_dates_past_2099_are_refused(field):
    data = copy.deepcopy(FULL)
    if field == "clock":
        data["clock"] = "9999-06-01"
    else:
        data["tenants"][0]["subscriptions"][0]["start_date"] = "9999-01-01"
    with pytest.raises(ScenarioError) as refused:
        scenario_load(data)
    where = "clock" if field == "clock" else "tenants[0].subscriptions[0].start_date"
    assert f"{where}: '9999-" in refused.value.errors[0]
    assert "is after 2099-12-31, the end of the simulation's time" in refused.value.errors[0]
