"""Domain errors users can act on: a code, a message in the user's language, a status."""


class DomainError(Exception):
    """An error with a stable ``code`` (CONTRACT.md) and a translated ``detail``."""

    status = 422
    code = "invalid"

    def __init__(self, detail, *, code: str | None = None, status: int | None = None, **extra):
        super().__init__(str(detail))
        self.detail = detail
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra

    def field_errors(self) -> dict:
        """Errors by form field, for a page to show beside its controls: a card's fields, the field the
        service named, or the form as a whole."""
        if "errors" in self.extra:
            return {k: str(v) for k, v in self.extra["errors"].items()}
        return {self.extra.get("field") or "form": str(self.detail)}


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Missing:
    """How "not found" reads for one kind of object: its code (docs/api.md "Not found") and its
    sentence. Selectors raise it (``portal.selectors.object_get``); the API's detail routes answer it."""

    __slots__ = ("code", "detail", "extra")

    def __init__(self, code: str, detail, **extra):
        self.code, self.detail, self.extra = code, detail, extra  # extra: e.g. a body field's status and name

    def error(self) -> NotFound:
        return NotFound(self.detail, code=self.code, **self.extra)


def short_list(items, limit: int = 5) -> str:
    """``a, b, c and 2 more`` for error messages about several users."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} (+{len(items) - limit})"
