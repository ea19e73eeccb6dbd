"""Writing many rows in a few statements (the day loop's invoices, lines, subscriptions and audit events).

Inserting: Django's ``bulk_create`` on PostgreSQL sends every column as an array parameter that psycopg
quotes value by value on the client (its default client-side binding), some 70 µs a row for an audit
event; ``rows_insert`` streams the rows with ``COPY … FROM STDIN`` instead (some 17 µs), drawing their ids
from the table's own sequence first when the caller needs them. Elsewhere it is ``bulk_create``.

Updating: Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` per field with a branch per row: its
building costs Python time per row and field, and the database tests the branches row by row
(quadratic). ``rows_update`` joins the table to the rows' values instead: on PostgreSQL, copied into a
temporary table of the session (``COPY``), elsewhere a list of values
(``WITH v(pk, …) AS (VALUES …) UPDATE t SET f = v.f FROM v WHERE t.id = v.pk``, SQLite from 3.33).

Both keep the statement count constant whatever the number of rows, and COPY goes through Django's
execute wrappers and query log like any statement (tests and benchmarks count it).
"""

import hashlib
from contextlib import nullcontext
from datetime import date, datetime
from decimal import Decimal

from django.db import connections, router
from django.db.models import DateField, Field

# The values each kind of column takes on PostgreSQL exactly as Django would prepare them (its preparing
# returns these unchanged there): read straight off the instance, the rest goes through the field.
_AS_IS = {
    "AutoField": int, "BigAutoField": int, "IntegerField": int, "BigIntegerField": int,
    "PositiveIntegerField": int, "PositiveSmallIntegerField": int, "SmallIntegerField": int,
    "CharField": str, "TextField": str, "BooleanField": bool, "DecimalField": Decimal, "DateField": date,
    "DateTimeField": datetime,
}

# Values per statement: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
_PARAMS_MAX = 30_000


def _copy(cursor, sql: str, rows) -> None:
    """``COPY … FROM STDIN`` of ``rows`` (tuples of values as Django prepares them for the database), logged and
    wrapped as Django runs a statement."""

    def copy(sql, params, many, context):
        with cursor.cursor.copy(sql) as stream:
            for row in rows:
                stream.write_row(row)

    logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
    with logged:
        cursor._execute_with_wrappers(sql, None, False, executor=copy)


def _reader(field: Field, connection, *, adding: bool):
    """A function of an instance answering ``field``'s value as Django prepares it for saving (``adding``: for
    an insert, with the field's ``pre_save``), without Django's per-value calls where PostgreSQL takes the value
    as it is (most of a row's cost)."""
    attname, slow = field.attname, field.get_db_prep_save
    if adding and isinstance(field, DateField) and (field.auto_now or field.auto_now_add):  # set when saved
        return lambda obj: slow(field.pre_save(obj, adding), connection)
    target = (field.target_field if field.is_relation else field).get_internal_type()
    wanted = _AS_IS.get(target)
    # What goes through the field although of the type: a naive datetime (the field warns and makes it aware),
    # a Decimal NaN or infinity (the field refuses it).
    odd = {datetime: lambda v: v.tzinfo is None, Decimal: lambda v: not v.is_finite()}.get(wanted)

    def as_is(value) -> bool:
        if wanted is str:
            return isinstance(value, str)  # a text choice's member too
        return wanted is not None and type(value) is wanted and not (odd and odd(value))

    def read(obj):
        state = obj.__dict__
        value = state[attname] if attname in state else getattr(obj, attname)  # a deferred field is fetched
        return value if value is None or as_is(value) else slow(value, connection)

    return read


def _row_reader(fields: list[Field], connection, *, adding: bool):
    """A function of an instance answering its row of ``fields``' values, as Django prepares them for an insert
    (``adding``) or an update."""
    if connection.vendor != "postgresql":
        if adding:
            return lambda obj: [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        return lambda obj: [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
    readers = [_reader(field, connection, adding=adding) for field in fields]
    return lambda obj: [read(obj) for read in readers]


def ids_draw(objs: list) -> bool:
    """Give ``objs`` (new instances of one model, not written yet) their ids from the table's sequence, in order, in
    one statement, so that what refers to them can be worked out before they are written (``rows_insert`` then
    writes them with those ids). PostgreSQL only: False elsewhere, where ids come from inserting the rows."""
    if not objs:
        return True
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return False
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(objs)])
        drawn = [pk for (pk,) in cursor.fetchall()]
    if None in drawn:  # no sequence behind the id (the call is wrong, not the data)
        raise ValueError(f"{meta.db_table}.{meta.pk.column} draws no ids from a sequence")
    for obj, pk in zip(objs, sorted(drawn), strict=True):
        setattr(obj, meta.pk.attname, pk)
    return True


