"""Each user's change (``licenses_preview``) as CSV, every user, filtered as the pages filter the table: the
rehearsal's answer an admin takes away. Columns: user principal name, from, to, services gained, services
lost, turned back on, data lost (several services in one cell separated by "; ")."""

import csv
import io

from django.utils.translation import gettext as _

from licensing.preview import LicensePreview, UserChange
from portal.errors import DomainError

COLUMNS = ["user_principal_name", "from", "to", "services_gained", "services_lost", "turned_back_on", "data_lost"]
# What a table of users can be narrowed to (the pages' filter, the download's ``only``).
FILTERS = {
    "gains": lambda c: bool(c.gained),
    "losses": lambda c: bool(c.lost),
    "data_lost": lambda c: bool(c.data_lost),
    "settings_reset": lambda c: bool(c.reset_disabled_plans),
}


def user_changes_fields(data) -> tuple[str | None, bool]:
    """The per-user table's own fields as its form posts them: ``only`` (one of ``FILTERS``) and ``download``
    ("csv"), each empty or one of its values; anything else is refused (never taken as "every user" or as no
    download: a form that posts them does nothing with a value it doesn't know)."""
    only, download = data.get("only", ""), data.get("download", "")
    if only not in ("", *FILTERS):
        raise DomainError(_("Choose which users to show: every user, or %(values)s.")
                          % {"values": ", ".join(FILTERS)}, code="invalid", field="only")
    if download not in ("", "csv"):
        raise DomainError(_("The download is CSV or nothing."), code="invalid", field="download")
    return only or None, download == "csv"


def _cell(text: str) -> str:
    """Text a spreadsheet won't run as a formula (OWASP's CSV injection): a leading =, +, -, @ gets a quote."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def user_changes_filtered(preview: LicensePreview, only: str | None) -> list[UserChange]:
    keep = FILTERS.get(only or "")
    return [c for c in preview.every if keep is None or keep(c)]


def user_changes_csv(preview: LicensePreview, *, source: str, target: str, only: str | None = None) -> str:
    """The CSV text: a header row, then one row per user (``only``: one of FILTERS, or every user)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for c in user_changes_filtered(preview, only):
        writer.writerow([_cell(value) for value in (
            c.upn, source, target, "; ".join(c.gained), "; ".join(c.lost), "; ".join(c.reset_disabled_plans),
            "; ".join(c.data_lost))])
    return out.getvalue()
