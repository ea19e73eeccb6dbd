"""Microsoft's service plans of each product (Graph's servicePlanId and servicePlanName, from the licensing
reference): the catalog's plans become the reference's. EXCHANGE_S_ARCHIVE, which no product of the reference
lists, is the EXCHANGE_S_ARCHIVE_ADDON Business Premium has.
Microsoft 365 E5 has WINDEFATP (no service of the catalog's), not MDE_SMB. SharePoint includes OneDrive and
Exchange Online (Plan 2) archiving, as the reference has them."""

import django.db.models.deletion
from django.db import migrations, models


def load(apps, schema_editor):
    from billing.catalog import catalog_sync

    ServicePlan = apps.get_model("billing", "ServicePlan")  # noqa: N806
    if not ServicePlan.objects.filter(code="EXCHANGE_S_ARCHIVE_ADDON").exists():
        ServicePlan.objects.filter(code="EXCHANGE_S_ARCHIVE").update(code="EXCHANGE_S_ARCHIVE_ADDON")
    catalog_sync(**{name: apps.get_model("billing", name)
                    for name in ("ServicePlan", "Product", "Offer", "AddOnProduct", "MicrosoftServicePlan")})


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0016_invoice_indexes_for_the_day_loop'),
    ]

    operations = [
        migrations.CreateModel(
            name='MicrosoftServicePlan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('service_plan_id', models.UUIDField(unique=True)),
                ('name', models.CharField(help_text='servicePlanName', max_length=64, unique=True)),
                ('friendly_name', models.CharField(max_length=200)),
                ('plan', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='microsoft_plan', to='billing.serviceplan')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='product',
            name='microsoft_plans',
            field=models.ManyToManyField(help_text='every service plan Graph lists for the SKU', related_name='products', to='billing.microsoftserviceplan'),
        ),
        migrations.AddField(
            model_name='serviceplan',
            name='includes',
            field=models.JSONField(blank=True, default=list, help_text='services this plan provides too, at their first level, as Microsoft\'s reference folds them in (SharePoint comes with OneDrive, Exchange Online (Plan 2) with archiving)'),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
