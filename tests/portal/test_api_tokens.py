"""API tokens (issue 12 item 4): made with a name and an optional expiry, shown once, several per
admin, stored hashed, listed with their last use, revoked with effect on the very next request;
``create_api_token`` and the tokens from before keep working."""

import re
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from portal import tokens
from portal.models import ApiToken, Event
from portal.services import api_token_create
from tests.factories import LoginFactory, TenantFactory, admin_of, token_for

pytestmark = pytest.mark.django_db

NEW_TOKEN = re.compile(r"pcp_[A-Za-z0-9]{48}")


def client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def assert_problem(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"], body["type"]) == (status, code, f"/api/problems/{code}")
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def admin():
    return admin_of(TenantFactory(name="Contoso", domain="contoso.example"))


def make(api, name, **body):
    response = api.post("/api/v1/tokens/", {"name": name, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_token_is_shown_once_and_stored_only_as_its_digest(admin):
    api = client(token_for(admin))
    made = make(api, "Nightly report")
    assert NEW_TOKEN.fullmatch(made["token"])
    assert set(made) == {"id", "name", "token", "created", "expires"} and made["expires"] is None
    row = ApiToken.objects.get(pk=made["id"])
    assert row.digest == tokens.digest(made["token"]) and row.key_id == made["token"][:12]
    # Nowhere in the database: not in any column of the token table, not in the audit trail.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_apitoken")
        stored = " ".join(str(v) for r in cursor.fetchall() for v in r)
    assert made["token"] not in stored and made["token"][12:] not in stored
    assert made["token"][12:] not in str(list(Event.objects.values_list("data", flat=True)))
    # The list never shows it again.
    listed = api.get("/api/v1/tokens/").json()
    assert made["token"][12:] not in str(listed)
    assert client(made["token"]).get("/api/v1/me/").json()["username"] == admin.username


def test_an_admin_holds_several_tokens_and_each_works(admin):
    api = client(token_for(admin))
    made = [make(api, f"Script {n}") for n in range(3)]
    assert len({m["token"] for m in made}) == 3
    for m in made:
        assert client(m["token"]).get("/api/v1/me/").status_code == 200
    listed = api.get("/api/v1/tokens/").json()
    assert listed["count"] == 4  # the three and the one the test signs in with
    by_name = {t["name"]: t for t in listed["results"]}
    assert {"Script 0", "Script 1", "Script 2", "default"} == set(by_name)
    assert set(by_name["Script 0"]) == {"id", "name", "prefix", "created", "expires", "last_used", "revoked", "status"}
    assert by_name["Script 1"]["prefix"] == made[1]["token"][:12] and by_name["Script 1"]["status"] == "active"


def test_a_revoked_token_gets_401_at_once(admin):
    signed_in = client(token_for(admin))
    doomed = make(signed_in, "Old laptop")
    other = make(signed_in, "CI")
    api = client(doomed["token"])
    assert api.get("/api/v1/me/").status_code == 200
    assert client(other["token"]).delete(f"/api/v1/tokens/{doomed['id']}/").status_code == 204
    # The very next request: 401, and it can't revoke anything any more.
    assert_problem(api.get("/api/v1/me/"), 401, "token_revoked")
    assert_problem(api.delete(f"/api/v1/tokens/{other['id']}/"), 401, "token_revoked")
    assert_problem(api.post("/api/v1/tokens/", {"name": "sneaky"}, format="json"), 401, "token_revoked")
    assert client(other["token"]).get("/api/v1/me/").status_code == 200
    assert ApiToken.objects.filter(name="sneaky").count() == 0
    listed = {t["name"]: t for t in signed_in.get("/api/v1/tokens/").json()["results"]}
    assert listed["Old laptop"]["status"] == "revoked" and listed["Old laptop"]["revoked"]
    # Revoking again is no change; the trail has one revocation, without the secret.
    assert client(other["token"]).delete(f"/api/v1/tokens/{doomed['id']}/").status_code == 204
    revoked = Event.objects.filter(verb="api_token.revoked")
    assert revoked.count() == 1
    assert revoked.get().data == {"username": admin.username, "name": "Old laptop"}
    created = Event.objects.get(verb="api_token.created", object_id=str(doomed["id"]))
    assert created.data == {"username": admin.username, "name": "Old laptop", "expires_at": None}


def test_an_expired_token_gets_401(admin):
    token, key = api_token_create(user=admin, name="Short-lived", expires_at=timezone.now() + timedelta(seconds=1))
    assert client(key).get("/api/v1/me/").status_code == 200
    time.sleep(1.2)
    assert_problem(client(key).get("/api/v1/me/"), 401, "token_expired")
    listed = {t["name"]: t for t in client(token_for(admin)).get("/api/v1/tokens/").json()["results"]}
    assert listed["Short-lived"]["status"] == "expired"


def test_an_expiry_is_in_the_future_and_at_most_a_year_ahead(admin):
    api = client(token_for(admin))
    today = timezone.now().date()
    made = make(api, "Quarter", expires=(today + timedelta(days=90)).isoformat())
    assert made["expires"] == f"{today + timedelta(days=90)}T00:00:00Z"
    tomorrow = timezone.now().replace(microsecond=0) + timedelta(days=1)
    made = make(api, "Exact", expires=tomorrow.astimezone(timezone.get_fixed_timezone(120)).isoformat())
    assert made["expires"] == tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ")  # an offset is kept as the same instant
    before = ApiToken.objects.count()
    assert_problem(api.post("/api/v1/tokens/", {"name": "x", "expires": today.isoformat()}, format="json"),
                   422, "api_token_expiry_past")
    assert_problem(api.post("/api/v1/tokens/", {"name": "x", "expires": "2020-01-01"}, format="json"),
                   422, "api_token_expiry_past")
    assert_problem(api.post("/api/v1/tokens/", {"name": "x", "expires": (today + timedelta(days=367)).isoformat()},
                            format="json"), 422, "api_token_expiry_too_far")
    for bad in ("tomorrow", "٢٠٢٦-٠٧-٠١", "2026-13-01", 20260701, "0000-01-01"):
        assert_problem(api.post("/api/v1/tokens/", {"name": "x", "expires": bad}, format="json"), 400, "invalid")
    for bad_name in ("", "x" * 101, "evil\u202eexe", None, ["a"]):
        assert_problem(api.post("/api/v1/tokens/", {"name": bad_name}, format="json"), 400, "invalid")
    assert ApiToken.objects.count() == before


def test_last_used_is_noted_at_most_once_a_minute(admin):
    token, key = api_token_create(user=admin, name="Poller")
    assert token.last_used_at is None
    api = client(key)
    assert api.get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me/").status_code == 200
    assert not [q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))  # a while ago
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/me/").status_code == 200
    assert len([q for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]) == 1
    token.refresh_from_db()
    assert token.last_used_at > first
    listed = {t["name"]: t for t in client(token_for(admin)).get("/api/v1/tokens/").json()["results"]}
    assert listed["Poller"]["last_used"]


def test_another_logins_token_is_a_404_like_a_missing_one(admin):
    mallory = admin_of(TenantFactory())
    theirs, their_key = api_token_create(user=mallory, name="Theirs")
    api = client(token_for(admin))
    foreign = assert_problem(api.delete(f"/api/v1/tokens/{theirs.pk}/"), 404, "api_token_not_found")
    missing = assert_problem(api.delete("/api/v1/tokens/999999/"), 404, "api_token_not_found")
    assert foreign == missing
    assert_problem(api.delete("/api/v1/tokens/abc/"), 404, "not_found")
    assert "Theirs" not in str(api.get("/api/v1/tokens/").json())
    assert client(their_key).get("/api/v1/me/").status_code == 200  # untouched


def test_a_token_acts_with_its_admins_roles(db):
    tenant = TenantFactory()
    reader = admin_of(tenant, "global_reader")
    made = make(client(token_for(reader)), "Reader's script")  # any role may hold tokens
    api = client(made["token"])
    assert api.get("/api/v1/subscriptions/").status_code == 200
    assert_problem(api.post("/api/v1/subscriptions/", {"sku": "SPB", "licenses": 1}, format="json"),
                   403, "permission_denied")


def test_support_staff_hold_tokens_of_their_own(db):
    staff = LoginFactory(is_staff=True)
    made = make(client(token_for(staff)), "Support scripts")
    assert client(made["token"]).get("/api/v1/support/tenants/").status_code == 200
    assert Event.objects.get(verb="api_token.created", object_id=str(made["id"])).tenant is None
    nobody = LoginFactory()  # neither an admin nor support: nothing a token could act on
    assert_problem(client(token_for(nobody)).post("/api/v1/tokens/", {"name": "x"}, format="json"),
                   403, "permission_denied")


def test_the_session_manages_tokens_too_with_csrf(admin):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    assert browser.get("/api/v1/tokens/").status_code == 200
    assert browser.post("/api/v1/tokens/", {"name": "x"}, content_type="application/json").status_code == 403


def test_too_many_live_tokens_are_refused(admin):
    from portal import services

    for n in range(services.API_TOKENS_LIVE_MAX):
        ApiToken.objects.create(user=admin, name=f"t{n}", key_id=f"pcp_{n:08d}", digest=f"{n:064d}",
                                created_at=timezone.now())
    api = APIClient()
    api.force_authenticate(admin)
    assert_problem(api.post("/api/v1/tokens/", {"name": "one more"}, format="json"), 409, "api_token_limit")


def test_the_schema_documents_the_tokens_endpoints(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    tokens_path, one = schema["paths"]["/api/v1/tokens/"], schema["paths"]["/api/v1/tokens/{id}/"]
    assert set(tokens_path) >= {"get", "post"} and set(one) == {"delete"}
    assert {"201", "400", "401", "409", "422"} <= set(tokens_path["post"]["responses"])
    assert {"204", "404"} <= set(one["delete"]["responses"])
    assert tokens_path["post"]["description"] and one["delete"]["description"]
    created = tokens_path["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema["components"]["schemas"][created.rsplit("/", 1)[1]]["properties"]) == {
        "id", "name", "token", "created", "expires"}


# --- create_api_token and the tokens from before ---------------------------------------------------


def test_create_api_token_prints_a_working_token_and_name_adds_another(admin, capsys):
    call_command("create_api_token", admin.username)
    first = capsys.readouterr().out.strip()
    assert NEW_TOKEN.fullmatch(first)
    assert client(first).get("/api/v1/me/").status_code == 200
    call_command("create_api_token", admin.username, "--name", "Backup job")
    named = capsys.readouterr().out.strip()
    assert client(named).get("/api/v1/me/").status_code == 200
    assert client(first).get("/api/v1/me/").status_code == 200  # --name leaves the default one alone
    call_command("create_api_token", admin.username)  # as before: replaces the command's own token
    second = capsys.readouterr().out.strip()
    assert_problem(client(first).get("/api/v1/me/"), 401, "token_revoked")
    assert client(second).get("/api/v1/me/").status_code == 200
    assert client(named).get("/api/v1/me/").status_code == 200
    assert sorted(ApiToken.objects.filter(user=admin, revoked_at__isnull=True).values_list("name", flat=True)) == [
        "Backup job", "default"]


def test_a_scenarios_fixed_token_is_stored_hashed_and_works(db):
    from simulation.scenarios import scenario_load

    scenario_load({"tenants": [{"name": "Tiny", "domain": "tiny.example", "admins": [
        {"username": "admin@tiny.example", "roles": ["global_admin"], "api_token": "0123456789abcdef0123456789abcdef01234567"}]}]})
    row = ApiToken.objects.get(user__username="admin@tiny.example")
    assert row.key_id.startswith("~") and "0123" not in row.key_id and row.prefix == ""
    assert client("0123456789abcdef0123456789abcdef01234567").get("/api/v1/me/").json()["username"] == (
        "admin@tiny.example")
    assert_problem(client("0123456789abcdef0123456789abcdef01234568").get("/api/v1/me/"), 401,
                   "authentication_failed")


TABLE_SQL = {
    "sqlite": 'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, "created" datetime NOT NULL, '
              '"user_id" integer NOT NULL UNIQUE)',
    "postgresql": 'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
                  '"created" timestamp with time zone NOT NULL, "user_id" integer NOT NULL UNIQUE)',
}


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_drf_keys_into_hashed_rows_that_keep_working():
    """A database from before: DRF's authtoken table with a plaintext key. Migrating moves it into an
    ApiToken row (its digest only), empties the plaintext table, and the old key still signs in."""
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    executor = MigrationExecutor(connection)
    executor.migrate([("portal", "0004_service_names_of_the_catalog")])
    try:
        admin = admin_of(TenantFactory(name="Old", domain="old.example"))
        with connection.cursor() as cursor:
            cursor.execute(TABLE_SQL[connection.vendor])
            cursor.execute('INSERT INTO authtoken_token ("key", "created", "user_id") VALUES (%s, %s, %s)',
                           [old_key, "2025-03-01 10:00:00", admin.pk])
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
        row = ApiToken.objects.get(user=admin)
        assert (row.name, row.digest, row.revoked_at, row.expires_at) == ("default", tokens.digest(old_key), None, None)
        assert row.created_at.isoformat() == "2025-03-01T10:00:00+00:00"
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0  # no plaintext left at rest
            cursor.execute("SELECT * FROM portal_apitoken")
            assert old_key not in str(cursor.fetchall())
        assert client(old_key).get("/api/v1/me/").json()["username"] == admin.username
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS authtoken_token")
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- Found by probing (probe1) ---------------------------------------------------------------------


def test_a_token_cannot_make_a_token_that_outlives_it(admin):
    """A stolen 30-day token must not be turned into one without an expiry (or a longer one)."""
    in_30_days = timezone.now().replace(microsecond=0) + timedelta(days=30)
    short, short_key = api_token_create(user=admin, name="CI, 30 days", expires_at=in_30_days)
    api = client(short_key)
    before = ApiToken.objects.count()
    for body in ({}, {"expires": None}, {"expires": (in_30_days + timedelta(seconds=1)).isoformat()},
                 {"expires": (timezone.now() + timedelta(days=365)).date().isoformat()}):
        refused = assert_problem(api.post("/api/v1/tokens/", {"name": "forever", **body}, format="json"),
                                 422, "api_token_expiry_too_far")
        assert refused["field"] == "expires" and in_30_days.strftime("%Y-%m-%d %H:%M") in refused["detail"]
    assert ApiToken.objects.count() == before
    assert not Event.objects.filter(verb="api_token.created", data__name="forever").exists()
    # Up to its own expiry is fine; so is anything from a token without one, or from the session.
    assert make(api, "CI, rotated", expires=in_30_days.isoformat())["expires"] == in_30_days.strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert make(client(token_for(admin)), "forever")["expires"] is None
    from django.test import Client
    browser = Client()
    browser.force_login(admin)
    assert browser.post("/api/v1/tokens/", {"name": "from the browser"}, content_type="application/json",
                        ).json()["expires"] is None


def test_a_token_cannot_make_a_token_that_outlives_it_in_swedish(admin):
    _token, key = api_token_create(user=admin, name="Kort", expires_at=timezone.now() + timedelta(days=1))
    refused = client(key).post("/api/v1/tokens/", {"name": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="sv")
    assert_problem(refused, 422, "api_token_expiry_too_far")
    assert refused.json()["detail"].startswith("En token som skapas med en API-token")


def test_a_bearer_header_is_told_to_use_token(admin):
    """Many REST clients send ``Bearer`` by default; it got "credentials were not provided"."""
    _token, key = api_token_create(user=admin, name="Postman")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    before = ApiToken.objects.count()
    refused = assert_problem(api.post("/api/v1/tokens/", {"name": "x"}, format="json"), 401, "authentication_failed")
    assert refused["detail"] == "Send the token as Authorization: Token <token>, not Bearer."
    assert ApiToken.objects.count() == before and ApiToken.objects.get(name="Postman").last_used_at is None
    sv = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="sv")
    assert assert_problem(sv, 401, "authentication_failed")["detail"].startswith("Skicka token som Authorization: Token")
    # The same token with the scheme the portal uses, lowercase too, works.
    for scheme in ("Token", "token"):
        api.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert api.get("/api/v1/me/").status_code == 200


def test_a_bad_expiry_is_explained_wholly_in_swedish(admin):
    """The formats were named with an English "or" inside the Swedish sentence."""
    api = client(token_for(admin))
    for bad in ("2026-13-40", "2027-02-29", "next week"):
        refused = api.post("/api/v1/tokens/", {"name": "x", "expires": bad}, format="json", HTTP_ACCEPT_LANGUAGE="sv")
        message = assert_problem(refused, 400, "invalid")["errors"]["expires"][0]
        assert "ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DDThh:mm" in message and " or " not in message
    english = api.post("/api/v1/tokens/", {"name": "x", "expires": "2026-13-40"}, format="json")
    assert "YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|±hh:mm]" in english.json()["errors"]["expires"][0]
