"""Writing many rows' own values in one statement (the day loop's subscriptions and invoices).

Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` per field with a branch per row: its
building costs Python time per row and field, and the database tests the branches row by row
(quadratic). ``rows_update`` joins the table to a list of values instead:
``WITH v(pk, …) AS (VALUES …) UPDATE t SET f = v.f FROM v WHERE t.id = v.pk`` (PostgreSQL, and
SQLite from 3.33).
"""

from django.db import connections, router

# Values per statement: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
_PARAMS_MAX = 30_000


def rows_update(objs: list, fields: list[str]) -> None:
    """Write ``fields`` of every object of ``objs`` (one model's, saved before) as they are in memory,
    in one statement per 30,000 values, whatever the number of rows; no signals, as ``bulk_update``."""
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 33):
        model._default_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    cast = connection.vendor == "postgresql"  # VALUES of parameters are text there unless told

    def placeholder(field) -> str:
        return f"CAST(%s AS {field.cast_db_type(connection)})" if cast else "%s"

    row = "(" + ", ".join(placeholder(field) for field in [pk, *columns]) + ")"
    names = ", ".join(["pk", *(f"c{i}" for i in range(len(columns)))])
    table = quote(meta.db_table)
    sets = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(columns))
    per_statement = max(1, _PARAMS_MAX // (len(columns) + 1))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start:start + per_statement]
            params = []
            for obj in chunk:
                params.append(pk.get_db_prep_save(obj.pk, connection))
                params += [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
            # Only the model's own quoted names are spliced in; every value is a parameter.
            cursor.execute(
                f"WITH v({names}) AS (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{quote(pk.column)} = v.pk",
                params)
