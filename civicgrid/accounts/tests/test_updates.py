"""The audited update services of departments and users: checked as on creation,
refused to the wrong role, never to oneself or a superuser, audited without the
personal data."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Role, User
from civicgrid.core.models import AuditRecord
from civicgrid.regions.models import Region

pytestmark = pytest.mark.django_db


def test_services_check_as_on_creation(make_staff: Any) -> None:
    zhangdian = Region.objects.get(region_code="370303")
    a = accounts.department_create(
        actor=None, name="甲局", kind="water", region=zhangdian
    )
    accounts.department_create(actor=None, name="乙局", kind="water", region=zhangdian)
    with pytest.raises(ValidationError):
        accounts.department_update(actor=None, department=a, kind="dams")
    with pytest.raises(ValidationError):
        accounts.department_update(actor=None, department=a, name="乙局")
    assert (a.name, a.kind) == ("甲局", "water")  # the object is left as it was
    assert accounts.department_update(actor=None, department=a, kind="water")[1] == []
    assert not AuditRecord.objects.filter(action="department.update").exists()

    security = make_staff("upd_sec", Role.SECURITY_ADMIN, region="370303")
    sysadmin = make_staff("upd_sys", Role.SYSADMIN, region="370303")
    with pytest.raises(PermissionDenied):
        accounts.department_update(actor=security, department=a, kind="police")
    person = accounts.user_create(actor=None, username="upd_p", password=None)
    with pytest.raises(PermissionDenied):
        accounts.user_update(actor=sysadmin, user=person, display_name="x")
    with pytest.raises(ValidationError):
        accounts.user_update(actor=security, user=person, display_name="长" * 61)
    with pytest.raises(PermissionDenied):
        accounts.user_update(actor=security, user=security, is_active=False)
    boss = accounts.user_create(
        actor=None, username="upd_root", password=None, is_superuser=True
    )
    with pytest.raises(PermissionDenied):
        accounts.user_update(actor=security, user=boss, display_name="x")
    _, fields = accounts.user_update(actor=security, user=person, is_active=False)
    assert fields == ["is_active"] and not User.objects.get(pk=person.pk).is_active
    assert AuditRecord.objects.get(action="user.update").changes == {
        "is_active": [True, False]
    }


def test_user_update_audits_the_fields_never_the_name_or_phone(make_staff: Any) -> None:
    security = make_staff("upd_sec2", Role.SECURITY_ADMIN, region="370303")
    person = accounts.user_create(
        actor=None, username="upd_p2", password=None, display_name="旧名"
    )
    with pytest.raises(ValidationError):
        accounts.user_update(
            actor=security, user=person, display_name="长" * 61, phone="13900000000"
        )
    assert (person.display_name, person.phone) == ("旧名", "")  # left as it was
    _, fields = accounts.user_update(
        actor=security, user=person, display_name="新名", phone="13900000000"
    )
    assert sorted(fields) == ["display_name", "phone"]
    stored = User.objects.get(pk=person.pk)
    assert (stored.display_name, stored.phone) == ("新名", "13900000000")
    record = AuditRecord.objects.get(action="user.update", object_id=str(person.pk))
    assert record.changes == {"display_name": "changed", "phone": "changed"}
    assert "新名" not in str(record.changes) and "139" not in str(record.changes)
