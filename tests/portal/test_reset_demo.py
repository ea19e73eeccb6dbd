"""make reset-demo: the demo starts over without reinstalling."""

import pytest
from django.core.management import CommandError, call_command

from billing.models import Product
from portal.models import Tenant
from simulation.scenarios.loader import scenario_load_file
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_reset_demo_refuses_without_yes_outside_debug(settings):
    settings.DEBUG = False
    scenario_load_file("scenarios/demo.json")
    with pytest.raises(CommandError, match="deletes everything"):
        call_command("reset_demo")
    assert Tenant.objects.filter(domain="contoso.com").exists()


def test_reset_demo_deletes_everything_and_loads_the_demo_again(capsys):
    scenario_load_file("scenarios/demo.json")
    TenantFactory(domain="leftover.example")
    call_command("reset_demo", "--yes")
    assert not Tenant.objects.filter(domain="leftover.example").exists()
    assert set(Tenant.objects.values_list("domain", flat=True)) >= {"contoso.com", "fabrikam.com"}
    assert Product.objects.filter(sku="SPB").exists()  # the catalog is back
    out = capsys.readouterr().out
    assert "The demo is as new. Sign in with:" in out and "admin@contoso.com" in out
