"""The article's "Next steps" after a change: Microsoft's set-up guidance for the plan changed to, where it has
some ("If you upgraded to Microsoft 365 Business Premium, use the steps in the Business Premium library to set
up your new security features"). A link out, read by the admin; nothing is loaded from it."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Guide:
    url: str
    text: Promise
    label: Promise


GUIDES = {
    "SPB": Guide(
        url="https://learn.microsoft.com/microsoft-365/business-premium/",
        text=_("Use the steps in the Business Premium library to set up your new security features."),
        label=_("Open the Business Premium library"),
    ),
}


def guide_for(product) -> Guide | None:
    """Microsoft's set-up guidance for a product changed to, by its SKU; None where there is none."""
    return GUIDES.get(getattr(product, "sku", ""))
