"""Load the catalog shipped in billing/catalog.json (CATALOG.md)."""

from django.db import migrations


def load(apps, schema_editor):
    from billing.catalog import catalog_sync

    catalog_sync(
        ServicePlan=apps.get_model("billing", "ServicePlan"),
        Product=apps.get_model("billing", "Product"),
        Offer=apps.get_model("billing", "Offer"),
        AddOnProduct=apps.get_model("billing", "AddOnProduct"),
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
