"""Querysets whose SQL is compiled once per process (issue 24 part 3).

Django compiles a queryset's SQL anew every time it runs: for the API's busiest GETs (a tenant's
subscriptions, a plan change) that was a third of the request's CPU, though the SQL is the same each time
but for a tenant's id or an object's. ``Compiled(build)`` asks ``build`` once per shape for the queryset,
with a marker for each value (a negative number no id is, or a text nobody sends), compiles it, and
notes where each marker landed among the SQL's parameters; each call then runs that SQL with the call's
values in those places and builds the model instances as Django's ``ModelIterable`` builds them (the
same ``from_db``, the same ``select_related`` objects, the same annotations, the same converters). The
answer is the queryset's own: same SQL, same rows, same order; only the compiling is skipped.

A shape is the queryset's slice (``limit``) and the length of each list value (an ``IN`` list has a
placeholder per item); shapes are kept per database connection (its SQL dialect, its converters), at most
``SHAPES_MAX`` of a query (past it they are all forgotten and compiled again as they come: a client asking for
every page size from 1 to 500 costs compiling, not memory).
``children_attach`` does what ``prefetch_related`` does for a reverse foreign key, with such a query; ``get``
with ``children`` reads an object and its children in one round trip (on PostgreSQL, both statements in one
execute: the children's query takes the id asked for as its parent's).
"""

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from portal.errors import Missing
from portal.inputs import parse_id

SHAPES_MAX = 64
_MARKER_BASE = -(2**62)  # ids are positive: no parameter of a query is one of these by chance
_markers = count(1)


@dataclass(frozen=True)
class _Shape:
    sql: str
    params: tuple  # the compiled parameters, a marker where a value goes
    slots: dict[int, tuple[str, int | None]]  # position in params → (value name, index in a list value)
    compiler: object
    converters: dict
    model: type[Model]
    init_list: list[str]
    model_start: int
    model_end: int
    populators: list
    annotations: dict[str, int]


class Compiled:
    """``build(**values)`` → a queryset of model instances (filters, ``select_related``, annotations,
    ordering; no ``prefetch_related``: see ``children_attach``). ``rows(limit=…, **values)`` runs it
    (sliced ``[:limit]`` when given) and returns the list of instances."""

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._shapes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def rows(self, *, limit: int | None = None, using: str = DEFAULT_DB_ALIAS, **values) -> list:
        shape, params = self._prepared(using, limit, values)
        with connections[using].cursor() as cursor:
            cursor.execute(shape.sql, params)
            fetched = cursor.fetchall()
        return self._built(shape, fetched, using)

    def _prepared(self, using: str, limit: int | None, values: dict) -> tuple[_Shape, list]:
        key = (limit, tuple((name, len(v) if isinstance(v, list | tuple) else None)
                            for name, v in sorted(values.items())))
        shapes = self._shapes.setdefault(connections[using], {})
        shape = shapes.get(key)
        if shape is None:
            if len(shapes) >= SHAPES_MAX:
                shapes.clear()
            shape = shapes[key] = self._compile(using, limit, values)
        params = list(shape.params)
        for position, (name, index) in shape.slots.items():
            params[position] = values[name] if index is None else values[name][index]
        return shape, params

    def get(self, raw_id, missing: Missing, *, children: tuple[str, "Compiled"] | None = None, **values) -> Model:
        """``portal.selectors.object_get`` with this query, which filters by an ``id`` value: the one instance
        with this id, or ``missing``'s NotFound when there is none or the id isn't a whole number. ``children``:
        (relation, query) as ``children_attach`` takes them, read in the same round trip to the database (the
        parent's id is the id asked for; a missing or foreign parent's children are never looked at)."""
        pk = parse_id(raw_id)
        if pk is None:
            raise missing.error()
        if children is None:
            found = self.rows(id=pk, **values)
        else:
            found, kids = _together(DEFAULT_DB_ALIAS, (self, {"id": pk, **values}), (children[1], {"parents": [pk]}))
        if not found:
            raise missing.error()
        if children is not None:
            _attach(found, relation=children[0], rows=kids)
        return found[0]

    def _compile(self, using: str, limit: int | None, values: dict) -> _Shape:
        markers: dict = {}
        slots_by_marker: dict = {}

        def marker_for(name: str, value, index: int | None):
            n = next(_markers)
            marker = _MARKER_BASE - n if isinstance(value, int) else f"\N{ASTERISM}compiled-marker-{n}"
            slots_by_marker[marker] = (name, index)
            return marker

        for name, value in values.items():
            if isinstance(value, list | tuple):
                markers[name] = [marker_for(name, v, i) for i, v in enumerate(value)]
            else:
                markers[name] = marker_for(name, value, None)
        queryset = self.build(**markers)
        if queryset._prefetch_related_lookups:  # noqa: SLF001 - refused: they would be silently skipped
            raise ValueError("Compiled: no prefetch_related in the queryset (children_attach does it)")
        if limit is not None:
            queryset = queryset[:limit]
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = {}
        for position, param in enumerate(params):
            if isinstance(param, int | str) and not isinstance(param, bool) and param in slots_by_marker:
                slots[position] = slots_by_marker[param]
        if set(slots.values()) != set(slots_by_marker.values()):
            raise ValueError(f"Compiled: a value isn't a parameter of the SQL: {sql}")
        select, klass_info = compiler.select, compiler.klass_info
        model_start, model_end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Shape(
            sql=sql, params=tuple(params), slots=slots, compiler=compiler,
            converters=compiler.get_converters([s[0] for s in select[0:compiler.col_count]]),
            model=klass_info["model"], init_list=[f[0].target.attname for f in select[model_start:model_end]],
            model_start=model_start, model_end=model_end,
            populators=get_related_populators(klass_info, select, using),
            annotations=dict(compiler.annotation_col_map or {}))

    @staticmethod
    def _built(shape: _Shape, fetched: list, using: str) -> list:
        rows = shape.compiler.apply_converters(fetched, shape.converters) if shape.converters else fetched
        built = []
        for row in rows:
            obj = shape.model.from_db(using, shape.init_list, row[shape.model_start:shape.model_end])
            for populator in shape.populators:
                populator.populate(row, obj)
            for name, position in shape.annotations.items():
                setattr(obj, name, row[position])
            built.append(obj)
        return built


