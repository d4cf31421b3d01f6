"""The exchange's admin: every list and add page opens; adding a client or a system
shows its key or secret once and stores only what it must."""

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.test import Client

from civicgrid.accounts import services as accounts
from civicgrid.conftest import PASSWORD
from civicgrid.exchange.models import ConnectedSystem, Open311Client
from civicgrid.exchange.open311 import key_digest

pytestmark = pytest.mark.django_db

MODELS = (
    "open311client",
    "serviceattribute",
    "open311request",
    "connectedsystem",
    "webhookdelivery",
    "inboundrecord",
    "upstream",
    "upwardsend",
    "cityreport",
)


@pytest.fixture
def admin_client(client: Client) -> Client:
    root = accounts.user_create(
        actor=None, username="xadmin", password=PASSWORD, is_superuser=True
    )
    client.force_login(root)
    return client


def test_every_exchange_admin_page_opens(admin_client: Client) -> None:
    for model in MODELS:
        assert admin_client.get(f"/admin/exchange/{model}/").status_code == 200, model
    for model in ("open311client", "serviceattribute", "connectedsystem", "upstream"):
        assert admin_client.get(f"/admin/exchange/{model}/add/").status_code == 200


def test_adding_a_client_and_a_system_shows_the_secret_once(
    admin_client: Client,
) -> None:
    answer = admin_client.post(
        "/admin/exchange/open311client/add/",
        {"name": "随手拍", "contact": "", "source": "citizen_mobile", "active": "on"},
        follow=True,
    )
    # The key comes in the warning; the admin's own "added" message follows it.
    shown = next(
        str(m)
        for m in get_messages(answer.wsgi_request)
        if m.level == message_levels.WARNING
    )
    client = Open311Client.objects.get(name="随手拍")
    key = shown.split("：")[-1].split(": ")[-1].strip()
    assert client.key_digest == key_digest(key)
    answer = admin_client.post(
        "/admin/exchange/connectedsystem/add/",
        {
            "code": "hotline",
            "name": "12345 热线",
            "kind": "hotline",
            "permissions": '["events:write"]',
            "region_prefixes": '["3703"]',
            "webhook_url": "",
            "active": "on",
        },
        follow=True,
    )
    assert answer.status_code == 200
    system = ConnectedSystem.objects.get(code="hotline")
    # The key comes in the warning; the admin's own "added" message follows it.
    shown = next(
        str(m)
        for m in get_messages(answer.wsgi_request)
        if m.level == message_levels.WARNING
    )
    assert system.secret and system.secret in shown


def test_a_client_rate_is_changed_in_the_admin_and_audited(
    admin_client: Client,
) -> None:
    from civicgrid.core.models import AuditRecord
    from civicgrid.exchange.open311 import client_issue

    client, _ = client_issue(actor=None, name="热线客户端")
    url = f"/admin/exchange/open311client/{client.pk}/change/"
    form = {"name": client.name, "contact": "", "source": "hotline", "active": "on"}
    bad = admin_client.post(url, {**form, "post_rate": "lots"})
    assert bad.status_code == 200  # the form again, with the error
    assert Open311Client.objects.get(pk=client.pk).post_rate == ""
    answer = admin_client.post(url, {**form, "post_rate": "600/hour", "read_rate": ""})
    assert answer.status_code == 302
    assert Open311Client.objects.get(pk=client.pk).post_rate == "600/hour"
    record = AuditRecord.objects.filter(action="open311.client_update").latest("pk")
    assert record.changes["post_rate"] == ["", "600/hour"]
