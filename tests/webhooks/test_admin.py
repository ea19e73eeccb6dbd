"""The Django admin shows support staff webhooks and deliveries, read-only, never the signing secret."""

import pytest

from tests.factories import LoginFactory, mosa_standard, webhook_endpoint
from webhooks.models import Delivery


@pytest.mark.django_db
def test_the_admin_shows_webhooks_without_their_secret(client):
    tenant, *_ = mosa_standard()
    endpoint = webhook_endpoint(tenant)
    delivery = Delivery.objects.create(endpoint=endpoint, message_id="msg_admin", type="webhook.test", body="{}")
    client.force_login(LoginFactory(is_staff=True, is_superuser=True))
    for url in ("/django-admin/webhooks/endpoint/", f"/django-admin/webhooks/endpoint/{endpoint.pk}/change/",
                "/django-admin/webhooks/delivery/", f"/django-admin/webhooks/delivery/{delivery.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert endpoint.secret not in response.content.decode()
    assert client.get("/django-admin/webhooks/endpoint/add/").status_code == 403
