"""Bad files get clear answers, in the reader's language, and change nothing: not JSON, not a Graph export,
wrong shapes (named by their JSON path), a user licensed for a SKU the file doesn't list, duplicate user
principal names, a file over the size limit, a million users."""

import json

import pytest
from django.utils import translation

from simulation.imports.convert import Choices
from simulation.imports.export_file import ExportRefused
from simulation.imports.service import tenant_import
from tests.simulation.conftest import counts, raw

pytestmark = pytest.mark.django_db
BASIC = "3b555118-da6a-4418-894f-7df1e2096870"


def refused(data: bytes, language: str = "en") -> ExportRefused:
    before = counts()
    with translation.override(language), pytest.raises(ExportRefused) as caught:
        tenant_import(actor="support@portal.local", raw=data, choices=Choices())
    assert counts() == before
    return caught.value


def test_not_json(db):
    error = refused(b'{"organization": ')
    assert (error.code, error.status) == ("import_not_json", 400)
    assert error.detail == "The file isn't JSON: Expecting value at line 1, column 18."
    assert refused(b"\xff\xfe").detail == "The file isn't text (UTF-8): it can't be a Graph export."


def test_not_a_graph_export(db):
    error = refused(raw({"clock": "2026-06-15", "tenants": []}))
    assert (error.code, error.status) == ("import_not_graph_export", 400)
    assert error.detail == ("This isn't an export of Microsoft Graph: it has none of organization, subscribedSkus "
                            "and users. examples/export_tenant.py writes one.")


def test_wrong_shapes_are_named_by_their_json_path(exported):
    data, _before = exported
    users = data["users"][0]["value"]
    users[1]["assignedLicenses"][0]["skuId"] = "not-a-guid"
    del users[2]["userPrincipalName"]
    data["subscribedSkus"]["value"][0]["prepaidUnits"]["enabled"] = "five"
    data["directory/subscriptions"]["value"][0]["status"] = "Sleeping"
    error = refused(raw(data))
    assert (error.code, error.status) == ("import_invalid", 422)
    assert error.detail == "The export has 4 errors; nothing was imported."
    assert error.errors == [
        "$.subscribedSkus.value[0].prepaidUnits.enabled: must be a whole number",
        "$.users[0].value[1].assignedLicenses[0].skuId: \"not-a-guid\" is not a GUID",
        "$.users[0].value[2].userPrincipalName: is missing (Graph always answers it)",
        "$['directory/subscriptions'].value[0].status: \"Sleeping\" is not one of: Enabled, Warning, Suspended, "
        "LockedOut, Deleted",
    ]


def test_a_user_licensed_for_a_sku_the_file_doesnt_list_and_duplicate_principal_names(exported):
    data, _before = exported
    users = data["users"][0]["value"]
    users[0]["assignedLicenses"].append({"skuId": "c5928f49-12ba-48f7-ada3-0d743a3601d5", "disabledPlans": []})
    users[3]["userPrincipalName"] = "Anna@Rehearsal.example"
    error = refused(raw(data))
    assert error.errors == [
        "$.users[0].value[0].assignedLicenses[1].skuId: the user holds SKU c5928f49-12ba-48f7-ada3-0d743a3601d5, "
        "which the file's subscribedSkus doesn't list",
        "$.users[0].value[3].userPrincipalName: Anna@Rehearsal.example appears twice (also at "
        "$.users[0].value[0].userPrincipalName)",
    ]


def test_a_whole_number_written_as_a_float_and_a_sku_held_twice_are_named_by_their_path(exported):
    """Graph writes counts as whole numbers: 12.0 is refused by its path (it reached billing as a float, a 500),
    and a user holding one SKU twice is named where the file says it (not in the scenario loader's words)."""
    data, _before = exported
    data["directory/subscriptions"]["value"][0]["totalLicenses"] = 12.0
    data["subscribedSkus"]["value"][0]["prepaidUnits"]["enabled"] = True
    user = data["users"][0]["value"][0]
    user["assignedLicenses"] = [user["assignedLicenses"][0]] * 3
    sku = user["assignedLicenses"][0]["skuId"]
    error = refused(raw(data))
    assert (error.code, error.status) == ("import_invalid", 422)
    assert error.errors == [
        "$.subscribedSkus.value[0].prepaidUnits.enabled: must be a whole number",
        "$['directory/subscriptions'].value[0].totalLicenses: must be a whole number",
    ]
    data = exported[0]
    data["directory/subscriptions"]["value"][0]["totalLicenses"] = 12
    data["subscribedSkus"]["value"][0]["prepaidUnits"]["enabled"] = 12
    assert refused(raw(data)).errors == [
        f"$.users[0].value[0].assignedLicenses[1].skuId: the user holds SKU {sku} twice (also at "
        "$.users[0].value[0].assignedLicenses[0].skuId)",
        f"$.users[0].value[0].assignedLicenses[2].skuId: the user holds SKU {sku} twice (also at "
        "$.users[0].value[0].assignedLicenses[0].skuId)",
    ]


