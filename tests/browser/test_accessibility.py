"""Pages for everyone (issue 24): axe-core finds nothing serious or critical on any page the Swedish sweep
renders, in Swedish and in English, tenant and support pages alike: each layout of each language (in one language,
two pages whose markup differs only in words and numbers are one layout: 148 of 376 tenant pages; each costs
axe-core about a quarter of a second, and the Swedish sweep of every single page took CI's SQLite lane over
15 minutes).

Each page is the portal's own answer, as tests/test_swedish_sweep.py gets it (GETs and the answers to its
POSTs: a token made, a refusal beside its field), given to Chromium at its own URL with its own headers
(the Content-Security-Policy among them), so that the browser renders it with the portal's CSS and
scripts from the live server, signed in with the same session. axe-core (the axe-playwright-python
package) is injected through the test's browser, never served by the portal: the CSP stays as it is."""

import hashlib
import json
import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import resolve

from portal.models import Tenant
from tests.test_swedish_sweep import PAGES, SCENARIOS, _support_pages, _sweep, _world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SERIOUS = {"serious", "critical"}
HEADERS = ("content-type", "content-security-policy")
# axe.run as Axe.run does, in the page; what comes back is each violation of the impacts asked for (its first
# three nodes' targets).
VIOLATIONS = """impacts => axe.run({resultTypes: ["violations"]}).then(results => results.violations
  .filter(v => impacts.includes(v.impact))
  .map(v => ({id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map(n => n.target)})))"""


class Renderer:
    """One browser page that shows the test client's answers at their URLs."""

    def __init__(self, context, live_server, client):
        self.context, self.base, self.client = context, live_server.url, client
        self.answers: dict[str, object] = {}
        self.static: dict[str, dict] = {}
        self.session = None
        context.route(f"{self.base}/**", self._route)
        self.axe = Axe()
        # axe-core given to every document once, by the browser itself (not sent over CDP again for each page)
        context.add_init_script(self.axe.axe_script)
        self.page = context.new_page()

    def _route(self, route):
        url = route.request.url
        answer = self.answers.pop(url, None)
        if answer is not None and route.request.resource_type == "document":
            route.fulfill(status=answer.status_code, body=answer.content,
                          headers={k: v for k, v in answer.items() if k.lower() in HEADERS})
        elif urlsplit(url).path.startswith(settings.STATIC_URL):
            # A route turns the browser's HTTP cache off: the live server sends each static file once, not
            # with each of some 400 pages (the same bytes, kept here).
            if url not in self.static:
                fetched = route.fetch()
                self.static[url] = {"status": fetched.status, "headers": fetched.headers, "body": fetched.body()}
            route.fulfill(**self.static[url])
        else:
            route.continue_()

    def violations(self, response) -> list[str]:
        """The serious and critical violations axe-core finds on the page of ``response``."""
        query = response.request.get("QUERY_STRING", "")
        url = f"{self.base}{response.request['PATH_INFO']}{'?' + query if query else ''}"
        session = self.client.cookies.get(settings.SESSION_COOKIE_NAME)
        if session and session.value != self.session:  # the browser signs in as the test client did
            self.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session.value,
                                       "url": self.base}])
            self.session = session.value
        self.answers[url] = response
        self.page.goto(url)
        # axe-core's whole answer (every rule, passed ones too) is tens of kilobytes to carry back for each
        # page: the browser keeps only the violations this test reports.
        found = self.page.evaluate(VIOLATIONS, sorted(SERIOUS))
        return [f"{v['id']} ({v['impact']}): {v['targets']}" for v in found]


def is_document(response) -> bool:
    """A page, not a fragment that a page's script puts into itself (a change's progress, the pane's quote:
    axe sees them inside their pages)."""
    return response.content.lstrip()[:15].lower() == b"<!doctype html>"


