"""A dry run's own copy of the world (DESIGN.md "Time and the subscription lifecycle"): every table the
day loop could touch is shadowed, on this connection only, by a temporary table of the same name
holding a copy of its rows, so the dry run runs the very code of the real move (its days committed one
by one) and writes nothing anybody else reads or waits on. Unqualified names find a connection's
temporary tables first, on PostgreSQL and SQLite alike.

What it costs others: the copy reads each table once, in one short transaction (PostgreSQL:
REPEATABLE READ, so the copy is one moment of the world; SQLite in WAL mode: one read snapshot). No
row of a tenant, a plan change or the clock is locked by the dry run after that; PostgreSQL's share
lock on the tables it read (taken by any SELECT) stops only schema changes until the transaction ends.

The sequences of the copies start where the real ones stand, so the rows the dry run makes get the
ids the real move would give them, if nothing else is written in between.

Tables left out: the ones named in ``kept`` (the clock move's own progress, written for real while
the dry run goes on). Tables copied empty: the audit trail (``portal.Event``: no rule reads it, see
tests/test_audit_trail_purge.py) and whatever points at it, which can grow to millions of rows.
"""

import re
from contextlib import contextmanager

from django.apps import apps
from django.db import connection, transaction

from portal import clock
from portal.models import Event


def _tables(kept: set[str]) -> tuple[list[str], set[str]]:
    """The tables to shadow, children before their parents (dropped in that order), and those copied
    empty (the audit trail and the tables pointing at it)."""
    models = [m for m in apps.get_models(include_auto_created=True)
              if m._meta.managed and not m._meta.proxy and m._meta.db_table not in kept]
    existing = set(connection.introspection.table_names())
    parents = {m._meta.db_table: {f.related_model._meta.db_table for f in m._meta.concrete_fields
                                  if f.is_relation and f.related_model is not None} for m in models}
    empty = {Event._meta.db_table}
    while grown := {t for t, ps in parents.items() if ps & empty} - empty:  # and what points at those
        empty |= grown
    ordered: list[str] = []

    def visit(table: str, seen: set[str]) -> None:  # a table after every table pointing at it
        if table in ordered or table in seen:
            return
        seen.add(table)
        for child, ps in parents.items():
            if table in ps and child != table:
                visit(child, seen)
        ordered.append(table)

    for table in sorted(parents):
        visit(table, set())
    return [t for t in ordered if t in existing], empty


def _copy_postgresql(cursor, tables: list[str], empty: set[str]) -> None:
    for table in tables:
        cursor.execute(f'CREATE TEMPORARY TABLE "{table}" (LIKE public."{table}" INCLUDING ALL)')
    for table in tables:
        if table not in empty:
            cursor.execute(f'INSERT INTO pg_temp."{table}" SELECT * FROM public."{table}"')  # noqa: S608 (a model's table)
    # Each identity column's sequence goes on from where the real one stands.
    cursor.execute(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = 'public'::regnamespace AND a.attidentity IN ('a', 'd') AND c.relname = ANY(%s)",
        [tables])
    for table, column in cursor.fetchall():
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'public."{table}"', column])
        (real,) = cursor.fetchone()
        cursor.execute(f"SELECT last_value, is_called FROM {real}")  # noqa: S608 (PostgreSQL's quoted name)
        last, called = cursor.fetchone()
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s, %s)",
                       [f'pg_temp."{table}"', column, last, called])


_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX ", re.IGNORECASE)


def _copy_sqlite(cursor, tables: list[str], empty: set[str]) -> None:
    for table in tables:
        cursor.execute("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = %s", [table])
        (sql,) = cursor.fetchone()
        cursor.execute(re.sub(r"^CREATE TABLE ", "CREATE TEMPORARY TABLE ", sql, count=1, flags=re.IGNORECASE))
        cursor.execute("SELECT sql FROM main.sqlite_master WHERE type = 'index' AND tbl_name = %s "
                       "AND sql IS NOT NULL", [table])
        for (index,) in cursor.fetchall():
            cursor.execute(_CREATE_INDEX.sub(lambda m: f"CREATE {m.group(1) or ''}INDEX temp.", index, count=1))
    for table in reversed(tables):  # once all exist, parents first: a row's foreign keys look for their row
        if table not in empty:
            cursor.execute(f'INSERT INTO temp."{table}" SELECT * FROM main."{table}"')  # noqa: S608 (a model's table)
    # AUTOINCREMENT: the copies go on from the real tables' counters (they never go back).
    cursor.execute("SELECT name FROM temp.sqlite_master WHERE name = 'sqlite_sequence'")
    if cursor.fetchone():
        cursor.execute("DELETE FROM temp.sqlite_sequence")
        cursor.execute("INSERT INTO temp.sqlite_sequence (name, seq) SELECT name, seq FROM main.sqlite_sequence "
                       "WHERE name IN (SELECT name FROM temp.sqlite_master WHERE type = 'table')")


def _copy(tables: list[str], empty: set[str]) -> None:
    if connection.vendor == "postgresql":
        outermost = not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if outermost:  # the copy is one moment of the world
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            _copy_postgresql(cursor, tables, empty)
    elif connection.in_atomic_block:  # inside a caller's transaction (a test's): part of it
        with connection.cursor() as cursor:
            _copy_sqlite(cursor, tables, empty)
    else:
        # A deferred transaction: it reads the real tables from one snapshot (WAL) and writes only the
        # connection's temporary ones, so it never takes the database's write lock (IMMEDIATE, the portal's
        # mode for every other transaction, would hold every writer up for as long as the copy takes).
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                _copy_sqlite(cursor, tables, empty)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")


def _drop(tables: list[str]) -> None:
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'DROP TABLE IF EXISTS {schema}."{table}"')


@contextmanager
def shadowed(*, kept: set[str]):
    """Inside, this connection reads and writes its own copy of every table but ``kept``; after, the
    copies are gone and the real tables are as they were (whatever was written inside)."""
    tables, empty = _tables(kept)
    _copy(tables, empty)
    clock.offset_forget()  # the clock's row is the copy's now (a transaction keeps the offset it read)
    try:
        yield
    finally:
        if not (connection.in_atomic_block and connection.needs_rollback):  # else its rollback drops them
            _drop(tables)
        clock.offset_forget()
