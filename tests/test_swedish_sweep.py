"""The Swedish sweep: every tenant page, in Swedish, with the demo and every per-row scenario loaded
and the generated texts there to see (invoice and quote lines, credits, reversals, period charges,
account credit, a completed, a scheduled, a cancelled and a failed change with their activity),
shows none of the portal's own English.

What counts as English is built from the portal itself: every msgid of the Swedish catalog whose
msgstr differs, cut at its placeholders, markup and punctuation into phrases of two or more words,
plus single words of the texts it generates. What the portal never translates is taken out of a
page before looking: the catalog's product, service plan, service and add-on names, the scenarios'
own data (tenant names and domains, people's names, billing profile and card holder names, incident
titles, invoice descriptions a scenario typed), e-mail addresses and numbers. The control test
makes sure the list sees the English it looks for.
"""

import html
import json
import re
from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve, reverse

from billing.models import AddOnProduct, Invoice, Product, ServicePlan, Subscription
from billing.services import subscription_buy, subscription_cancel, subscription_licenses_change
from licensing.models import DirectoryUser
from planchange import workflow
from planchange.eligibility import eligibility_check
from planchange.models import PlanChange
from planchange.services import plan_change_cancel, plan_change_request
from portal import clock
from portal.models import ApiToken, Service, ServiceIncident, Tenant
from simulation.moves import clock_move
from simulation.scenarios.loader import scenario_load_file
from tests.factories import LicenseFactory

pytestmark = pytest.mark.django_db

SCENARIOS = sorted(Path("scenarios").glob("*.json"))
PO = Path("locale/sv/LC_MESSAGES/django.po")

# Single English words of the texts the portal generates: none is a Swedish word or part of a name
# once names are out ("plan", "period" and "total" are Swedish too, so they are not here).
ENGLISH_WORDS = {
    "license", "licenses", "licensed", "credit", "credited", "reversed", "paid", "unpaid", "unused", "used",
    "day", "days", "invoice", "invoices", "charge", "charges", "charged", "subscription", "subscriptions",
    "user", "users", "the", "and", "of", "for", "with", "is", "are", "to", "from", "was", "were", "has", "have",
    "active", "expired", "disabled", "deleted", "cancelled", "scheduled", "queued", "running", "completed",
    "failed", "pending", "approved", "rejected", "overdue", "refunded", "upcoming", "monthly", "annual",
    "annually", "month", "months", "year", "years", "renewal", "balance", "due", "amount", "account",
    "change", "changes", "reason", "removed", "bought", "added", "done", "skipped", "billed",
}

# The pages the sweep must have rendered (by URL name), each at least once.
PAGES = {
    "home", "billing:products", "planchange:subscription", "planchange:upgrades", "planchange:checkout",
    "planchange:change-option", "planchange:change", "planchange:change-progress", "billing:bills",
    "billing:invoice", "billing:setup", "users:active", "users:manage-licenses", "billing:purchase", "billing:change-manually",
    "health:service-health", "settings:api-tokens", "settings:webhooks", "settings:webhook", "settings:webhook-delete",
}


def _phrases(text: str) -> list[str]:
    """The phrases of two or more words in a msgid, cut at placeholders, markup and punctuation."""
    text = re.sub(r"%\([^)]*\)[sd]|%[sd]|\{\{[^}]*\}\}|\{[^}]*\}|<[^>]*>", "\n", text)
    out = []
    for part in re.split(r"[\n:;.!?()\"“”«»,—–/·›>]+", text):
        part = " ".join(part.split()).strip(" '’-")
        if len(re.findall(r"[A-Za-z][A-Za-z'’-]*", part)) >= 2:
            out.append(part)
    return out


def english_phrases() -> set[str]:
    """The portal's English: each msgid's phrases, where its Swedish differs and doesn't say the same."""
    phrases = set()
    for entry in polib.pofile(str(PO)):
        translated = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            if all(t == msgid for t in translated):
                continue  # the same in Swedish (a name, a code)
            swedish = " ".join(translated)
            phrases.update(p for p in _phrases(msgid) if p not in swedish)
    return phrases


