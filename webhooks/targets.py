"""Where a webhook may be sent: an http(s) URL without credentials whose host is on the public
internet. Loopback, private, link-local, shared, reserved, multicast and unspecified addresses are
refused (SSRF), when the endpoint is made and again at every send (DNS may have changed), unless
``PORTAL_WEBHOOKS_ALLOW_PRIVATE`` is on (development and tests)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.inputs import is_plain_text

URL_MAX = 2000
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case; an IPv6 address without its brackets
    port: int
    path: str  # path and query, as sent in the request line


def url_parse(url: str) -> Target | None:
    """The URL's parts when it is a URL a webhook can go to, else None (checked before anything resolves)."""
    if not isinstance(url, str) or not url or len(url) > URL_MAX or not url.isascii() or not is_plain_text(url):
        return None
    if any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username is not None or parts.password is not None:
        return None
    host = (parts.hostname or "").lower()
    if not host or "@" in parts.netloc:
        return None
    if "%" in host:  # an IPv6 zone (fe80::1%eth0) names this machine's own link: never a public address
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.rstrip(".").split(".")
        if not set(host) <= _HOST_CHARS or any(not label or len(label) > 63 or label.startswith("-")
                                               or label.endswith("-") for label in labels):
            return None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port or (443 if parts.scheme == "https" else 80), path=path)


def url_invalid_message(url) -> str:
    """Why ``url_parse`` refused a URL, in words its author can act on."""
    if isinstance(url, str) and not url.isascii():
        return _("Write the URL in ASCII: an international domain name in its xn-- form, other characters "
                 "percent-encoded.")
    return _("Enter an http or https URL without a user name or password.")


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and (ip.ipv4_mapped or ip.sixtofour):
        ip = ip.ipv4_mapped or ip.sixtofour
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
                                 or ip.is_multicast or ip.is_unspecified)


def resolve(target: Target) -> list[str]:
    """Every address the host has now (empty when it has none)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(info[4][0] for info in infos))


def private_allowed() -> bool:
    return bool(getattr(settings, "PORTAL_WEBHOOKS_ALLOW_PRIVATE", False))


class PrivateTarget(DomainError):
    status = 422
    code = "webhook_url_private"


def is_loopback_name(host: str) -> bool:
    """``localhost`` and every name under it are loopback by definition (RFC 6761), with or without
    the final dot, whatever a resolver answers for them (found by probing, probe2: ``localhost.``
    didn't resolve here, so it was taken as a name that might resolve later)."""
    name = host.rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def addresses_check(target: Target, addresses: list[str]) -> None:
    """Refuse a target any of whose addresses is not public (one is enough to reach inside)."""
    if private_allowed():
        return
    if is_loopback_name(target.host) or any(not is_public(a) for a in addresses):
        raise PrivateTarget(_("Webhooks can't be sent to loopback, private or reserved addresses (%(host)s).")
                            % {"host": target.host}, field="url")


def target_check(url: str) -> Target:
    """At creation: a webhook URL, public as far as the host resolves now (one that doesn't resolve yet
    is taken, and checked again when it is sent to)."""
    target = url_parse(url)
    if target is None:
        raise DomainError(url_invalid_message(url), code="webhook_url_invalid", field="url")
    addresses_check(target, resolve(target))
    return target
