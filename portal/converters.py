"""Path converters of the pages' URLs (registered by ``portal.apps``)."""

from portal.inputs import ID_PATTERN, parse_id


class IdConverter:
    """``<id:…>``: an object's id, ASCII digits from 1 to 2**63 - 1. ``<int:…>`` passes any
    number of digits on, and a number past the database's integers is a 500 in a lock query."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # no match: 404
        return number

    def to_url(self, value) -> str:
        return str(value)
