"""``Authorization: Token <token>`` with the portal's own API tokens (``portal.models.ApiToken``).

Replaces DRF's ``TokenAuthentication`` (one plaintext key per login): tokens are stored as digests,
several per login, with an expiry and a revocation. Every request looks its token up in the database
or in what the process kept of it for the generation the request read (``portal.api.kept``,
``portal.generation``), so a revoked or expired token answers 401 on the very next request. The
bad-token throttle of ``portal.api.throttling`` stays in front: after too many bad tokens from one
address, every token from it answers 429.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from portal import tokens
from portal.api import kept
from portal.api.throttling import TokenAuthentication
from portal.models import ApiToken, ApiTokenStatus
from portal.selectors import api_token_find
from portal.services import api_token_mark_used


class TokenRevoked(exceptions.AuthenticationFailed):
    default_detail = _("This API token was revoked.")
    default_code = "token_revoked"


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = _("This API token has expired.")
    default_code = "token_expired"


class ApiTokenAuthentication(TokenAuthentication):
    """The caller is the login whose live token this is, acting with that login's roles."""

    def authenticate(self, request):
        # ``Bearer`` is what many REST clients send by default: say which scheme to use instead of
        # "credentials were not provided" (the token isn't looked at, so it is no guess to count).
        header = authentication.get_authorization_header(request).split()
        if header and header[0].lower() == b"bearer":
            raise exceptions.AuthenticationFailed(_("Send the token as Authorization: Token <token>, not Bearer."))
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        token = api_token_find(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        self.refuse_unless_live(token)
        api_token_mark_used(token=token)
        if self.stamp is not None:
            kept.keep(digest=tokens.digest(key), stamp=self.stamp, token=token)
        return token.user, token

    def kept_token(self, header):
        if len(header) != 2 or len(header[1]) > tokens.MAX_LENGTH:
            return None  # looked up, and refused, as DRF and api_token_find refuse it
        try:
            digest = tokens.digest(header[1].decode())
        except UnicodeError:
            return None
        token = kept.find(digest=digest)
        if token is None or token.status_at(timezone.now()) != ApiTokenStatus.ACTIVE or not token.user.is_active:
            return None  # an expired one is looked up and refused as a failure, as always
        token.kept_digest = digest
        return token

    def kept_credentials(self, token, stamp):
        if token is None or token.kept_stamp != stamp:
            return None
        used = token.last_used_at
        api_token_mark_used(token=token)
        if token.last_used_at != used:
            kept.noted_use(digest=token.kept_digest, token=token)
        return token.user, token

    @staticmethod
    def refuse_unless_live(token: ApiToken) -> None:
        status = token.status_at(timezone.now())
        if status == ApiTokenStatus.REVOKED:
            raise TokenRevoked()
        if status == ApiTokenStatus.EXPIRED:
            raise TokenExpired()
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