@pytest.mark.parametrize(("text", "why"), [("A\\ud800B", "a lone surrogate"), ("A\\u0000B", "a NUL character")])
def test_a_string_no_column_can_store_is_refused(exported, text, why):
    data, _before = exported
    body = raw(data).replace(json.dumps(data["users"][0]["value"][0]["displayName"]).encode(), f'"{text}"'.encode(), 1)
    error = refused(body)
    assert (error.code, error.status) == ("import_not_json", 400)
    assert error.detail == f"The file can't be stored: a string contains {why}."


def test_a_thousand_errors_show_the_first_twenty_and_how_many_more(exported):
    data, _before = exported
    user = data["users"][0]["value"][0]
    user["assignedLicenses"] = [user["assignedLicenses"][0]] * 1001
    error = refused(raw(data))
    assert error.detail == "The export has 1000 errors; nothing was imported."
    assert len(error.errors) == 21 and error.errors[-1] == "… and 980 more"


def test_the_loaders_refusals_show_the_first_twenty_and_how_many_more(exported):
    """What only the loader finds (users another tenant has) is capped as the file's own errors are."""
    from tests.factories import DirectoryUserFactory, TenantFactory

    data, _before = exported
    page = data["users"][0]["value"]
    page += [{**page[0], "id": f"extra-{n}", "userPrincipalName": f"taken{n}@rehearsal.example"} for n in range(25)]
    other = TenantFactory(domain="elsewhere.example")
    for n in range(25):
        DirectoryUserFactory(tenant=other, upn=f"taken{n}@rehearsal.example")
    error = refused(raw(data))
    assert error.code == "import_invalid" and len(error.errors) == 21 and error.errors[-1] == "… and 5 more"
    assert error.errors[0] == (f"$.users[0].value[{len(page) - 25}].userPrincipalName: taken0@rehearsal.example is "
                               "a user of another organization in the portal")


def test_what_the_portal_has_or_forbids_is_named_where_the_file_says_it_in_the_readers_language(exported):
    """Refusals only the portal's state or catalog can give (a login taken, more licenses than the product allows,
    a domain in no form a tenant can have) come in the reader's language, by the file's own paths: not the
    scenario loader's English and its ``tenants[0]…`` paths, which name nothing in the file."""
    from django.contrib.auth import get_user_model

    data, _before = exported
    get_user_model().objects.create_user(username="admin@rehearsal.example")
    data["directory/subscriptions"]["value"][0]["totalLicenses"] = 10**30
    error = refused(raw(data), "sv")
    assert error.detail == "Organisationen kan inte skapas som filen säger; inget importerades."
    assert error.errors[0].startswith("$['directory/subscriptions'].value[0].totalLicenses: ")
    assert error.errors[0].endswith(" tillåter högst 300 licenser")
    assert error.errors[1:] == [
        "admin: en inloggning med namnet admin@rehearsal.example finns redan i portalen; välj en annan"]
    data["organization"]["value"][0]["verifiedDomains"][0]["name"] = "not a domain"
    assert "$.organization.value[0].verifiedDomains[0].name: \"not a domain\" is not in the form Graph answers" \
        in refused(raw(data)).errors


def test_over_the_size_limit(exported, settings):
    data, _before = exported
    settings.PORTAL_IMPORT_MAX_BYTES = 2000
    error = refused(raw(data))
    assert (error.code, error.status) == ("import_too_large", 413)
    assert error.detail == f"The file is {len(raw(data)) / 1000:.0f} kB; an import takes at most 2 kB."


def test_a_million_users_states_the_limit_and_the_time_it_would_take(db):
    data = {"organization": {"value": []}, "subscribedSkus": {"value": []}, "users": [{"value": [{}] * 1_000_000}]}
    error = refused(json.dumps(data).encode())
    assert (error.code, error.status) == ("import_too_many_users", 422)
    assert error.detail == (
        "The file has 1,000,000 users; an import takes at most 200,000. At this portal's pace (about 2,500 users a "
        "second) it would take about 7 minutes, in one transaction. Import a part of the tenant (the users of the "
        "subscriptions you will change).")


