"""The API's JSON parser: DRF's, bounded in size and depth, and refusing strings no column
can hold (registered in settings, REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"])."""

import re
from itertools import accumulate
from json import JSONDecodeError

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from portal.api.exceptions import BodyTooLarge

# No request body of the API nests deeper than 3; 32 leaves room and keeps json.loads far
# from Python's recursion limit (a body nested 100,000 deep used to be a RecursionError).
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_BRACKET_STEP = str.maketrans({"[": "+", "{": "+", "]": "-", "}": "-"})
# A NUL (PostgreSQL's text refuses it) or half of a surrogate pair (UTF-8 can't encode it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests deeper than ``limit``, counted without parsing it (brackets
    inside strings don't count; malformed text is the parser's to refuse)."""
    steps = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_BRACKET_STEP)
    return any(depth > limit for depth in accumulate(1 if step == "+" else -1 for step in steps))


# The json module's refusals, in the reader's language (its own words are English only).
JSON_MESSAGES = {
    "Expecting value": gettext_lazy("Expecting value"),
    "Expecting property name enclosed in double quotes": gettext_lazy(
        "Expecting property name enclosed in double quotes"),
    "Expecting ',' delimiter": gettext_lazy("Expecting ',' delimiter"),
    "Expecting ':' delimiter": gettext_lazy("Expecting ':' delimiter"),
    "Extra data": gettext_lazy("Extra data"),
    "Unterminated string starting at": gettext_lazy("Unterminated string starting at"),
    "Invalid control character at": gettext_lazy("Invalid control character at"),
    "Invalid \\escape": gettext_lazy("Invalid \\escape"),
    "Invalid \\uXXXX escape": gettext_lazy("Invalid \\uXXXX escape"),
}


def json_message(exc: JSONDecodeError) -> str:
    """What the json module says is wrong, in the reader's language when it is one of its usual sentences."""
    return str(JSON_MESSAGES.get(exc.msg, exc.msg))


def unstorable_string(data) -> str | None:
    """What is wrong with the first string (key or value) no column can store, if any (a sentence in the
    reader's language)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found:
                return _("a string contains a NUL character.") if found.group() == "\x00" else _(
                    "a string contains a lone surrogate.")
    return None


class JSONParser(parsers.JSONParser):
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413, nesting deeper than ``MAX_DEPTH``,
    malformed JSON or a string with a NUL or a lone surrogate 400 (problem+json)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge()
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        if _deeper_than(text, MAX_DEPTH):
            raise ParseError(_("JSON parse error - nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH})
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except JSONDecodeError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": _(
                "%(message)s: line %(line)d column %(column)d (char %(char)d)") % {
                "message": json_message(exc), "line": exc.lineno, "column": exc.colno, "char": exc.pos}}) from exc
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        problem = unstorable_string(data)
        if problem:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": problem})
        return data
