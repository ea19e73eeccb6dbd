"""Who the client is, what a locked-out login sees (django-axes' hooks, settings/base.py), and the
Content-Security-Policy header (django-csp's middleware, its header in one order and built once)."""

import math
from dataclasses import asdict

from axes.helpers import get_client_username, get_cool_off
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import DEFAULT_DIRECTIVES, build_policy
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.signals import setting_changed
from django.dispatch import receiver
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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (settings/base.py's ``CONTENT_SECURITY_POLICY``; a view's ``csp_update`` or nonce as
    before), with two differences. The header names its directives in one order, the settings' (then django-csp's
    list): django-csp writes them in a set's order, which differs from process to process, so two gunicorn workers
    answered the same request with different bytes. And the policy of the settings alone — every response's but
    those of a view that changes it or uses a nonce — is built once per process, not again for each response."""

    def process_response(self, request, response):
        if response.status_code in (500, 404) and settings.DEBUG:  # Django's debug pages: as django-csp leaves them
            return response
        for report_only, header, setting, exempt in (
                (False, HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
                (True, HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro")):
            policy = self.policy(self.get_policy_parts(request=request, response=response, report_only=report_only),
                                 report_only=report_only)
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if (policy and header not in response and getattr(response, exempt, False) is False
                    and not request.path_info.startswith(tuple(prefixes))):
                response[header] = policy
        if getattr(request, "_csp_nonce", None) is None:  # as django-csp: a nonce asked for now can't be in the header
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    @staticmethod
    def policy(parts: PolicyParts, *, report_only: bool) -> str:
        plain = parts.config is None and parts.update is None and parts.replace is None and parts.nonce is None
        if plain and report_only in _built:
            return _built[report_only]
        built = build_policy(**asdict(parts), report_only=report_only)
        if built:
            setting = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
            named = (getattr(settings, setting, None) or {}).get("DIRECTIVES") or {}
            order = {name: place for place, name in enumerate(dict.fromkeys([*named, *DEFAULT_DIRECTIVES]))
                     if name != "report-uri"}
            # A source can't hold "; " (it ends a directive): the built policy's directives, put in order. django-csp
            # writes report-uri last; it stays there.
            built = "; ".join(sorted(built.split("; "), key=lambda d: order.get(d.split(" ", 1)[0], len(order))))
        if plain:
            _built[report_only] = built
        return built


# The settings' policy, built (report-only or not): until the settings change (in tests).
_built: dict[bool, str] = {}


@receiver(setting_changed)
def _policy_settings_changed(*, setting, **kwargs):
    if setting in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
        _built.clear()
