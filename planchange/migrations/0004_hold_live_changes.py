"""A change that is queued or running now holds its subscriptions read-only through billing's
``Subscription.held_by``; give the changes already under way their hold."""

from django.db import migrations


def hold(apps, schema_editor):
    PlanChange = apps.get_model("planchange", "PlanChange")  # noqa: N806
    Subscription = apps.get_model("billing", "Subscription")  # noqa: N806
    for change in PlanChange.objects.filter(status__in=("queued", "running")):
        ids = [i for i in (change.subscription_id, change.new_subscription_id) if i]
        Subscription.objects.filter(pk__in=ids).update(held_by=f"plan_change/{change.pk}")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_subscription_usage_and_hold"),
        ("planchange", "0003_money_wider"),
    ]

    operations = [migrations.RunPython(hold, migrations.RunPython.noop)]