@pytest.mark.parametrize(("language", "detail"), [
    ("en", "The file has 200,001 users; an import takes at most 200,000. At this portal's pace (about 2,500 users a "
           "second) it would take about 1 minute, in one transaction."),
    ("sv", "Filen har 200\xa0001 användare; en import tar högst 200\xa0000. I portalens takt (omkring 2\xa0500 "
           "användare i sekunden) skulle det ta omkring 1 minut, i en enda transaktion."),
])
def test_the_user_limit_is_said_with_the_readers_numbers_and_plurals(db, language, detail):
    data = {"organization": {"value": []}, "subscribedSkus": {"value": []}, "users": [{"value": [{}] * 200_001}]}
    assert refused(json.dumps(data).encode(), language).detail.startswith(detail)


def test_in_swedish(exported):
    data, _before = exported
    data["users"][0]["value"][1]["assignedLicenses"][0]["skuId"] = "x"
    error = refused(raw(data), "sv")
    assert error.detail == "Exporten har 1 fel; inget importerades."
    assert error.errors == ["$.users[0].value[1].assignedLicenses[0].skuId: \"x\" är inget GUID"]
    assert refused(b'{"organization": ', "sv").detail == "Filen är inte JSON: Ett värde väntades på rad 1, kolumn 18."
    assert refused(b"[]", "sv").detail == (
        "Det här är ingen export från Microsoft Graph: den har varken organization, subscribedSkus eller users. "
        "examples/export_tenant.py skriver en.")


@pytest.mark.parametrize(("admin", "why"), [
    ("ADMIN@Rehearsal.Example", "a login named ADMIN@Rehearsal.Example is in the portal already"),  # but its case
    ("<script> x", "is not a login in the form name@domain"),
    ("x" * 65 + "@rehearsal.example", "is not a login in the form name@domain"),
])
def test_the_admin_login_chosen_must_be_new_whatever_its_case_and_in_a_logins_form(exported, admin, why):
    from django.contrib.auth import get_user_model

    data, _before = exported
    get_user_model().objects.create_user(username="admin@rehearsal.example")
    before = counts()
    with pytest.raises(ExportRefused) as caught:
        tenant_import(actor="support@portal.local", raw=raw(data), choices=Choices(admin=admin))
    said = f"admin: {why}; choose another" if "already" in why else f"admin: {admin} {why}"
    assert caught.value.errors == [said]
    assert counts() == before


def test_what_the_import_would_change_or_take_silently_is_refused_by_its_path(exported):
    """Never silently: a date that isn't one (the subscription started today), a name longer than the portal keeps
    (cut at 200), a usage location that isn't a country (dropped: the user could no longer be licensed), a SKU
    listed twice, and a user outside the organization's verified domains (taking a name another tenant may own)."""
    data, _before = exported
    sub = data["directory/subscriptions"]["value"][0]
    sub["createdDateTime"] = "not a date"
    users = data["users"][0]["value"]
    users[0]["displayName"], users[1]["usageLocation"] = "x" * 201, "ZZZZZZZZ"
    assert refused(raw(data)).errors == [
        f"$.users[0].value[0].displayName: {json.dumps('x' * 201)[:80]} is not in the form Graph answers",
        "$.users[0].value[1].usageLocation: \"ZZZZZZZZ\" is not in the form Graph answers",
        "$['directory/subscriptions'].value[0].createdDateTime: \"not a date\" is not in the form Graph answers",
    ]
    sub["createdDateTime"], sub["nextLifecycleDateTime"] = "2026-02-30T00:00:00Z", "9999-99-99"
    users[0]["displayName"], users[1]["usageLocation"] = "Anna", "SE"
    users[2]["userPrincipalName"] = "x@contoso.com"
    skus = data["subscribedSkus"]["value"]
    skus.append(dict(skus[0]))
    domains = ", ".join(sorted(d["name"] for d in data["organization"]["value"][0]["verifiedDomains"]))
    assert refused(raw(data)).errors == [
        f"$.subscribedSkus.value[{len(skus) - 1}].skuId: SKU {skus[0]['skuId']} is listed twice (also at "
        "$.subscribedSkus.value[0].skuId)",
        f"$.users[0].value[2].userPrincipalName: x@contoso.com is in none of the organization's verified domains "
        f"({domains})",
        "$['directory/subscriptions'].value[0].createdDateTime: \"2026-02-30T00:00:00Z\" is not a date",
        "$['directory/subscriptions'].value[0].nextLifecycleDateTime: \"9999-99-99\" is not a date",
    ]