def _together(using: str, *queries: tuple[Compiled, dict]) -> list[list]:
    """Each query's rows, the statements sent in one round trip where the connection can (PostgreSQL with its
    parameters bound on the client, Django's default: several statements in one execute, each result in turn);
    elsewhere one after the other."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding"):
        return [query.rows(using=using, **values) for query, values in queries]
    prepared = [query._prepared(using, None, values) for query, values in queries]
    fetched = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(shape.sql for shape, _params in prepared),
                       [param for _shape, params in prepared for param in params])
        fetched.append(cursor.fetchall())
        while cursor.nextset():
            fetched.append(cursor.fetchall())
    return [Compiled._built(shape, rows, using) for (shape, _params), rows in zip(prepared, fetched, strict=True)]


def children_attach(parents: Sequence[Model], *, relation: str, children: Compiled, key: str = "parents") -> None:
    """What ``prefetch_related(relation)`` does for a reverse foreign key: each parent's ``relation``
    answers its children (``parent.<relation>.all()`` reads no more), each child knows its parent. The
    children are ``children.rows(<key>=[parent ids])``, a query filtering the foreign key ``__in`` them."""
    if parents:
        _attach(parents, relation=relation, rows=children.rows(**{key: [parent.pk for parent in parents]}))


def _attach(parents: Sequence[Model], *, relation: str, rows: list) -> None:
    field = getattr(type(parents[0]), relation).field  # the children's foreign key
    by_parent: dict = {}
    parent_of = {parent.pk: parent for parent in parents}
    for child in rows:
        parent_id = getattr(child, field.attname)
        if not field.is_cached(child):
            field.set_cached_value(child, parent_of[parent_id])
        by_parent.setdefault(parent_id, []).append(child)
    cache_name = field.remote_field.cache_name
    for parent in parents:
        queryset = getattr(parent, relation).get_queryset()
        queryset._result_cache = by_parent.get(parent.pk, [])  # noqa: SLF001 - as prefetch_related fills it
        queryset._prefetch_done = True  # noqa: SLF001
        if not hasattr(parent, "_prefetched_objects_cache"):
            parent._prefetched_objects_cache = {}  # noqa: SLF001
        parent._prefetched_objects_cache[cache_name] = queryset  # noqa: SLF001