# The Swedish sweep in two halves about as long, each a case CI can put in either lane (tests/conftest.py
# RUN_ONCE): the tenants of the first half of the scenario files, then those of the others with the support
# pages. Together: every page.
SUPPORT_HALF = "scenarios-2nd-half-and-support"
HALVES = {"scenarios-1st-half": SCENARIOS[:len(SCENARIOS) // 2], SUPPORT_HALF: SCENARIOS[len(SCENARIOS) // 2:]}
DEMO = "demo.json"  # its tenants have every kind of page (PAGES) between them, fragments too


def domains_of(files) -> set[str]:
    return {tenant["domain"] for path in files for tenant in json.loads(path.read_text())["tenants"]}


@pytest.mark.parametrize("half", HALVES)
def test_no_page_in_swedish_has_a_serious_or_critical_violation(chromium, live_server, client, half):
    """Every page of the Swedish sweep, tenant and support pages, each layout once: the tenants of one half of
    the scenario files (the support pages with the second half)."""
    _world()
    domains = domains_of(HALVES[half])
    assert set(Tenant.objects.values_list("domain", flat=True)) == domains_of(SCENARIOS)  # the halves: everyone
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="sv")
    renderer = Renderer(context, live_server, client)
    found, swept, checked, layouts, tenants, fragments = {}, set(), set(), set(), set(), 0

    def check(name, response):
        view = resolve(response.request["PATH_INFO"]).view_name
        swept.add(view)
        if not is_document(response):
            return 1
        if (shape := layout(response)) not in layouts:  # each Swedish layout once, as in English
            layouts.add(shape)
            checked.add(view)
            if violations := renderer.violations(response):
                found[name] = violations
        return 0

    try:
        for tenant, name, response in _sweep(client, "sv", domains):
            tenants.add(tenant.domain)
            fragments += check(f"{tenant.domain} {name}", response)
        support = _support_pages(client, "sv") if half == SUPPORT_HALF else []
        for name, response in support:
            check(f"support {name}", response)
    finally:
        context.close()
    assert tenants == domains  # every tenant of the half was swept
    assert support or half != SUPPORT_HALF  # the console, its filters, every change, the organizations
    assert swept - checked <= {"planchange:change-progress"}  # a fragment only; every page's kind seen by axe
    if DEMO in {path.name for path in HALVES[half]}:
        assert PAGES <= swept, PAGES - swept
        assert fragments > 0  # the progress and quote fragments, seen inside their pages
    assert found == {}, "\n".join(f"{page}: {violations}" for page, violations in found.items())


# What two pages' markup may differ in and still be one layout to axe-core in English: the words (every text
# node and the attributes that hold words, reduced to whether there are any) and the numbers (ids, counts,
# amounts, dates, a nonce). Markup, classes, styles, roles, labels' targets and the order of it all are kept.
WORDS = re.compile(r'\b(aria-label|title|placeholder|alt|value|content|nonce)="([^"]*)"')


def layout(response) -> str:
    body = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", response.content.decode(), flags=re.S)
    body = WORDS.sub(lambda m: f'{m[1]}="{"w" if m[2].strip() else ""}"', body)
    body = re.sub(r">([^<]*)<", lambda m: ">w<" if m[1].strip() else "><", body)
    return hashlib.sha256(re.sub(r"\d+", "0", body).encode()).hexdigest()


def test_no_page_in_english_has_a_serious_or_critical_violation(chromium, live_server, client):
    """The same pages in English, each layout once: of pages that differ only in their words and numbers (the
    same template in the same state: another subscription's page, another invoice), axe-core sees the first.
    Every page is rendered and every kind of page is checked (in Swedish too: each Swedish layout once)."""
    _world()
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en")
    renderer = Renderer(context, live_server, client)
    found, swept, checked, layouts, fragments = {}, set(), set(), set(), 0

    def check(name, response):
        view = resolve(response.request["PATH_INFO"]).view_name
        swept.add(view)
        if not is_document(response):
            return 1
        if (shape := layout(response)) not in layouts:
            layouts.add(shape)
            checked.add(view)
            if violations := renderer.violations(response):
                found[name] = violations
        return 0

    try:
        for tenant, name, response in _sweep(client, "en"):
            fragments += check(f"{tenant.domain} {name}", response)
        for name, response in _support_pages(client, "en"):
            check(f"support {name}", response)
    finally:
        context.close()
    assert PAGES <= swept, PAGES - swept
    assert fragments > 0  # the progress and quote fragments, seen inside their pages
    assert swept - checked == {"planchange:change-progress"}  # a fragment only; every page's kind seen by axe
    assert found == {}, "\n".join(f"{page}: {violations}" for page, violations in found.items())


def test_the_sweep_sees_a_serious_violation(chromium, live_server, client):
    """The control: a page with white text on the top bar's light blue (the Simulation badge before issue
    24, 3.72:1) is a serious color-contrast violation to the same renderer."""
    from django.http import HttpResponse

    context = chromium.new_context(locale="en")
    renderer = Renderer(context, live_server, client)
    page = HttpResponse('<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
                        '<p style="background:#0f6cbd;padding:8px"><span style="color:#fff;'
                        'background:rgba(255,255,255,.2);font-size:12px">Simulation</span></p></main></body></html>')
    page.request = {"PATH_INFO": "/control/", "QUERY_STRING": ""}
    try:
        assert [v.split(" ")[0] for v in renderer.violations(page)] == ["color-contrast"]
    finally:
        context.close()


PANE_RULES = {"aria-allowed-role", "landmark-no-duplicate-banner", "landmark-unique", "landmark-complementary-is-top-level"}


def test_the_panes_are_dialogs_without_a_second_banner(chromium, live_server, client):
    """Whatever their impact, none of the violations axe-core found on the MCA pane before issue 24 (an
    aside can't be a dialog; its header a second banner, not unique)."""
    from billing.models import Subscription
    from simulation.scenarios.loader import scenario_load_file

    scenario_load_file("scenarios/demo.json")
    premium = Subscription.objects.get(tenant__domain="fabrikam.com", product__sku="SPB")
    premium.subscription_addons.all().delete()
    context = chromium.new_context(locale="en")
    renderer = Renderer(context, live_server, client)
    client.force_login(get_user_model().objects.get(username="admin@fabrikam.com"))
    found = {}
    try:
        for name, url in (("change pane", f"/billing/products/{premium.pk}/change/"),
                          ("licenses pane", "/users/?pane=licenses&users=amir@fabrikam.com&action=replace")):
            response = client.get(url)
            assert response.status_code == 200 and b'role="dialog"' in response.content, name
            renderer.answers[f"{renderer.base}{url}"] = response
            renderer.page.goto(f"{renderer.base}{url}")
            violations = renderer.axe.run(renderer.page).response["violations"]
            found[name] = sorted({v["id"] for v in violations} & PANE_RULES)
    finally:
        context.close()
    assert found == {"change pane": [], "licenses pane": []}