def rows_insert(objs: list, *, ids: bool = False) -> list:
    """Insert ``objs`` (new instances of one model) in their order, in one ``COPY`` on PostgreSQL, else
    ``bulk_create``. With ``ids`` each object gets its id (drawn from the table's sequence, in order, unless
    ``ids_draw`` gave them theirs); without, ids stay unset on PostgreSQL (the audit trail's events, an invoice's new
    lines: nobody asks). No signals, as ``bulk_create``."""
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return model._default_manager.using(alias).bulk_create(objs)
    meta = model._meta
    missing = [obj for obj in objs if obj.pk is None]
    ids = ids or len(missing) < len(objs)  # some have theirs (``ids_draw``): every row is written with its id
    fields = [field for field in meta.concrete_fields if ids or field is not meta.pk]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    if ids:
        ids_draw(missing)
    with connection.cursor() as cursor:
        row = _row_reader(fields, connection, adding=True)
        rows = [row(obj) for obj in objs]  # before COPY starts: a deferred field's fetch can't run during it
        # Only the model's own quoted names are spliced in; every value is streamed.
        _copy(cursor, f"COPY {table} ({', '.join(quote(field.column) for field in fields)}) FROM STDIN", rows)
    for obj in objs:
        obj._state.adding, obj._state.db = False, alias
    return objs


def rows_update(objs: list, fields: list[str]) -> None:
    """Write ``fields`` of every object of ``objs`` (one model's, saved before) as they are in memory,
    in a constant number of statements whatever the number of rows; no signals, as ``bulk_update``."""
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
    table = quote(meta.db_table)
    sets = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(columns))
    names = ", ".join(["pk", *(f"c{i}" for i in range(len(columns)))])

    values = _row_reader([pk, *columns], connection, adding=False)

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A temporary table of the session per table and fields (made once, emptied after each use; a
            # transaction rolled back takes its rows along).
            types = [f"{name} {field.cast_db_type(connection)}" for name, field in
                     zip(names.split(", "), [pk, *columns], strict=True)]
            signature = f"{meta.db_table}:{','.join(types)}"
            values_table = quote(f"rows_update_{hashlib.sha256(signature.encode()).hexdigest()[:16]}")
            cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {values_table} ({', '.join(types)})")
            rows = [values(obj) for obj in objs]  # before COPY starts: a deferred field's fetch can't run during it
            _copy(cursor, f"COPY {values_table} ({names}) FROM STDIN", rows)
            # The values table is never analyzed, so the planner guesses it holds thousands of rows and joins by
            # reading the whole table (a seq scan of years of invoices per update); its LIMIT tells it how many
            # there are, and it looks each one up by its primary key.
            cursor.execute(f"UPDATE {table} SET {sets} FROM (SELECT * FROM {values_table} LIMIT %s) v "  # noqa: S608
                           f"WHERE {table}.{quote(pk.column)} = v.pk", [len(rows)])
            cursor.execute(f"DELETE FROM {values_table}")  # noqa: S608
            return
        row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
        per_statement = max(1, _PARAMS_MAX // (len(columns) + 1))
        for start in range(0, len(objs), per_statement):
            chunk = objs[start:start + per_statement]
            params = [value for obj in chunk for value in values(obj)]
            # Only the model's own quoted names are spliced in; every value is a parameter.
            cursor.execute(
                f"WITH v({names}) AS (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608
                f"UPDATE {table} SET {sets} FROM v WHERE {table}.{quote(pk.column)} = v.pk",
                params)


def statistics_refresh(models: list, *, share: float = 0.2) -> list[str]:
    """``ANALYZE`` each model's table whose statistics have gone stale (PostgreSQL; elsewhere nothing): never
    taken, or the table has grown by more than ``share`` since (its pages, which any write grows at once), or more
    than ``share`` of its rows changed (as the statistics collector last heard). A long clock move grows the tables
    it reads many times over within a minute, before autovacuum looks (it wakes once a minute), and with
    statistics of a few thousand rows where there are 100,000 the planner reads the whole table for a lookup by
    key. Answers the tables analyzed."""
    connection = connections[router.db_for_write(models[0])]
    if connection.vendor != "postgresql":
        return []
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = ANY(%s::regclass[]) AND (c.reltuples < 0"
            " OR pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * (1 + %s) + 8"
            " OR s.n_mod_since_analyze > %s * greatest(s.n_live_tup, 1000))", [tables, share, share])
        stale = sorted(name for (name,) in cursor.fetchall())
        for table in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return stale