def _names() -> list[str]:
    """What the sweep takes out of a page before looking: names the portal never translates and the
    scenarios' own data. Longest first, so a name inside a longer one goes with it."""
    names = {*Product.objects.values_list("name", flat=True), *ServicePlan.objects.values_list("name", flat=True),
             *AddOnProduct.objects.values_list("name", flat=True), *(str(label) for label in Service.labels),
             *Tenant.objects.values_list("name", flat=True), *Tenant.objects.values_list("domain", flat=True),
             *DirectoryUser.objects.values_list("display_name", flat=True),
             *ServiceIncident.objects.values_list("title", flat=True), *ApiToken.objects.values_list("name", flat=True),
             "Plan Change Portal"}
    for path in SCENARIOS:
        for tenant in json.loads(path.read_text())["tenants"]:
            names |= {p["name"] for p in tenant.get("billing_profiles", [])}
            names |= {m.get("holder_name", "") for m in tenant.get("payment_methods", [])}
            names |= {i.get("description", "") for i in tenant.get("invoices", [])}
    return sorted(filter(None, names), key=len, reverse=True)


ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"')


def page_words(response) -> str:
    """What a reader sees or hears of a page: its text and its labelling attributes."""
    body = response.content.decode()
    body = re.sub(r"<(script|style|code)[^>]*>.*?</\1>", " ", body, flags=re.S)  # code: identifiers
    attributes = " | ".join(ATTRIBUTES.findall(body))
    text = re.sub(r"<[^>]+>", " | ", body)
    return html.unescape(re.sub(r"\s+", " ", f"{text} | {attributes}"))


def english_in(text: str, names: list[str], phrases: set[str]) -> list[str]:
    text = re.sub(r"[\w.+-]+@[\w.-]+", " | ", text)  # e-mail addresses
    for name in names:
        text = text.replace(name, " | ")
    # Only a phrase in the text can be in it as words of their own: some 1,400 patterns, more than re's cache
    # holds, were compiled again for every page (most of the sweep's time).
    found = {p for p in phrases if p in text and re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)}
    found |= {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH_WORDS}
    return sorted(found)


# --- The world the sweep looks at ---------------------------------------------------------------


def _world() -> None:
    for path in SCENARIOS:
        scenario_load_file(path)
    contoso, fabrikam = Tenant.objects.get(domain="contoso.com"), Tenant.objects.get(domain="fabrikam.com")
    admin = get_user_model().objects.get(username="admin@contoso.com")
    std = Subscription.objects.get(tenant=contoso, product__sku="O365_BUSINESS_PREMIUM")
    basic = Subscription.objects.get(tenant=contoso, product__sku="O365_BUSINESS_ESSENTIALS")
    # Licenses bought and removed mid-period: the rest of the period reversed and charged anew.
    subscription_licenses_change(tenant=contoso, subscription_id=basic.pk, add=2, actor=admin.username)
    subscription_licenses_change(tenant=contoso, subscription_id=basic.pk, remove=1, actor=admin.username)
    # A subscription bought (its first period) and cancelled (its unused days credited).
    bought = subscription_buy(tenant=contoso, sku="O365_BUSINESS", licenses=1, term="P1Y",
                              billing_frequency="monthly", actor=admin.username)
    subscription_cancel(tenant=contoso, subscription_id=bought.pk, actor=admin.username)
    # A plan change done: the credit for the unused days and the new plan's charge.
    change = plan_change_request(tenant=contoso, user=admin, subscription_id=std.pk, target_sku="SPB")
    assert workflow.run(change.pk) == "completed"
    # Fabrikam (MCA): a change scheduled for the renewal and cancelled, then scheduled again.
    fab_admin = get_user_model().objects.get(username="admin@fabrikam.com")
    prem = Subscription.objects.get(tenant=fabrikam, product__sku="SPB")
    prem.subscription_addons.all().delete()
    cancelled = plan_change_request(tenant=fabrikam, user=fab_admin, subscription_id=prem.pk, target_sku="SPE_E3",
                                    schedule="renewal")
    plan_change_cancel(tenant=fabrikam, change_id=cancelled.pk, actor=fab_admin.username)
    plan_change_request(tenant=fabrikam, user=fab_admin, subscription_id=prem.pk, target_sku="SPE_E3",
                        schedule="renewal")
    # A month passes: periods charged, cards charged, refunds and account credit.
    clock_move(actor="support@portal.local", to=clock.today() + timedelta(days=35))
    # A change that fails on its inputs: a user got a license before the worker checked it.
    failed = plan_change_request(tenant=contoso, user=admin, subscription_id=basic.pk,
                                 target_sku="O365_BUSINESS_PREMIUM", licenses=basic.assigned_licenses)
    LicenseFactory(subscription=basic, user=DirectoryUser.objects.get(upn="cecilia@contoso.com"))
    assert workflow.run(failed.pk) == "failed"
    # Webhooks: one delivered on the first try, one failing after its retries (statuses and a timeout).
    _webhooks(contoso)


