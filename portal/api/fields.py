"""The API's input fields, strict where DRF's are lenient (``portal.inputs`` says why).

DRF's ``IntegerField`` takes ``'٤'`` as 4, ``4.0`` and ``'4.0'`` as 4 and has no bounds by
default; its ``DateField`` takes Arabic-Indic digits; ``PrimaryKeyRelatedField`` takes
whatever the model field's ``int()`` takes; its ``CharField`` takes 123 as "123" and its
``BooleanField`` 0, "1" and "yes". Every request serializer uses these instead
(tests/test_hostile_inputs.py checks that no other integer, date or id field is left): the
text and boolean ones by default, through ``portal.api.serializers``
(tests/portal/test_api_json_types.py checks those).
"""

from datetime import UTC, datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.inputs import ID_MAX, LICENSES_MAX, is_iso_date, is_iso_datetime, is_plain_text, is_upn, whole_number


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer or a string of ASCII digits, within bounds the field must name."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) > self.MAX_STRING_LENGTH:
            self.fail("max_string_length")
        value = whole_number(data)
        if value is None:
            self.fail("invalid")
        return value


class IdField(StrictIntegerField):
    """An object's id: 1 to 2**63 - 1."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class LicensesField(StrictIntegerField):
    """A number of licenses: 1 to 1,000,000 (the product's own maximum is the services')."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=LICENSES_MAX, **kwargs)


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by its id, taken only as a whole number from 1 to 2**63 - 1."""

    def to_internal_value(self, data):
        pk = whole_number(data)
        if pk is None:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= pk <= ID_MAX:
            self.fail("does_not_exist", pk_value=pk)
        return super().to_internal_value(pk)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: a string, a number or null is refused, so a typo never turns
    a preview into the real thing (nor 0 a subscription's billing off). ``portal.api.serializers`` makes
    it the default of every boolean field."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class StrictDateField(serializers.DateField):
    """``YYYY-MM-DD`` in ASCII digits."""

    def to_internal_value(self, value):
        if isinstance(value, str) and not is_iso_date(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


# The formats a StrictDateTimeField takes, as its error names them (in the caller's language).
DATETIME_FORMATS = _("YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|±hh:mm]")


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time in ASCII digits (``2026-07-01T12:00:00Z``; without an offset it is UTC), or
    a date alone (``2026-07-01``: that day's start, UTC). DRF's own takes Arabic-Indic digits."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not is_iso_datetime(value):
            self.fail("invalid", format=DATETIME_FORMATS)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail("invalid", format=DATETIME_FORMATS)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def plain_text(value: str) -> None:
    if not is_plain_text(value):
        raise serializers.ValidationError(_("The name can't contain control characters or text-direction overrides."))


# For the schema: what DRF's CharField strips from both ends (``str.strip``: Python's whitespace) and
# what ``plain_text`` refuses (control characters, line and paragraph separators, text-direction
# characters; a lone surrogate never gets past the JSON parser).
_STRIPPED = r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOT_PLAIN = r"\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Some character that isn't stripped: what a CharField that can't be blank needs.
NOT_BLANK_PATTERN = rf"[^{_STRIPPED}]"
# Plain text once stripped, and not blank.
PLAIN_TEXT_PATTERN = rf"^[{_STRIPPED}]*[^{_NOT_PLAIN}]*[^{_NOT_PLAIN}{_STRIPPED}][^{_NOT_PLAIN}]*[{_STRIPPED}]*$"
# The same, or only whitespace, for a field that may be blank. Not "": drf-spectacular offers "" on
# its own beside the pattern (oneOf), and "" mustn't match both.
PLAIN_TEXT_OR_BLANK_PATTERN = rf"^[{_STRIPPED}]+$|{PLAIN_TEXT_PATTERN}"


class StrictText:
    """For DRF's text fields (``CharField`` and its subclasses): text, as the schema says; a JSON number
    (DRF would take 123 as "123") is refused like any other type. ``portal.api.serializers`` makes it the
    default of every text field."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(StrictText, serializers.CharField):
    """Text, as the schema says: a JSON number (DRF would take 123 as "123") is refused like any other type."""


class NameField(StrictCharField):
    """A name people read: no control or text-direction characters."""

    @property
    def openapi_pattern(self) -> str:
        return PLAIN_TEXT_OR_BLANK_PATTERN if self.allow_blank else PLAIN_TEXT_PATTERN

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(plain_text)

def upn(value: str) -> None:
    if not is_upn(value.strip()):
        raise serializers.ValidationError(_(
            "Enter a user name of up to 64 letters (A-Z), digits (0-9) and ' . - _ ! # ^ ~, not starting or "
            "ending with a period, followed by @ and your organization's domain."))


# portal.inputs' UPN without its look-arounds, for the schema (a generator can't draw look-arounds).
_UPN_CHAR = "[A-Za-z0-9'_!#^~-]"
UPN_PATTERN = (rf"^{_UPN_CHAR}(?:[A-Za-z0-9'._!#^~-]{{0,62}}{_UPN_CHAR})?"
               r"@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*$")


class UpnField(StrictCharField):
    """A user principal name with Entra ID's characters only."""

    openapi_pattern = UPN_PATTERN

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)
        self.validators.append(upn)


# FieldsBuiltOnce, for a ``ModelSerializer``: its fields built from the model once per class, then copied for each
# serializer (as DRF copies declared fields), instead of introspecting the model on every request (a fifth of a list's
# serializing CPU). Only for serializers whose ``get_fields`` depends on nothing but the class (no context, instance or
# request). Every field is copied shallowly (DRF's deep copy builds it again from its arguments: three times the time):
# binding sets what is the copy's own (name, parent, source), and what the copies share (choices, validators,
# messages) no serializer changes. A field's child (a list's, a dict's, a many-related field's) is copied the same way,
# the copy its parent; a nested serializer builds its own fields when first asked. (No docstring: drf-spectacular
# makes a serializer's first docstring up its classes the description of its component, Subscription, PlanChange,
# Step and every other serializer with this mixin.)
class FieldsBuiltOnce:
    _fields_built: dict = {}

    def get_fields(self):
        cls = type(self)
        built = FieldsBuiltOnce._fields_built.get(cls)
        if built is None:
            built = FieldsBuiltOnce._fields_built[cls] = super().get_fields()
        return {name: _copied(field) for name, field in built.items()}


_CHILDREN = ("child", "child_relation")


def _copied(field):
    copied = object.__new__(type(field))
    copied.__dict__.update(field.__dict__)
    copied.__dict__.pop("fields", None)  # a serializer's bound fields (a cached property): each builds its own
    for name in _CHILDREN:
        child = field.__dict__.get(name)
        if child is not None:
            child = _copied(child)
            child.parent = copied  # bound already (its name, source and label are the same ones)
            setattr(copied, name, child)
    return copied


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(serializers.JSONField):
    """A JSON object whose fields vary by its kind (an audit event's data by verb, a delivery's by event
    type: docs/api.md): the schema says it is an object, and no more (tests/contract/schema_rules.FREE_FORM)."""
