"""The API's JSON parser: DRF's, bounded in size and depth, and refusing strings no column
can hold (registered in settings, REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"])."""

import re
from itertools import accumulate

from django.conf import settings
from django.utils.translation import gettext as _
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
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        problem = unstorable_string(data)
        if problem:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": problem})
        return data
