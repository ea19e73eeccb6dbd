"""Who the client is, and what a locked-out login sees (django-axes' hooks, settings/base.py)."""

import math

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import ngettext
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the one PORTAL_PROXY_COUNT trusted proxies
    saw (DRF's rule, NUM_PROXIES). One rule for the login lockout and the API throttles."""
    return BaseThrottle().get_ident(request)


def login_locked_out(request, original_response=None, credentials=None):
    """The sign-in page again (the portal's, also for the Django admin's login), saying why
    sign-in is refused and for how long, in the user's language; 429 like axes' own."""
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    message = ngettext(
        "Too many failed sign-in attempts for this account from your address. Try again in %(minutes)d minute.",
        "Too many failed sign-in attempts for this account from your address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    form = AuthenticationForm(request, initial={"username": get_client_username(request, credentials) or ""})
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "registration/login.html", {"form": form, "lockout": message, "next": next_url},
                  status=settings.AXES_HTTP_RESPONSE_CODE)