def _webhooks(tenant) -> None:
    from django.utils import timezone

    from tests.factories import webhook_endpoint
    from webhooks.models import Attempt, Delivery

    webhook_endpoint(tenant, url="https://93.184.215.14/erp", events=["plan_change.completed"], description="ERP")
    failing = webhook_endpoint(tenant, url="https://93.184.215.14/crm", status="failing",
                               failing_since=timezone.now())
    for n, delivery_status in enumerate(("delivered", "failed", "pending")):
        delivery = Delivery.objects.create(endpoint=failing, message_id=f"msg_sweep{n}", type="plan_change.failed",
                                           body="{}", status=delivery_status, next_attempt_at=timezone.now())
        for number, (code, kind) in enumerate(((503, ""), (None, "timeout"), (302, "redirect"), (200, "")), 1):
            Attempt.objects.create(delivery=delivery, number=number, attempted_at=timezone.now(), status_code=code,
                                   error_kind=kind, error="details")


class _Pager:
    """Pages as the tenant's Global admin sees them, in ``language``: (name, response) each."""

    def __init__(self, client, tenant: Tenant, language: str):
        self.client, self.tenant, self.language = client, tenant, language
        self.pages: list[tuple[str, object]] = []

    def get(self, url, data=None, **extra):
        return self.client.get(url, data, HTTP_ACCEPT_LANGUAGE=self.language, **extra)

    def post(self, url, data, follow=True):
        return self.client.post(url, data, HTTP_ACCEPT_LANGUAGE=self.language, follow=follow)

    def add(self, name: str, response) -> None:
        self.pages.append((name, response))

    def subscription_pages(self, subs) -> None:
        tenant, get = self.tenant, self.get
        for sub in subs:
            self.add(f"subscription {sub.pk}", get(reverse("planchange:subscription", args=[sub.pk])))
            self.add(f"upgrades {sub.pk}", get(reverse("planchange:upgrades", args=[sub.pk])))
            self.add(f"set-up {sub.pk}", get(reverse("billing:setup", args=[sub.pk])))
            eligibility = eligibility_check(subscription=sub)
            if tenant.has_billing_profile:
                url = reverse("planchange:change-option", args=[sub.pk])
                self.add(f"change pane {sub.pk}", get(url))
                self.add(f"change pane at renewal {sub.pk}", get(url, {"schedule": "renewal", "fragment": "quote"}))
                self.add(f"change pane, an offer not sold {sub.pk}", get(url, {"term": "P1M",
                                                                                "billing_frequency": "annual"}))
            elif eligibility.can_change_automatically and eligibility.recommended:
                url = reverse("planchange:checkout", args=[sub.pk, eligibility.recommended[0].product.sku])
                self.add(f"checkout {sub.pk}", get(url))
                self.add(f"checkout, an offer not sold {sub.pk}",
                         get(url, {"term": "P3Y", "billing_frequency": "monthly"}, follow=True))

    def change_and_invoice_pages(self) -> None:
        get = self.get
        for change in PlanChange.objects.filter(tenant=self.tenant).order_by("pk"):
            self.add(f"change {change.pk}", get(reverse("planchange:change", args=[change.pk])))
            self.add(f"change progress {change.pk}", get(reverse("planchange:change-progress", args=[change.pk])))
        self.add("bills", get(reverse("billing:bills")))
        for invoice in Invoice.objects.filter(tenant=self.tenant).order_by("pk"):
            self.add(f"invoice {invoice.number}", get(reverse("billing:invoice", args=[invoice.pk])))

    def user_pages(self, active) -> None:
        self.add("active users", self.get(reverse("users:active")))
        users = list(DirectoryUser.objects.filter(tenant=self.tenant, licenses__isnull=False).distinct()
                     .order_by("upn")[:2])
        if not (users and active):
            return
        upns = [u.upn for u in users]
        self.add("manage product licenses", self.get(reverse("users:active"),
                                                     {"pane": "licenses", "users": upns, "action": "replace"}))
        holding = users[0].licenses.values_list("subscription_id", flat=True).first()
        self.add("unassign review", self.post(reverse("users:manage-licenses"), {
            "action": "unassign", "users": upns[:1], "subscription": holding, "next": reverse("users:active")},
            follow=False))
        other = next((s for s in active if s.pk != holding), None)
        if other is not None:
            self.add("replace review", self.post(reverse("users:manage-licenses"), {
                "action": "replace", "users": upns[:1], "subscription": holding, "to_subscription": other.pk,
                "next": reverse("users:active")}, follow=False))

    def purchase_pages(self, subs) -> None:
        get = self.get
        self.add("purchase", get(reverse("billing:purchase")))
        self.add("purchase an order", get(reverse("billing:purchase"), {"sku": "SPB", "licenses": "2"}))
        self.add("purchase refused", get(reverse("billing:purchase"), {"sku": "SPB", "licenses": "0"}))
        self.add("change plans manually", get(reverse("billing:change-manually")))
        if len(subs) >= 2:
            self.add("change plans manually, a pair", get(reverse("billing:change-manually"),
                                                          {"from": subs[0].pk, "to": subs[-1].pk}))
        self.add("service health", get(reverse("health:service-health")))

    def settings_pages(self) -> None:
        """Settings > API tokens: the list, a token just made (shown once), a refusal beside its field; webhooks."""
        from webhooks.models import Endpoint

        get, post = self.get, self.post
        self.add("api tokens", get(reverse("settings:api-tokens")))
        self.add("api token made", post(reverse("settings:api-tokens"), {"name": "Nattlig rapport", "expiry": "90"},
                                        follow=False))
        self.add("api token refused", post(reverse("settings:api-tokens"), {
            "name": "Nattlig rapport", "expiry": "date", "expires_on": "2020-01-01"}, follow=False))
        self.add("webhooks", get(reverse("settings:webhooks")))
        self.add("webhooks, a refused URL", post(reverse("settings:webhooks"), {
            "url": "http://127.0.0.1/hook", "events": ["nope"], "description": "\u202e"}, follow=False))
        for endpoint in Endpoint.objects.filter(tenant=self.tenant).order_by("pk"):
            self.add(f"webhook {endpoint.pk}", get(reverse("settings:webhook", args=[endpoint.pk])))
            self.add(f"webhook delete {endpoint.pk}", get(reverse("settings:webhook-delete", args=[endpoint.pk])))
        if self.tenant.domain == "contoso.com":
            self.add("webhook added, its secret", post(reverse("settings:webhooks"), {
                "url": "https://93.184.215.14/new", "events": ["invoice.created"]}))

    def action_pages(self, active) -> None:
        """What a page says after an action (its messages and kept refusals)."""
        if active and not self.tenant.has_billing_profile:
            url = reverse("billing:licenses", args=[active[-1].pk])
            self.add("licenses bought", self.post(url, {"action": "buy", "count": "1"}))
            self.add("cancel unconfirmed", self.post(reverse("billing:cancel-subscription", args=[active[-1].pk]), {}))


