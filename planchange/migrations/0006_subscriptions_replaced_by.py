"""Each subscription a completed plan change replaced names its replacement (billing's
``Subscription.replaced_by``, which billing's rules now read instead of planchange's changes)."""

from django.db import migrations


def replaced_by_from_changes(apps, schema_editor):
    PlanChange = apps.get_model("planchange", "PlanChange")
    Subscription = apps.get_model("billing", "Subscription")
    for old, new in (PlanChange.objects.filter(status="completed", new_subscription__isnull=False)
                     .values_list("subscription_id", "new_subscription_id").iterator()):
        Subscription.objects.filter(pk=old, replaced_by__isnull=True).update(replaced_by=new)


class Migration(migrations.Migration):

    dependencies = [
        ("planchange", "0005_plan_change_error_text"),
        ("billing", "0012_facts_on_rows"),
    ]

    operations = [migrations.RunPython(replaced_by_from_changes, migrations.RunPython.noop)]
