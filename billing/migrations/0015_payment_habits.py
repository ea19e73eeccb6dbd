"""Payment habits (issue 20, item 4): each billing profile, and each tenant paying invoices without one
(``InvoicePayer``), pays on time (the default), late by 1 to 365 days, or never; the day loop pays by it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0014_trial_ends'),
        ('portal', '0006_move_drf_tokens'),
    ]

    operations = [
        migrations.CreateModel(
            name='InvoicePayer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('payment_habit', models.CharField(choices=[('on_time', 'Pays on the due date'), ('late', 'Pays late'), ('never', 'Never pays')], default='on_time', max_length=8)),
                ('payment_delay_days', models.PositiveSmallIntegerField(default=0, help_text='of a late payer: how many days after the due date it pays (1 to 365)')),
            ],
        ),
        migrations.AddField(
            model_name='billingprofile',
            name='payment_delay_days',
            field=models.PositiveSmallIntegerField(default=0, help_text='of a late payer: how many days after the due date it pays (1 to 365)'),
        ),
        migrations.AddField(
            model_name='billingprofile',
            name='payment_habit',
            field=models.CharField(choices=[('on_time', 'Pays on the due date'), ('late', 'Pays late'), ('never', 'Never pays')], default='on_time', max_length=8),
        ),
        migrations.AddConstraint(
            model_name='billingprofile',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('payment_delay_days__gte', 1), ('payment_delay_days__lte', 365), ('payment_habit', 'late')), models.Q(('payment_delay_days', 0), ('payment_habit__in', ('on_time', 'never'))), _connector='OR'), name='billingprofile_payment_habit_valid'),
        ),
        migrations.AddField(
            model_name='invoicepayer',
            name='tenant',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='invoice_payer', to='portal.tenant'),
        ),
        migrations.AddConstraint(
            model_name='invoicepayer',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('payment_delay_days__gte', 1), ('payment_delay_days__lte', 365), ('payment_habit', 'late')), models.Q(('payment_delay_days', 0), ('payment_habit__in', ('on_time', 'never'))), _connector='OR'), name='invoicepayer_payment_habit_valid'),
        ),
    ]
