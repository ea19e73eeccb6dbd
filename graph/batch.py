"""``POST $batch``: JSON batching as Graph defines it. Up to 20 requests, each ``{id, method, url, headers?,
body?, dependsOn?}``, answered ``{"responses": [{id, status, headers, body}]}`` in the order sent. Each request
is run as if sent alone, through the same URL and view, with the batch's token: authorised, throttled and
audited on its own, in its own transaction. A request whose dependency failed answers 424 and is not run.
The batch itself is checked first (size, ids, methods, urls, dependencies, no nested $batch): a bad one is a
400 and nothing in it runs. The SDK's batch helpers write ``depends_on``; it is read like ``dependsOn``."""

import io
import json
from urllib.parse import unquote, urlsplit

from django.core.handlers.wsgi import WSGIRequest
from django.urls import Resolver404, resolve
from rest_framework.response import Response

from graph.base import BASE_PATH, GraphView
from graph.errors import error_body

BATCH_MAX = 20
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# What an inner request takes over from the batch: who sends it and where from.
_CARRIED = ("HTTP_AUTHORIZATION", "REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST",
            "wsgi.url_scheme", "HTTP_ACCEPT_LANGUAGE", "HTTP_CLIENT_REQUEST_ID")


class BatchError(Exception):
    pass


def _path(url) -> str:
    """An inner request's URL as a path under /graph/v1.0: relative (``/users/…``, ``users/…``), with the
    version (``/v1.0/users/…``) or the whole base (``/graph/v1.0/…``, as the SDK sends it), or absolute."""
    if not isinstance(url, str) or not url.strip():
        raise BatchError("Each request needs a url.")
    parts = urlsplit(url.strip())
    path = "/" + parts.path.lstrip("/")
    for prefix in (BASE_PATH, "/v1.0"):
        if path.startswith(prefix + "/") or path == prefix:
            path = path[len(prefix):] or "/"
            break
    return f"{BASE_PATH}{path}" + (f"?{parts.query}" if parts.query else "")


def _checked(body) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or not body["requests"]:
        raise BatchError("The batch needs requests: a collection of 1 to 20 requests.")
    requests = body["requests"]
    if len(requests) > BATCH_MAX:
        raise BatchError(f"Number of batch requests exceeds the limit of {BATCH_MAX}.")
    seen: set[str] = set()  # the ids so far, lower-cased: ids are case-insensitive (Graph's JSON batching)
    checked = []
    for item in requests:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise BatchError("Each request needs an id, a string.")
        if item["id"].lower() in seen:
            raise BatchError(f"Batch request id '{item['id']}' is used more than once.")
        method = item.get("method")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise BatchError(f"Request '{item['id']}' has an invalid method.")
        path = _path(item.get("url"))
        if unquote(urlsplit(path).path).rstrip("/").endswith("/$batch"):  # as the inner request will see it
            raise BatchError("Nested batch requests are not supported.")
        depends = item.get("dependsOn", item.get("depends_on")) or []
        if not isinstance(depends, list) or any(not isinstance(d, str) or d.lower() not in seen for d in depends):
            raise BatchError(f"Request '{item['id']}' depends on a request that isn't before it in the batch.")
        headers = item.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise BatchError(f"Request '{item['id']}' has invalid headers.")
        seen.add(item["id"].lower())
        checked.append({"id": item["id"], "method": method.upper(), "path": path, "headers": headers,
                        "body": item.get("body"), "depends": depends})
    return checked


def _inner_request(outer, item: dict) -> WSGIRequest:
    body = b"" if item["body"] is None else json.dumps(item["body"]).encode()
    path, _, query = item["path"].partition("?")
    environ = {key: outer.META[key] for key in _CARRIED if key in outer.META}
    environ.update({"REQUEST_METHOD": item["method"], "PATH_INFO": unquote(path), "SCRIPT_NAME": "",
                    "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)})
    headers = {k.lower(): v for k, v in item["headers"].items()}
    environ["CONTENT_TYPE"] = headers.pop("content-type", "application/json" if body else "")
    for name, value in headers.items():
        if name not in ("authorization", "content-length", "host"):
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return WSGIRequest(environ)


def _run(outer, item: dict) -> dict:
    request = _inner_request(outer, item)
    try:
        match = resolve(request.path_info)
    except Resolver404:  # the catch-all answers every path under /graph/; this is a belt to its braces
        return {"id": item["id"], "status": 400, "headers": {"Content-Type": "application/json"},
                "body": error_body(request, "BadRequest", "Resource not found.")}
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    headers = {"Content-Type": response.get("Content-Type", "application/json")}
    if response.has_header("Retry-After"):
        headers["Retry-After"] = response["Retry-After"]
    try:
        content = json.loads(response.content) if response.content else None
    except ValueError:  # every Graph view answers JSON; anything else is passed on as text
        content = response.content.decode(errors="replace")
    return {"id": item["id"], "status": response.status_code, "headers": headers, "body": content}


class BatchView(GraphView):
    def post(self, request):
        try:
            items = _checked(request.data)
        except BatchError as exc:
            return Response(error_body(request, "BadRequest", str(exc)), status=400)
        failed: set[str] = set()
        responses = []
        for item in items:
            if any(d.lower() in failed for d in item["depends"]):
                answer = {"id": item["id"], "status": 424, "headers": {"Content-Type": "application/json"},
                          "body": error_body(request, "FailedDependency", "The request that this request depends "
                                                                          "on failed.")}
            else:
                answer = _run(request, item)
            if answer["status"] >= 400:
                failed.add(item["id"].lower())
            responses.append(answer)
        return Response({"responses": responses})
