"""Texts the portal generates, in the reader's language at display time.

Invoice and quote lines, audit events and a plan change's failure are written by services (often
by the worker, in no one's language) and read later by anyone, in English or Swedish. So what is
stored is not the text but a **key** of this registry and its **params** (JSON: names, counts,
ISO dates, amounts as strings); ``render`` makes the text in the active language when a page
shows it. The English text is stored beside them (``description``) for the API, which keeps it
English for scripts, and for rows older than the registry, which show it as they are.

There is one registry. Each app registers the messages it generates when it is ready
(``register``, from its ``AppConfig.ready``): a ``gettext_lazy`` msgid with named placeholders,
an ``ngettext_lazy`` one whose named param chooses the plural form, or a function of the params
for a text made of parts (such as "Microsoft 365 Business Standard (25 licenses)" inside a
line). An audit event's key is ``event:`` and its verb; its params are its data. The ``texts``
template library renders a line or an event.
"""

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.models import IncidentStatus, Service
from portal.verbs import API_TOKEN_CREATED, API_TOKEN_REVOKED, INCIDENT_OPENED, INCIDENT_RESOLVED, INCIDENT_UPDATED

Message = Promise | Callable[[dict], str]

_REGISTRY: dict[str, Message] = {}


def register(messages: Mapping[str, Message]) -> None:
    """Add an app's messages; a key belongs to one message only."""
    for key, message in messages.items():
        if _REGISTRY.get(key, message) is not message:
            raise ImproperlyConfigured(f"the text {key!r} is registered twice")
        _REGISTRY[key] = message


def verbs_declared(module) -> frozenset[str]:
    """The audit verbs of an app's ``verbs`` module: its constants, and the values of its tables of them."""
    found = set()
    for name, value in vars(module).items():
        if name.isupper() and isinstance(value, str):
            found.add(value)
        elif name.isupper() and isinstance(value, dict):
            found |= set(value.values())
    return frozenset(found)


def register_events(events: Mapping[str, Message], *, verbs) -> None:
    """Add what an app's audit events say, by verb (their params are the events' data). ``verbs``: the
    app's verbs module; each of its verbs must say something here, and nothing else may (checked when the
    app starts)."""
    declared = verbs_declared(verbs)
    if set(events) != declared:
        raise ImproperlyConfigured(f"{verbs.__name__}: verbs without a text {sorted(declared - set(events))}, "
                                   f"texts of no verb {sorted(set(events) - declared)}")
    register({event_key(verb): message for verb, message in events.items()})


def registered() -> frozenset[str]:
    return frozenset(_REGISTRY)


# Rendered texts by language, key and params, where every param is a plain str, int, bool or None (a clock move
# renders the same line, "Microsoft 365 Business Basic (10 licenses), 2027-01-01 to 2027-02-01", for tenant after
# tenant): such a message depends only on them, and the catalogs don't change while the process runs. A message that
# reads stored rows (an add-on's name by its code) says so with ``reads_rows`` and is made each time.
_RENDERED: dict[tuple, str] = {}
_RENDERED_MOST = 4_096
_MEMO_TYPES = frozenset({str, int, bool, type(None)})


def reads_rows(message: Callable[[dict], str]) -> Callable[[dict], str]:
    """Mark a message made from stored rows as well as its params: ``render`` doesn't keep what it made."""
    message.reads_rows = True
    return message


def _memo_key(key: str, message: Message, params: dict) -> tuple | None:
    if not isinstance(message, Promise) and getattr(message, "reads_rows", False):
        return None
    types = tuple(map(type, params.values()))
    if not _MEMO_TYPES.issuperset(types):
        return None  # a list, a mapping, an amount: rendered each time
    return translation.get_language(), key, tuple(params.items()), types  # params in another order: made again


def render(key: str, params: Mapping | None = None) -> str:
    """The text of ``key`` with ``params`` in the active language. KeyError for a key nobody
    registered or a param its message needs and didn't get."""
    message = _REGISTRY[key]
    params = dict(params or {})
    memo = _memo_key(key, message, params)
    kept = _RENDERED.get(memo) if memo is not None else None  # one look: another thread may empty it meanwhile
    if kept is not None:
        return kept
    text = str(message % params) if isinstance(message, Promise) else str(message(params))
    if memo is not None:
        if len(_RENDERED) >= _RENDERED_MOST:
            _RENDERED.clear()
        _RENDERED[memo] = text
    return text


def render_or(key: str, params: Mapping | None, fallback: str) -> str:
    """``render``, or ``fallback`` (a stored text) when there is no key or it can't be rendered (a row
    older than its message, params from another version)."""
    if not key:
        return fallback
    try:
        return render(key, params)
    except (KeyError, ValueError, TypeError):
        return fallback


def event_key(verb: str) -> str:
    return f"event:{verb}"


def _plain(value):
    """A param as JSON keeps it: dates as ISO strings, amounts as strings with their cents."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Text:
    """A generated text to render later: its key and params. ``str()`` renders it in the active
    language, so a ``DomainError`` carrying one reads in the language of whoever shows it."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, **params):
        self.key = key
        self.params = {name: _plain(value) for name, value in params.items()}

    def __str__(self) -> str:
        return render(self.key, self.params)

    def __repr__(self) -> str:
        return f"Text({self.key!r}, {self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Text) and (self.key, self.params) == (other.key, other.params)

    __hash__ = None

    def english(self) -> str:
        if (translation.get_language() or "en").split("-")[0] == "en":  # English already (the workers'): as is
            return str(self)
        with translation.override("en"):
            return str(self)

    def stored(self) -> dict:
        """What a row keeps: the English ``description`` and the ``text`` key with its ``params``."""
        return {"description": self.english(), "text": self.key, "params": self.params}


# --- What the shell's own audit events say --------------------------------------------------------


def _service(params: dict) -> str:
    service = params.get("service", "")
    return Service(service).label if service in Service.values else service


def _incident_status(params: dict) -> str:
    status = params.get("status", "")
    return str(IncidentStatus(status).label) if status in IncidentStatus.values else status


EVENTS = {
    API_TOKEN_CREATED: _("API token created for %(username)s."),
    API_TOKEN_REVOKED: _("API token revoked for %(username)s."),
    INCIDENT_OPENED: lambda params: gettext("Incident on %(service)s opened: %(title)s") % {
        "service": _service(params), "title": params.get("title", "")},
    INCIDENT_UPDATED: lambda params: gettext("Incident status: %(status)s.") % {"status": _incident_status(params)},
    INCIDENT_RESOLVED: lambda params: gettext("Incident on %(service)s resolved: %(title)s") % {
        "service": _service(params), "title": params.get("title", "")},
}
