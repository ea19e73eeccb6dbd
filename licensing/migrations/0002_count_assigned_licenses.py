"""Billing now keeps each subscription's count of assigned licenses (Graph's consumedUnits);
set it once from the assignments that exist."""

from django.db import migrations
from django.db.models import Count


def count(apps, schema_editor):
    Subscription = apps.get_model("billing", "Subscription")  # noqa: N806
    LicenseAssignment = apps.get_model("licensing", "LicenseAssignment")  # noqa: N806
    counts = LicenseAssignment.objects.values("subscription").annotate(n=Count("pk")).values_list("subscription", "n")
    for subscription_id, n in counts:
        Subscription.objects.filter(pk=subscription_id).update(assigned_licenses=n)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_subscription_usage_and_hold"),
        ("licensing", "0001_initial"),
    ]

    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
