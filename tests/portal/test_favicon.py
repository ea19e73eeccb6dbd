"""Every page names the portal's icon, served from its own static files (no outside host)."""

import re
from pathlib import Path

import pytest

from tests.factories import TenantFactory, admin_of


@pytest.mark.django_db
def test_pages_name_the_portals_favicon_and_it_is_there(client, at_date):
    at_date("2026-06-15")
    pages = [client.get("/login/")]
    client.force_login(admin_of(TenantFactory()))
    pages += [client.get("/"), client.get("/billing/products/"), client.get("/health/")]
    for page in pages:
        html = page.content.decode()
        found = re.search(r'<link rel="icon" type="image/svg\+xml" href="/static/(portal/favicon\.svg)">', html)
        assert found, page.request["PATH_INFO"]
    icon = Path("static") / found.group(1)
    assert icon.read_text().lstrip().startswith("<svg") and "http://www.w3.org/2000/svg" in icon.read_text()
