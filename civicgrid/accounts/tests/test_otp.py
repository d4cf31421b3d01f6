"""Second factor (django-otp TOTP) for every role that can see unmasked personal
data: the sign-in asks for the code (enrolling an authenticator the first time);
pages and the API refuse sessions that have not proven it."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from civicgrid.accounts.models import Role, User
from civicgrid.accounts.permissions import UNMASK, UNMASK_ROLES
from civicgrid.accounts.security import requires_otp
from civicgrid.accounts.tests.conftest import sign_in
from civicgrid.conftest import PASSWORD
from civicgrid.core.models import AuditRecord

pytestmark = pytest.mark.usefixtures("otp_on")


def code_for(user: User) -> str:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


def test_the_roles_that_unmask_need_the_second_factor(make_staff: Any) -> None:
    center = make_staff("c1", Role.CENTER_STAFF, region="370303001")
    leader = make_staff("l1", Role.LEADER, region="370303")
    auditor = make_staff("a1", Role.AUDITOR, region="3703")
    assert Role.CENTER_STAFF in UNMASK_ROLES
    assert center.has_perm(UNMASK) and requires_otp(center)
    assert not leader.has_perm(UNMASK) and not requires_otp(leader)
    assert requires_otp(auditor)  # the three administrators too


def test_enrol_then_sign_in_with_a_code(make_staff: Any) -> None:
    user = make_staff("c2", Role.CENTER_STAFF, region="370303001")
    client, response = sign_in("c2")
    assert response.status_code == 302
    # Password alone: pages send to the second factor, the API refuses.
    page = client.get(reverse("workbench:queue"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:otp"))
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["code"] == "otp_required"
    # First time: a QR code and the key to enrol an authenticator app.
    enrol = client.get(page["Location"])
    assert enrol.status_code == 200 and "<svg" in enrol.content.decode()
    wrong = client.post(reverse("accounts:otp"), {"token": "000000"})
    assert wrong.status_code == 200 and "ev-error" in wrong.content.decode()
    # django-otp slows down guessing: after a failure, the next try waits a second.
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        ok = client.post(
            reverse("accounts:otp"), {"token": code_for(user), "next": "/workbench/"}
        )
    assert ok.status_code == 302 and ok["Location"] == "/workbench/"
    assert client.get(reverse("workbench:queue")).status_code == 200
    assert client.get("/api/v1/me/").status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    assert AuditRecord.objects.filter(action="otp.enrol", actor=user).exists()

    # Next sign-in: only the code (no new enrolment), and the session needs it again.
    again, _ = sign_in("c2", address="203.0.113.11")
    step = again.get(reverse("accounts:otp"))
    assert "<svg" not in step.content.decode()
    assert again.get("/api/v1/me/").status_code == 403


def test_a_role_without_unmasking_signs_in_with_the_password(
    make_staff: Any,
) -> None:
    make_staff("l2", Role.LEADER, region="370303")
    client, _ = sign_in("l2")
    assert client.get(reverse("workbench:queue")).status_code == 200


def test_http_basic_cannot_skip_the_second_factor(make_staff: Any) -> None:
    make_staff("c3", Role.CENTER_STAFF, region="370303001")
    make_staff("l3", Role.LEADER, region="370303")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic("c3"))
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 403 and refused.json()["code"] == "otp_required"
    client.credentials(HTTP_AUTHORIZATION=_basic("l3"))
    assert client.get("/api/v1/me/").status_code == 200


def test_the_admin_needs_the_second_factor(make_staff: Any) -> None:
    security = make_staff("s1", Role.SECURITY_ADMIN, region="3703")
    client = Client()
    client.force_login(security)
    page = client.get("/admin/")
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("accounts:otp"))


def _basic(username: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
