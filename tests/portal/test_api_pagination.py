"""Lists are paginated (docs/api.md "Pagination"): ``count``, ``next``, ``previous``, ``results``. A first page
that holds the whole list knows its count without asking the database to count (issue 24 part 3); any other
page counts, and every page says the same count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import SubscriptionFactory, TenantFactory, admin_of, product, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api):
    tenant = TenantFactory(domain="paged.example")
    for _ in range(5):
        SubscriptionFactory(tenant=tenant, product=product("O365_BUSINESS_PREMIUM"), licenses=1)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    api.get("/api/v1/subscriptions/")  # the token read and kept
    return api


def page(api, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/subscriptions/{query}")
    assert response.status_code == 200, response.content
    counted = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    body = response.json()
    return (body["count"], len(body["results"]), bool(body["next"]), bool(body["previous"])), len(counted)


def test_a_first_page_holding_the_whole_list_counts_without_a_count_query(api):
    assert page(api) == ((5, 5, False, False), 0)
    assert page(api, "?page=1&page_size=6") == ((5, 5, False, False), 0)


def test_a_full_first_page_and_later_pages_count(api):
    assert page(api, "?page_size=5") == ((5, 5, False, False), 1)  # full: there might be more
    assert page(api, "?page_size=2") == ((5, 2, True, False), 1)
    assert page(api, "?page=2&page_size=2") == ((5, 2, True, True), 1)
    assert page(api, "?page=3&page_size=2") == ((5, 1, False, True), 1)
    assert api.get("/api/v1/subscriptions/?page=4&page_size=2").status_code == 404


def test_an_empty_list_is_a_first_page_of_nothing(api):
    tenant = TenantFactory(domain="empty.example")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(admin_of(tenant))}")
    assert page(api) == ((0, 0, False, False), 0)
    assert api.get("/api/v1/subscriptions/?page=2").status_code == 404
