"""The facts billing's rules read from the audit trail until now, written on rows of their own: add-ons
removed (``RemovedAddOn``) and licenses bought or removed at once (``LicenseChange``), from the events
that recorded them. From here on the services write both; the rules no longer read ``Event``."""

from django.db import migrations

SUBSCRIPTION = "billing.subscription"


def facts_from_events(apps, schema_editor):
    Event = apps.get_model("portal", "Event")
    AddOnProduct = apps.get_model("billing", "AddOnProduct")
    Subscription = apps.get_model("billing", "Subscription")
    RemovedAddOn = apps.get_model("billing", "RemovedAddOn")
    LicenseChange = apps.get_model("billing", "LicenseChange")
    addons = dict(AddOnProduct.objects.values_list("code", "pk"))
    subscriptions = set(Subscription.objects.values_list("pk", flat=True))

    def subscription_of(event):
        pk = int(event.object_id) if event.object_id.isascii() and event.object_id.isdigit() else None
        return pk if pk in subscriptions else None

    removed = []
    for event in Event.objects.filter(verb="subscription.addon_removed", object_type=SUBSCRIPTION).iterator():
        pk, code = subscription_of(event), (event.data or {}).get("addon")
        if pk is not None and code in addons:
            removed.append(RemovedAddOn(subscription_id=pk, addon_id=addons[code], removed_at=event.occurred_at))
    RemovedAddOn.objects.bulk_create(removed, batch_size=1000)
    changes = []
    for event in Event.objects.filter(verb="subscription.licenses_changed", object_type=SUBSCRIPTION).iterator():
        data, pk = event.data or {}, subscription_of(event)
        if pk is not None and "at_renewal" not in data and {"from", "to"} <= set(data):
            changes.append(LicenseChange(subscription_id=pk, changed_at=event.occurred_at,
                                         licenses_before=data["from"], licenses_after=data["to"]))
    LicenseChange.objects.bulk_create(changes, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0012_facts_on_rows"),
        ("portal", "0006_move_drf_tokens"),
    ]

    operations = [migrations.RunPython(facts_from_events, migrations.RunPython.noop)]
