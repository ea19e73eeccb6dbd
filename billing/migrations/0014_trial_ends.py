"""A trial's end as a fact on its row (DESIGN.md "Time": a trial lasts one month from its start, extendable
once by 30 days). Existing trials end a month after they started; they are not billed (no period is
charged until one converts), so their ``billed_until`` is emptied: the day loop finds them by their end."""

from dateutil.relativedelta import relativedelta
from django.db import migrations, models


def trial_ends(apps, schema_editor):
    Subscription = apps.get_model("billing", "Subscription")
    trials = list(Subscription.objects.filter(source="trial"))
    for sub in trials:
        sub.trial_ends_on = sub.start_date + relativedelta(months=1)
        sub.billed_until, sub.billed_amount = None, None
    Subscription.objects.bulk_update(trials, ["trial_ends_on", "billed_until", "billed_amount"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0013_facts_from_audit_trail'),
    ]

    operations = [
        migrations.AddField(
            model_name='subscription',
            name='trial_ends_on',
            field=models.DateField(blank=True, help_text='the day a trial ends: on it the trial converts to paid or expires (DESIGN.md "Time"); for a trial that ended, the day it did; empty for what never was a trial', null=True),
        ),
        migrations.AddField(
            model_name='subscription',
            name='trial_extended',
            field=models.BooleanField(default=False, help_text='the trial was extended by 30 days (Extend your trial: once only)'),
        ),
        migrations.RunPython(trial_ends, migrations.RunPython.noop),
    ]
