"""Graph's ids are GUIDs. The portal's rows have whole-number ids, so each kind of object gets GUIDs of its own
form, ``<tag>-0000-4000-8000-<id as 12 hex digits>``: the same id always gives the same GUID, and a GUID gives
the id back. A well-formed GUID of another form is no object of the kind (404); anything else is no GUID (400)."""

import re
import uuid

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

TENANT = 0x7E0A0001
USER = 0x7E0A0002
SUBSCRIPTION = 0x7E0A0003
COMMERCE_SUBSCRIPTION = 0x7E0A0004
_ID_MAX = 16**12 - 1


def guid(tag: int, pk: int) -> str:
    return f"{tag:08x}-0000-4000-8000-{pk:012x}"


def is_guid(value: str) -> bool:
    return bool(GUID.match(value or ""))


def pk_of(tag: int, value: str) -> int | None:
    """The id a GUID of this kind stands for, or None (another kind, or none of ours)."""
    value = (value or "").lower()
    if not is_guid(value) or not value.startswith(f"{tag:08x}-0000-4000-8000-"):
        return None
    pk = int(value[-12:], 16)
    return pk if 0 < pk <= _ID_MAX else None


def parse_uuid(value) -> uuid.UUID | None:
    """A GUID as Graph takes one in a body or a filter (hyphenated, any case), or None."""
    return uuid.UUID(value) if isinstance(value, str) and is_guid(value) else None
