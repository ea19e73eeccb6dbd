#!/usr/bin/env python3
"""Export a Microsoft 365 tenant's licensing, read-only, with Microsoft Graph: one JSON file of Graph's own
answers, as they come, for the portal's ``manage.py import_tenant`` (README "Rehearse on your own tenant").
The Microsoft Graph SDK for Python (``pip install msgraph-sdk``), nothing else.

    python examples/export_tenant.py --base-url https://graph.microsoft.com/v1.0 --token "$TOKEN" -o tenant.json

It reads, and only reads (GET):

- ``organization``: the tenant's name and verified domains (Organization.Read.All; delegated: User.Read);
- ``subscribedSkus``: each product, its prepaid units and service plans (LicenseAssignment.Read.All);
- ``directory/subscriptions``: each subscription, its status, trial flag, dates and licenses
  (Organization.Read.All);
- ``users`` with ``$select=id,userPrincipalName,displayName,usageLocation,accountEnabled,assignedLicenses``:
  each user's licenses and the service plans turned off (User.Read.All), every page.

It never reads mail, files, groups, sign-ins, passwords, phone numbers or any other property of a user. Against
the simulation only the base URL and the token differ: ``--base-url http://127.0.0.1:8000/graph/v1.0 --token
contoso-global-admin-demo-token``. ``GRAPH_BASE_URL`` and ``GRAPH_TOKEN`` may stand for the options.

Exit code: 0 written, 1 Graph refused (its code and message printed) or the file couldn't be written.
"""

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator
from kiota_abstractions.authentication.base_bearer_token_authentication_provider import (
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

FORMAT = "plan-change-portal/graph-export"  # what the portal's import recognises an export by
VERSION = 1
USER_PROPERTIES = ["id", "userPrincipalName", "displayName", "usageLocation", "accountEnabled", "assignedLicenses"]
PAGE = 999  # the most users Graph gives in one page


class StaticToken(AccessTokenProvider):
    """A token you already have (the simulation's API token, or one for graph.microsoft.com)."""

    def __init__(self, token: str, host: str):
        self.token, self.hosts = token, AllowedHostsValidator([host])

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self.token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.hosts


def graph_client(base_url: str, token: str) -> GraphServiceClient:
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token, urlsplit(base_url).netloc)))
    adapter.base_url = base_url.rstrip("/")
    return GraphServiceClient(request_adapter=adapter)


async def answer(client, info) -> dict:
    """Graph's answer to one GET, as it came (the JSON, not the SDK's models of it: nothing dropped)."""
    raw = await client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
    return json.loads(raw)


async def users(client) -> list[dict]:
    """Every page of users, each as Graph answered it, following @odata.nextLink."""
    params = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=USER_PROPERTIES, top=PAGE)
    pages = [await answer(client, client.users.to_get_request_information(
        RequestConfiguration(query_parameters=params)))]
    while pages[-1].get("@odata.nextLink"):
        pages.append(await answer(client, client.users.with_url(pages[-1]["@odata.nextLink"])
                                  .to_get_request_information()))
        print(f"  users: {sum(len(p.get('value', [])) for p in pages)} read", file=sys.stderr)
    return pages


async def export(base_url: str, token: str) -> dict:
    client = graph_client(base_url, token)
    return {
        "@export": {"format": FORMAT, "version": VERSION, "graph": base_url.rstrip("/"),
                    "exportedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "organization": await answer(client, client.organization.to_get_request_information()),
        "subscribedSkus": await answer(client, client.subscribed_skus.to_get_request_information()),
        "directory/subscriptions": await answer(client, client.directory.subscriptions.to_get_request_information()),
        "users": await users(client),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"))
    parser.add_argument("--token", default=os.environ.get("GRAPH_TOKEN"))
    parser.add_argument("-o", "--output", default="tenant-export.json", help="the file to write (- for stdout)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is needed: --token or GRAPH_TOKEN")
    try:
        data = asyncio.run(export(args.base_url, args.token))
    except ODataError as exc:
        error = exc.error
        print(f"Graph refused: {exc.response_status_code} {error.code if error else ''}: "
              f"{error.message if error else exc}", file=sys.stderr)
        return 1
    text = json.dumps(data, indent=1, ensure_ascii=False)
    if args.output == "-":
        sys.stdout.write(text + "\n")
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text + "\n")
        except OSError as exc:
            print(f"Could not write {args.output}: {exc.strerror}", file=sys.stderr)
            return 1
    count = sum(len(page.get("value", [])) for page in data["users"])
    skus = len(data["subscribedSkus"].get("value", []))
    print(f"{args.output}: {count} users, {skus} SKUs, "
          f"{len(data['directory/subscriptions'].get('value', []))} subscriptions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
