"""DRF's ``serializers``, with the portal's strict fields as its defaults for text and booleans.

Every API module imports ``serializers`` from here, not from ``rest_framework``: a ``CharField`` (and
DRF's other text fields) then takes only a JSON string, as the schema says, and a ``BooleanField``
only ``true`` or ``false`` (``portal.api.fields``), in every request serializer, declared or built from
a model, with nothing said in each field. DRF's own took a card's ``holder_name`` of 123 as "123" and a
``recurring_billing`` of 0 as false (issue 21). Answers are unchanged: these differ only in what they
take. The rest of DRF's names are DRF's, as they are.

tests/portal/test_api_json_types.py sends every request body's string and boolean fields the wrong
JSON type, and checks that no request serializer has a text or boolean field that isn't one of these.
"""

from django.db import models
from rest_framework import serializers as drf
from rest_framework.serializers import *  # noqa: F403 - DRF's names, but for the fields below

from portal.api.fields import StrictBooleanField, StrictText
from portal.api.fields import StrictCharField as CharField

BooleanField = StrictBooleanField


class EmailField(StrictText, drf.EmailField):
    pass


class RegexField(StrictText, drf.RegexField):
    pass


class SlugField(StrictText, drf.SlugField):
    pass


class URLField(StrictText, drf.URLField):
    pass


class IPAddressField(StrictText, drf.IPAddressField):
    pass


# Fields built from a model's text and boolean columns are the strict ones too. (No docstring: drf-spectacular
# would make it the description of every model serializer's component.)
class ModelSerializer(drf.ModelSerializer):
    serializer_field_mapping = {
        **drf.ModelSerializer.serializer_field_mapping,
        models.BooleanField: BooleanField,
        models.CharField: CharField,
        models.TextField: CharField,
        models.EmailField: EmailField,
        models.SlugField: SlugField,
        models.URLField: URLField,
        models.GenericIPAddressField: IPAddressField,
    }
