"""Where portalctl keeps the portal's URL and the token: ``config.json`` in the user's config
directory (``typer.get_app_dir``: ``$XDG_CONFIG_HOME/portalctl`` or ``~/.config/portalctl`` on
Linux), readable by the user alone (0600, its folder 0700).

Precedence: flags (``--url``, ``--token``) > environment (``PORTAL_URL``, ``PORTAL_TOKEN``) > the file.
"""

import json
import os
from pathlib import Path

import typer

from portalctl.client import Refused
from portalctl.texts import _

APP_NAME = "portalctl"


def config_path() -> Path:
    return Path(typer.get_app_dir(APP_NAME)) / "config.json"


def config_load() -> dict:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise Refused(_("The configuration file {path} can't be read: {reason}", path=path, reason=exc),
                      code="config_unreadable") from None
    return data if isinstance(data, dict) else {}


def config_save(*, url: str, token: str) -> Path:
    """Write the file with mode 0600 from the start (never briefly readable by others)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump({"url": url, "token": token}, file, indent=2)
        file.write("\n")
    os.replace(temporary, path)
    os.chmod(path, 0o600)
    return path


def settings_resolve(*, url: str | None, token: str | None) -> tuple[str, str]:
    """The URL and token to use: flags, then PORTAL_URL / PORTAL_TOKEN, then the saved file."""
    saved = None
    if not url:
        url = os.environ.get("PORTAL_URL") or (saved := config_load()).get("url")
    if not token:
        token = os.environ.get("PORTAL_TOKEN") or (saved if saved is not None else config_load()).get("token")
    if not url:
        raise Refused(_("No portal URL: run portalctl login, or give --url or PORTAL_URL."), code="not_configured")
    if not token:
        raise Refused(_("No token: run portalctl login, or give --token or PORTAL_TOKEN."), code="not_configured")
    return url, token
