"""The tenant's service plans of a product that the catalog doesn't list, with their servicePlanId (Graph names
every turned-off plan by it). Licenses that have such a plan off already (an import's, a scenario's
other_plans) get a row for it, its id made from its name as licensing.plans.other_plan_id makes it (an
export's plan the file named nowhere is kept by its GUID, which is its id)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

_NAMESPACE = uuid.UUID("7e0a0009-0000-4000-8000-000000000000")  # licensing.plans, as it stands here


def _id(name: str) -> uuid.UUID:
    try:
        return uuid.UUID(name)
    except ValueError:
        return uuid.uuid5(_NAMESPACE, name)


def other_plans_of_licenses(apps, schema_editor):
    LicenseAssignment = apps.get_model("licensing", "LicenseAssignment")  # noqa: N806
    OtherServicePlan = apps.get_model("licensing", "OtherServicePlan")  # noqa: N806
    Product = apps.get_model("billing", "Product")  # noqa: N806
    listed = {p.pk: {m.name for m in p.microsoft_plans.all()} for p in Product.objects.prefetch_related("microsoft_plans")}
    found = set()
    rows = LicenseAssignment.objects.exclude(disabled_plans=[]).values_list(
        "subscription__tenant_id", "subscription__product_id", "disabled_plans")
    for tenant_id, product_id, codes in rows.iterator():
        found.update((tenant_id, product_id, code) for code in codes
                     if code not in listed.get(product_id, ()) and len(code) <= 64)
    OtherServicePlan.objects.bulk_create(
        [OtherServicePlan(tenant_id=t, product_id=p, name=name, service_plan_id=_id(name)) for t, p, name in sorted(found)],
        batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0018_invoice_tenant_indexed_once'),
        ('licensing', '0004_usage_location'),
        ('portal', '0010_event_tenant_indexed_once'),
    ]

    operations = [
        migrations.CreateModel(
            name='OtherServicePlan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='servicePlanName, as disabled_plans name it', max_length=64)),
                ('service_plan_id', models.UUIDField(help_text='servicePlanId, as Graph answers it')),
                ('product', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.product')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portal.tenant')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('tenant', 'product', 'name'), name='other_plan_name_once_per_product'), models.UniqueConstraint(fields=('tenant', 'product', 'service_plan_id'), name='other_plan_id_once_per_product')],
            },
        ),
        migrations.RunPython(other_plans_of_licenses, migrations.RunPython.noop),
    ]