def _pages(client, tenant: Tenant, language: str) -> list[tuple[str, object]]:
    """(name, response) of every page of the tenant, as its Global admin sees them."""
    pager = _Pager(client, tenant, language)
    pager.add("home", pager.get(reverse("home")))
    pager.add("products", pager.get(reverse("billing:products")))
    subs = list(Subscription.objects.filter(tenant=tenant).select_related("product").order_by("pk"))
    active = [s for s in subs if s.status == "active"]
    pager.subscription_pages(subs)
    pager.change_and_invoice_pages()
    pager.user_pages(active)
    pager.purchase_pages(subs)
    pager.settings_pages()
    pager.action_pages(active)
    return pager.pages


def _sweep(client, language: str, domains=None):
    for tenant in Tenant.objects.order_by("pk"):
        if domains and tenant.domain not in domains:
            continue
        admin = get_user_model().objects.filter(memberships__tenant=tenant, memberships__role="global_admin").first()
        client.force_login(admin)
        for name, response in _pages(client, tenant, language):
            assert response.status_code in (200, 400, 422), (tenant.domain, name, response.status_code)
            yield tenant, name, response


def test_every_tenant_page_in_swedish_shows_none_of_the_portals_english(client):
    _world()
    names, phrases = _names(), english_phrases()
    english, seen = {}, set()
    for tenant, name, response in _sweep(client, "sv"):
        seen.add(resolve(response.request["PATH_INFO"]).view_name)
        found = english_in(page_words(response), names, phrases)
        if found:
            english[f"{tenant.domain} {name}"] = found
    assert PAGES <= seen, PAGES - seen
    assert english == {}, "\n".join(f"{page}: {' | '.join(words)}" for page, words in english.items())


