"""Users gain Graph's usageLocation; each license's turned-off service plans become the names of Microsoft's
service plans of its product (billing 0017): EXCHANGE_S_ARCHIVE is EXCHANGE_S_ARCHIVE_ADDON where the product
has it, and a plan the product no longer lists (ONEDRIVESTANDARD on Business Basic) is dropped."""

import django.db.models.functions.text
from django.db import migrations, models


def disabled_plans_of_the_reference(apps, schema_editor):
    LicenseAssignment = apps.get_model("licensing", "LicenseAssignment")  # noqa: N806
    Product = apps.get_model("billing", "Product")  # noqa: N806
    names = {p.pk: {m.name for m in p.microsoft_plans.all()} for p in Product.objects.prefetch_related("microsoft_plans")}
    for lic in LicenseAssignment.objects.exclude(disabled_plans=[]).select_related("subscription"):
        have = names.get(lic.subscription.product_id, set())
        renamed = ["EXCHANGE_S_ARCHIVE_ADDON" if code == "EXCHANGE_S_ARCHIVE" else code for code in lic.disabled_plans]
        kept = sorted({code for code in renamed if code in have})
        if kept != lic.disabled_plans:
            lic.disabled_plans = kept
            lic.save(update_fields=["disabled_plans"])


class Migration(migrations.Migration):

    dependencies = [
        ('licensing', '0003_license_move_batches'),
        ('billing', '0017_microsoft_service_plans'),
        ('portal', '0009_clock_applies_a_busy_day_in_tenant_chunks'),
    ]

    operations = [
        migrations.AddField(
            model_name='directoryuser',
            name='usage_location',
            field=models.CharField(blank=True, db_default='', default='', help_text="two-letter country code (ISO 3166-1 alpha-2) where the user uses the services (Graph's usageLocation); empty: none yet, and no license can be assigned", max_length=2),
        ),
        migrations.AddConstraint(
            model_name='directoryuser',
            constraint=models.CheckConstraint(condition=models.Q(('usage_location', django.db.models.functions.text.Upper('usage_location'))), name='user_usage_location_uppercase'),
        ),
        migrations.RunPython(disabled_plans_of_the_reference, migrations.RunPython.noop),
    ]
