#!/usr/bin/env python3
"""Move every Microsoft 365 Business Basic user to Business Standard with Microsoft Graph, the way an admin
scripts it for a real tenant: the Microsoft Graph SDK for Python (``pip install msgraph-sdk``), nothing else.

    python examples/graph_move_users.py --base-url http://127.0.0.1:8000/graph/v1.0 \\
        --token contoso-global-admin-demo-token

Against real Graph only the base URL and the credential differ: ``--base-url https://graph.microsoft.com/v1.0``
and ``--token`` an access token for Graph with LicenseAssignment.ReadWrite.All (for example
``az account get-access-token --resource-type ms-graph --query accessToken -o tsv``). ``GRAPH_BASE_URL`` and
``GRAPH_TOKEN`` may stand for the options.

1. Lists the tenant's SKUs (GET subscribedSkus) and finds the source and target by skuPartNumber.
2. Finds every user holding the source (GET users, $filter on assignedLicenses, an advanced query:
   ConsistencyLevel: eventual and $count=true; @odata.nextLink followed).
3. Moves them with assignLicense, add and remove in one call so nobody is ever unlicensed, each user's
   turned-off service plans kept (those the target has too), in JSON batches of 20 (POST $batch). A
   request throttled inside a batch (429) is sent again after its Retry-After.
4. Reads each moved user's licenseDetails back and checks the target is there, the source gone and the
   same plans off.
5. Reports every refusal with Graph's error code and message.

Exit code: 0 every user moved (or nobody held the source), 2 some were refused, 1 the script couldn't run.
"""

import argparse
import asyncio
import json
import os
import sys
from urllib.parse import urlsplit
from uuid import UUID

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator
from kiota_abstractions.authentication.base_bearer_token_authentication_provider import (
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.headers_collection import HeadersCollection
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import AssignLicensePostRequestBody
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core.requests.batch_request_content import BatchRequestContent
from msgraph_core.requests.batch_request_item import BatchRequestItem

SOURCE, TARGET = "O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM"  # Business Basic, Business Standard
BATCH = 20  # Graph's limit per $batch


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


async def skus(client) -> dict:
    found = await client.subscribed_skus.get()
    print("SKUs of the tenant:")
    for sku in found.value:
        print(f"  {sku.sku_part_number:<28} {sku.sku_id}  {sku.consumed_units:>5} of {sku.prepaid_units.enabled:>5} "
              f"assigned ({sku.capability_status})")
    return {sku.sku_part_number: sku for sku in found.value}


async def holders(client, sku_id: UUID) -> list:
    """Every user with a license of the SKU (an advanced query: ConsistencyLevel eventual and $count)."""
    headers = HeadersCollection()
    headers.add("ConsistencyLevel", "eventual")
    params = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter=f"assignedLicenses/any(x:x/skuId eq {sku_id})", count=True, top=999,
        select=["id", "userPrincipalName", "displayName", "assignedLicenses"])
    config = RequestConfiguration(headers=headers, query_parameters=params)
    page = await client.users.get(request_configuration=config)
    users = list(page.value)
    while page.odata_next_link:
        page = await client.users.with_url(page.odata_next_link).get(request_configuration=RequestConfiguration(
            headers=headers))
        users += page.value
    return users


def move_body(user, source, target) -> AssignLicensePostRequestBody:
    """Add the target and remove the source in one call; the plans the user had off stay off where the target
    has them. A user who has the target already keeps that license as it is: only the source goes."""
    held = {str(lic.sku_id): lic for lic in user.assigned_licenses}
    add = []
    if str(target.sku_id) not in held:
        in_target = {str(plan.service_plan_id) for plan in target.service_plans}
        off = [plan for plan in held[str(source.sku_id)].disabled_plans or [] if str(plan) in in_target]
        add = [AssignedLicense(sku_id=target.sku_id, disabled_plans=off)]
    return AssignLicensePostRequestBody(add_licenses=add, remove_licenses=[source.sku_id])


