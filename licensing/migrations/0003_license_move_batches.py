"""Licensing's batches of users moved by a plan change, on rows of their own (what the change reads back:
its users moved and the settings it reset), from the audit events that recorded them until now."""

import django.db.models.deletion
from django.db import migrations, models


def batches_from_events(apps, schema_editor):
    Event = apps.get_model("portal", "Event")
    Subscription = apps.get_model("billing", "Subscription")
    LicenseMoveBatch = apps.get_model("licensing", "LicenseMoveBatch")
    subscriptions = set(Subscription.objects.values_list("pk", flat=True))
    batches = []
    for event in Event.objects.filter(verb="licenses.moved", tenant__isnull=False).order_by("pk").iterator():
        data = event.data if isinstance(event.data, dict) else {}
        source, target = data.get("from"), data.get("to")
        if not data.get("by") or source not in subscriptions or target not in subscriptions:
            continue
        batches.append(LicenseMoveBatch(
            tenant_id=event.tenant_id, holder=data["by"], from_subscription_id=source, to_subscription_id=target,
            users=data.get("count", len(data.get("users") or ())),
            reset_disabled_plans=data.get("reset_disabled_plans") or {}, moved_at=event.occurred_at))
    LicenseMoveBatch.objects.bulk_create(batches, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0013_facts_from_audit_trail'),
        ('licensing', '0002_count_assigned_licenses'),
        ('portal', '0006_move_drf_tokens'),
    ]

    operations = [
        migrations.CreateModel(
            name='LicenseMoveBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('holder', models.CharField(help_text='the change that moved them (plan_change/<id>)', max_length=64)),
                ('users', models.PositiveIntegerField()),
                ('reset_disabled_plans', models.JSONField(blank=True, default=dict, help_text='upn → the service plans that were turned off')),
                ('moved_at', models.DateTimeField(help_text='simulation time')),
                ('from_subscription', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.subscription')),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portal.tenant')),
                ('to_subscription', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.subscription')),
            ],
            options={
                'indexes': [models.Index(fields=['tenant', 'holder'], name='licensing_l_tenant__1eca41_idx')],
            },
        ),
        migrations.RunPython(batches_from_events, migrations.RunPython.noop),
    ]
