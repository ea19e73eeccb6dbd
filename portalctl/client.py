"""The portal's REST API over httpx; every failure becomes a ``PortalError`` in words.

A 4xx answer (problem+json) is a refusal (exit 2); the network, timeouts and 5xx are
failures (exit 1). The CLI never shows a traceback: main.run() prints the error's words.
"""

import httpx

from portalctl.texts import _, language

TIMEOUT = 30.0


class PortalError(Exception):
    """Something the user is told in words; ``exit_code`` 1 failed, 2 refused."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 problem: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.problem = problem or {}

    @property
    def blockers(self) -> list[dict]:
        return self.problem.get("blockers") or []


class Refused(PortalError):
    """The portal refused the request (4xx), or the command can't be run as given."""

    exit_code = 2


class Failed(PortalError):
    """The portal couldn't be reached or failed (5xx)."""

    exit_code = 1


class Interrupted(PortalError):
    """Ctrl-C while following a change (which goes on in the portal)."""

    exit_code = 130


def api_base(url: str) -> str:
    """``http://host:8000``, ``…/`` or ``…/api/v1/`` → ``http://host:8000/api/v1/``."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise Refused(_("The URL must start with http:// or https://: {url}", url=url), code="invalid_url")
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    return url + "/api/v1/"


class Client:
    def __init__(self, url: str, token: str, *, timeout: float = TIMEOUT):
        self.url = url
        self.timeout = timeout
        self.http = httpx.Client(
            base_url=api_base(url), timeout=timeout, follow_redirects=False,
            headers={"Authorization": f"Token {token}", "Accept": "application/json",
                     "Accept-Language": language(), "User-Agent": "portalctl"},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method: str, path: str, *, body=None, params=None, headers=None):
        try:
            response = self.http.request(method, path.lstrip("/"), json=body, params=params, headers=headers)
        except httpx.TimeoutException:
            raise Failed(_("The portal at {url} didn't answer within {seconds} seconds.",
                           url=self.url, seconds=int(self.timeout)), code="timeout") from None
        except httpx.ConnectError as exc:
            raise Failed(_("Can't reach the portal at {url}: {reason}", url=self.url, reason=_reason(exc)),
                         code="unreachable") from None
        except httpx.HTTPError as exc:
            raise Failed(_("The connection to the portal at {url} failed: {reason}",
                           url=self.url, reason=_reason(exc)), code="connection_failed") from None
        return self._answer(response)

    def get(self, path: str, **params):
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body=None, *, headers=None):
        return self.request("POST", path, body=body, headers=headers)

    def pages(self, path: str, **params) -> list[dict]:
        """Every item of a paginated list, following ``next``."""
        items: list[dict] = []
        page = self.get(path, page_size=500, **params)
        while True:
            items.extend(page["results"])
            if not page.get("next"):
                return items
            page = self._answer_of_next(page["next"])

    def _answer_of_next(self, url: str):
        # ``next`` is a full URL built by the portal from the request's host; follow its path and query.
        next_url = httpx.URL(url)
        return self.request("GET", next_url.path.removeprefix(self.http.base_url.path),
                            params=dict(next_url.params))

    def _answer(self, response: httpx.Response):
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        data = None
        if kind in ("application/json", "application/problem+json"):
            try:
                data = response.json()
            except ValueError:
                data = None
        if response.status_code == 204:
            return None
        if data is None:
            raise Failed(_("The answer from {url} isn't the portal's (HTTP {status}, {content_type}). Check the URL.",
                           url=self.url, status=response.status_code, content_type=kind or "-"),
                         status=response.status_code, code="not_the_portal")
        if response.status_code < 400:
            return data
        raise problem_error(response.status_code, data if isinstance(data, dict) else {},
                            retry_after=response.headers.get("retry-after"))


def problem_error(status: int, problem: dict, *, retry_after: str | None = None) -> PortalError:
    """A problem+json answer as an error in words: the portal's ``detail`` with its code and status."""
    code = problem.get("code") or "error"
    detail = problem.get("detail") or problem.get("title") or ""
    if status == 401:
        hint = _("The token was refused: sign in again with portalctl login, or check --token / PORTAL_TOKEN.")
        detail = f"{detail} {hint}"
    if status == 429 and retry_after:
        detail = f"{detail} {_('Try again in {seconds} seconds.', seconds=retry_after)}"
    errors = problem.get("errors")
    if isinstance(errors, dict):
        detail += "".join(f"\n  {field}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
                          for field, msgs in errors.items())
    kind = Refused if 400 <= status < 500 else Failed
    return kind(f"{detail.strip()} ({code}, HTTP {status})", status=status, code=code, problem=problem)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text:
        return _("connection refused")
    return text.split("] ")[-1]  # "[Errno -2] Name or service not known" → "Name or service not known"