async def send_batch(client, requests: dict) -> dict:
    """POST $batch; answers id → (status, body as JSON, headers). The bodies are read from the raw answer: the
    SDK's batch response drops JSON bodies (kiota-python issue 737)."""
    content = BatchRequestContent({key: BatchRequestItem(request_information=info, id=key)
                                   for key, info in requests.items()})
    info = await client.batch.to_post_request_information(content)
    raw = await client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
    return {item["id"]: (item["status"], item.get("body"), item.get("headers") or {})
            for item in json.loads(raw)["responses"]}


async def move(client, users, source, target) -> tuple[list, list]:
    moved, refused = [], []
    pending = list(users)
    while pending:
        chunk, pending = pending[:BATCH], pending[BATCH:]
        requests = {str(n): client.users.by_user_id(user.id).assign_license.to_post_request_information(
            move_body(user, source, target)) for n, user in enumerate(chunk)}
        answers = await send_batch(client, requests)
        wait = 0
        for n, user in enumerate(chunk):
            status, body, headers = answers[str(n)]
            if status == 429:
                pending.append(user)
                wait = max(wait, int(headers.get("Retry-After", "1")))
            elif 200 <= status < 300:
                moved.append(user)
            else:
                error = (body or {}).get("error", {})
                refused.append((user, status, error.get("code"), error.get("message")))
        if wait:
            await asyncio.sleep(wait)
    return moved, refused


async def check(client, user, source, target) -> str | None:
    """What is wrong with the user's licenses now, read back from licenseDetails, or None."""
    details = {str(d.sku_id): d for d in (await client.users.by_user_id(user.id).license_details.get()).value}
    if str(source.sku_id) in details:
        return f"still holds {source.sku_part_number}"
    if str(target.sku_id) not in details:
        return f"holds no {target.sku_part_number}"
    before = {str(p) for lic in user.assigned_licenses if lic.sku_id == source.sku_id for p in lic.disabled_plans}
    off = {str(p.service_plan_id) for p in details[str(target.sku_id)].service_plans
           if p.provisioning_status == "Disabled"}
    kept = before & {str(p.service_plan_id) for p in target.service_plans}
    if not kept <= off:
        return f"plans turned back on: {sorted(kept - off)}"
    return None


async def main(base_url: str, token: str, source_part: str, target_part: str) -> int:
    client = graph_client(base_url, token)
    by_part = await skus(client)
    if source_part not in by_part or target_part not in by_part:
        print(f"The tenant has no {source_part if source_part not in by_part else target_part}.", file=sys.stderr)
        return 1
    source, target = by_part[source_part], by_part[target_part]
    users = await holders(client, source.sku_id)
    print(f"{len(users)} users hold {source_part}; moving them to {target_part} in batches of {BATCH}.")
    moved, refused = await move(client, users, source, target)
    for user in moved:
        problem = await check(client, user, source, target)
        print(f"  moved    {user.user_principal_name}" + (f"  BUT {problem}" if problem else ""))
        if problem:
            refused.append((user, 200, "CheckFailed", problem))
    for user, status, code, message in refused:
        print(f"  refused  {user.user_principal_name}: {status} {code}: {message}")
    print(f"{len(moved)} moved, {len(refused)} refused.")
    return 2 if refused else 0


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"))
    parser.add_argument("--token", default=os.environ.get("GRAPH_TOKEN"))
    parser.add_argument("--from", dest="source", default=SOURCE, help=f"skuPartNumber to move from ({SOURCE})")
    parser.add_argument("--to", dest="target", default=TARGET, help=f"skuPartNumber to move to ({TARGET})")
    args = parser.parse_args()
    if not args.token:
        parser.error("a token is needed: --token or GRAPH_TOKEN")
    try:
        return asyncio.run(main(args.base_url, args.token, args.source, args.target))
    except ODataError as exc:
        error = exc.error
        print(f"Graph refused: {exc.response_status_code} {error.code if error else ''}: "
              f"{error.message if error else exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(run())
