"""Move DRF's plaintext tokens (``rest_framework.authtoken``'s ``authtoken_token`` table) into
``ApiToken`` rows, stored as digests, so every token in use keeps working; then delete the
plaintext rows. The authtoken app is no longer installed: its table is read when it exists (a
database made before the API tokens issue) and left empty; a new database never has it."""

from datetime import datetime, timezone

from django.db import migrations
from django.utils.dateparse import parse_datetime

from portal import tokens

TABLE = "authtoken_token"


def _aware(value):
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return datetime.now(timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def move_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("portal", "ApiToken")
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {q('key')}, {q('user_id')}, {q('created')} FROM {q(TABLE)}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        digest = tokens.digest(key)
        if not ApiToken.objects.filter(digest=digest).exists():
            ApiToken.objects.create(user_id=user_id, name="default", key_id=tokens.key_id(key), digest=digest,
                                    created_at=_aware(created))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {q(TABLE)}")  # noqa: S608  (no plaintext token stays at rest)


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0005_api_tokens"),
    ]

    # Backwards: the plaintext is gone; the rows go with 0005's table.
    operations = [migrations.RunPython(move_drf_tokens, migrations.RunPython.noop)]
