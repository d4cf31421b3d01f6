"""Lockout (django-axes) on (user name, source address): 5 failures lock that pair
for 30 minutes; the same user from another address still signs in; the security
administrator unlocks in the admin, the operator with a command."""

from datetime import timedelta
from typing import Any

import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.tests.conftest import sign_in
from civicgrid.conftest import PASSWORD
from civicgrid.core.models import AuditRecord

ATTACKER = "198.51.100.7"
VICTIM = "203.0.113.20"


def fail_five_times(username: str, address: str = ATTACKER) -> None:
    for _ in range(5):
        _client, response = sign_in(username, "Wrong#Passw0rd", address)
        assert response.status_code in (200, 429)


def test_five_failures_lock_the_name_from_that_address_only(make_staff: Any) -> None:
    make_staff("victim", Role.LEADER, region="370303")
    for _ in range(4):
        _client, response = sign_in("victim", "Wrong#Passw0rd", ATTACKER)
        assert response.status_code == 200  # the form again, with its error
    _client, response = sign_in("victim", "Wrong#Passw0rd", ATTACKER)
    assert response.status_code == 429
    # Locked: even the right password from that address is refused...
    _client, response = sign_in("victim", PASSWORD, ATTACKER)
    assert response.status_code == 429
    # ...but the victim, elsewhere, is not locked out by the stranger.
    client, response = sign_in("victim", PASSWORD, VICTIM)
    assert response.status_code == 302
    assert client.get(reverse("workbench:queue")).status_code == 200


def test_the_lock_lifts_after_thirty_minutes(make_staff: Any) -> None:
    make_staff("patient", Role.LEADER, region="370303")
    fail_five_times("patient")
    later = timezone.now() + timedelta(minutes=29)
    with time_machine.travel(later, tick=False):
        assert sign_in("patient", PASSWORD, ATTACKER)[1].status_code == 429
    with time_machine.travel(later + timedelta(minutes=2), tick=False):
        assert sign_in("patient", PASSWORD, ATTACKER)[1].status_code == 302


def test_the_security_administrator_unlocks_in_the_admin(make_staff: Any) -> None:
    make_staff("locked", Role.LEADER, region="370303")
    security = make_staff("sec", Role.SECURITY_ADMIN, region="3703")
    fail_five_times("locked")
    attempt = AccessAttempt.objects.get(username="locked")
    admin = Client()
    admin.force_login(security)
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin.get(url).status_code == 200
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.filter(username="locked").exists()
    assert AuditRecord.objects.filter(action="login.unlock", actor=security).exists()
    assert sign_in("locked", PASSWORD, ATTACKER)[1].status_code == 302


def test_the_auditor_sees_lockouts_but_cannot_unlock(make_staff: Any) -> None:
    make_staff("locked2", Role.LEADER, region="370303")
    auditor = make_staff("aud", Role.AUDITOR, region="3703")
    fail_five_times("locked2")
    attempt = AccessAttempt.objects.get(username="locked2")
    client = Client()
    client.force_login(auditor)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(username="locked2").exists()


def test_the_operator_unlocks_with_a_command(make_staff: Any) -> None:
    make_staff("locked3", Role.LEADER, region="370303")
    fail_five_times("locked3")
    assert sign_in("locked3", PASSWORD, ATTACKER)[1].status_code == 429
    call_command("axes_reset_username", "locked3")
    assert sign_in("locked3", PASSWORD, ATTACKER)[1].status_code == 302


def test_a_forged_forwarded_for_header_does_not_dodge_the_lock(
    make_staff: Any,
) -> None:
    """No proxy configured: X-Forwarded-For is the caller's own claim, ignored."""
    make_staff("forged", Role.LEADER, region="370303")
    for i in range(5):
        Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").post(
            reverse("workbench:login"),
            {"username": "forged", "password": "Wrong#Passw0rd"},
        )
    forged = Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99").post(
        reverse("workbench:login"), {"username": "forged", "password": PASSWORD}
    )
    assert forged.status_code == 429