def test_the_sweep_sees_the_english_it_looks_for(client):
    """The control: the same pages in English are full of what the sweep looks for."""
    _world()
    names, phrases = _names(), english_phrases()
    assert {"unused days of", "Bills & payments", "Your products"} <= phrases
    for tenant, name, response in _sweep(client, "en", domains={"contoso.com", "fabrikam.com"}):
        found = english_in(page_words(response), names, phrases)
        assert found, (tenant.domain, name)
        if name.startswith("invoice") and response.context["invoice"].lines.filter(text="line.credit").exists():
            assert {"Credit", "unused", "days", "of"} <= set(found), (name, found)


def _support_pages(client, language: str) -> list[tuple[str, object]]:
    """(name, response) of support staff's pages in ``language``: the console with each filter, every
    change's timeline and trail (with a support action on it), the organizations, the API tokens."""
    from tests.factories import LoginFactory

    staff = get_user_model().objects.filter(is_staff=True).first() or LoginFactory(is_staff=True)
    change = PlanChange.objects.filter(status="scheduled").first()
    plan_change_cancel(tenant=change.tenant, change_id=change.pk, actor=staff.username, reason="Asked by phone",
                       by_support=True)
    client.force_login(staff)
    pages = [("console", client.get(reverse("support:console"), HTTP_ACCEPT_LANGUAGE=language))]
    for status in ("stalled", "stuck", "failed", "cancelled", "scheduled"):
        pages.append((f"console {status}", client.get(reverse("support:console"), {"status": status},
                                                      HTTP_ACCEPT_LANGUAGE=language)))
    pages.append(("tenants", client.get(reverse("support:tenants"), HTTP_ACCEPT_LANGUAGE=language)))
    pages.append(("tenant import", client.get(reverse("support:tenant-import"), HTTP_ACCEPT_LANGUAGE=language)))
    pages.append(("api tokens", client.get(reverse("settings:api-tokens"), HTTP_ACCEPT_LANGUAGE=language)))
    for each in PlanChange.objects.order_by("pk"):
        pages.append((f"change {each.pk}", client.get(reverse("support:change", args=[each.pk]),
                                                      HTTP_ACCEPT_LANGUAGE=language)))
    return pages


def test_every_support_page_in_swedish_shows_none_of_the_portals_english(client):
    """Support staff's pages too: the console with each filter, every change's timeline and trail (with
    a support action on it), and the organizations with their problems."""
    _world()
    pages = _support_pages(client, "sv")
    names, phrases = _names(), english_phrases()
    english = {name: found for name, response in pages
               if (found := english_in(page_words(response), names, phrases))}
    assert all(response.status_code == 200 for _name, response in pages)
    assert english == {}, "\n".join(f"{page}: {' | '.join(words)}" for page, words in english.items())
