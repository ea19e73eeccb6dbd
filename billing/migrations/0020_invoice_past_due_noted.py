"""An invoice keeps whether its falling past due was told (``Invoice.past_due_noted``): the day loop tells each
unpaid invoice paid by invoice once, whenever its due date passed, instead of only those whose due date fell
between the last day applied and the day applied (which missed an invoice made already past due: a period a
plan change held its subscription over and gave back late).

The invoices the old rule told, or would never tell, are marked as told, so the upgrade tells none again: those
unpaid and paid by invoice whose due date is before the clock's last day applied (``applied_through``), and of
a day applied tenant by tenant and stopped midway (``applying_day``), those of the tenants it got through. A
portal whose days were never applied (or whose clock row was never made) starts them the day before its first move:
what fell due before yesterday was never to be told."""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def noted_under_the_old_rule(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    SimulationClock = apps.get_model("portal", "SimulationClock")
    row = SimulationClock.objects.filter(pk=1).first()  # none yet: the clock at real time, no day applied
    unpaid = Invoice.objects.filter(payment_method__isnull=True, total__gt=F("paid"))
    applied = row.applied_through if row is not None else None
    offset = row.offset if row is not None else timedelta(0)
    through = applied or (timezone.now() + offset).date() - timedelta(days=1)
    unpaid.filter(due_date__lt=through).update(past_due_noted=True)
    if applied is not None and row.applying_day is not None and row.applying_tenants_through is not None:
        unpaid.filter(due_date__lt=row.applying_day,
                      tenant_id__lte=row.applying_tenants_through).update(past_due_noted=True)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0019_invoice_credit_index'),
        ('portal', '0010_event_tenant_indexed_once'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoice',
            name='past_due_noted',
            field=models.BooleanField(default=False, help_text="of an invoice paid by invoice: its falling past due was told (invoice.overdue), or was already known when it came (a scenario's, one from before this was kept); cleared when it is paid in full, so it is told once each time it falls past due"),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(condition=models.Q(('past_due_noted', False), ('payment_method__isnull', True), ('total__gt', models.F('paid'))), fields=['due_date'], name='invoice_past_due_untold'),
        ),
        # Last: on PostgreSQL the rows it updates leave trigger events pending (the deferred foreign keys'), and an
        # index can't be made on the table until they have run.
        migrations.RunPython(noted_under_the_old_rule, migrations.RunPython.noop),
    ]
