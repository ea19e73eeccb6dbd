"""API exceptions of the project's own (``portal.api.errors`` turns them into problem+json)."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, status


def body_too_large_detail(limit: int | None = None) -> str:
    """``limit``: the bytes this request may have (default ``DATA_UPLOAD_MAX_MEMORY_SIZE``)."""
    return _("The request body is larger than %(limit)d bytes.") % {
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit}


class BodyTooLarge(exceptions.APIException):
    """413: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"

    def __init__(self):
        super().__init__(body_too_large_detail())
