"""Workflow definitions in the back office: readable versions, uploads validated and
installed through the service (audited), errors listed with nothing installed, and
the diff between two versions."""

import json
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.accounts.models import Role, User
from civicgrid.core.models import AuditRecord
from civicgrid.events.models import WorkflowDefinition
from civicgrid.events.services import DEFINITIONS_DIR

pytestmark = pytest.mark.django_db

BASE = "/admin/events/workflowdefinition/"


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (DEFINITIONS_DIR / "full_loop.json").read_text(encoding="utf-8")
    )
    return data


@pytest.fixture
def sysadmin(make_staff: Any) -> Client:
    user: User = make_staff("wf-sys", Role.SYSADMIN, region="3703")
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, data: Any, name: str = "wf.json", city: str = "3703") -> Any:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    f = SimpleUploadedFile(name, text.encode(), content_type="application/json")
    return client.post(f"{BASE}upload/", {"city_code": city, "file": f})


def test_pages_open_for_superuser_and_sysadmin(
    admin_client: Client, sysadmin: Client
) -> None:
    wf = WorkflowDefinition.objects.get(city_code="", name="full-loop")
    for client in (admin_client, sysadmin):
        listing = client.get(BASE).content.decode()
        assert f"{BASE}upload/" in listing and f"{BASE}diff/" in listing
        assert "上传新版本" in listing  # the zh interface
        page = client.get(f"{BASE}{wf.pk}/change/")
        assert page.status_code == 200
        body = page.content.decode()
        # States and transitions as tables, with labels, roles and time limits.
        assert (
            'class="workflow-states"' in body and 'class="workflow-transitions"' in body
        )
        assert "不予受理" in body and "center_staff" in body
        assert client.get(f"{BASE}upload/").status_code == 200
        assert client.get(f"{BASE}diff/").status_code == 200


def test_valid_upload_installs_a_new_audited_version(sysadmin: Client) -> None:
    data = shipped()
    data["transitions"][1]["roles"] = ["center_staff", "leader"]
    response = upload(sysadmin, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    wf = WorkflowDefinition.objects.get(city_code="3703", name="full-loop")
    assert wf.version == 1 and wf.active and wf.definition == data
    assert response["Location"].endswith(f"{BASE}{wf.pk}/change/")
    record = AuditRecord.objects.get(action="workflow.install", object_id=str(wf.pk))
    assert record.actor is not None and record.actor.username == "wf-sys"
    assert record.region_code == "3703"
    # The same file again installs nothing.
    assert upload(sysadmin, data).status_code == 302
    assert WorkflowDefinition.objects.filter(city_code="3703").count() == 1


def test_yaml_upload_is_read(admin_client: Client) -> None:
    text = yaml.safe_dump(shipped(), allow_unicode=True)
    response = upload(admin_client, text, name="wf.yaml", city="3706")
    assert response.status_code == 302
    assert WorkflowDefinition.objects.filter(
        city_code="3706", name="full-loop"
    ).exists()


def test_invalid_upload_lists_every_error_with_its_path_and_installs_nothing(
    sysadmin: Client,
) -> None:
    data = shipped()
    data["transitions"][0]["roles"] = ["nobody"]
    data["transitions"][2]["time_limit"] = "forever"
    del data["title"]
    before = WorkflowDefinition.objects.count()
    audits = AuditRecord.objects.filter(action="workflow.install").count()
    response = upload(sysadmin, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="definition-errors"' in body
    assert "transitions/0/roles/0" in body
    assert "transitions/2/time_limit" in body
    assert "&#x27;title&#x27; is a required property" in body
    # A semantic error carries its path too.
    data = shipped()
    data["transitions"][3]["to"] = "nowhere"
    body = upload(sysadmin, data).content.decode()
    assert "transitions/3:" in body and "nowhere" in body
    # Unreadable files: the line is named.
    body = upload(sysadmin, '{"name": "x",\n  oops}').content.decode()
    assert "invalid JSON at line 2" in body
    body = upload(sysadmin, "- a\nb: [", name="wf.yml").content.decode()
    assert "invalid YAML" in body
    assert WorkflowDefinition.objects.count() == before
    assert AuditRecord.objects.filter(action="workflow.install").count() == audits


def test_upload_outside_scope_is_refused(sysadmin: Client) -> None:
    response = upload(sysadmin, shipped(), city="3706")
    assert response.status_code == 200
    assert WorkflowDefinition.objects.filter(city_code="3706").count() == 1  # yantai
    # The default definition (every city) is the superuser's.
    assert upload(sysadmin, shipped(), city="").status_code == 200


def test_diff_page_shows_the_changes(sysadmin: Client) -> None:
    data = shipped()
    data["transitions"][1]["roles"] = ["center_staff", "leader"]
    data["states"]["archived"] = {"label": "已归档", "final": True}
    data["transitions"].append(
        {
            "name": "archive",
            "label": "归档",
            "from": ["accepted"],
            "to": "archived",
            "roles": ["sysadmin"],
        }
    )
    assert upload(sysadmin, data).status_code == 302
    old = WorkflowDefinition.objects.get(city_code="", name="full-loop", active=True)
    new = WorkflowDefinition.objects.get(city_code="3703", name="full-loop")
    page = sysadmin.get(f"{BASE}{new.pk}/change/").content.decode()
    assert f"{BASE}diff/?old=" not in page  # version 1 of 3703 has no previous one
    body = sysadmin.get(f"{BASE}diff/", {"old": old.pk, "new": new.pk}).content.decode()
    assert 'id="workflow-diff"' in body
    assert "<code>archived</code>" in body and "<code>archive</code>" in body
    assert "<code>reject</code>" in body and "center_staff, leader" in body
