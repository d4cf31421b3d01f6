"""Personal data beyond the field: exact lookup through the blind index, unmasking
(permission + reason + audit row), and key rotation (batched, resumable, old keys
readable until done, then retired)."""

import json
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, models

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import User
from civicgrid.conftest import PASSWORD
from civicgrid.core import crypto, rotation
from civicgrid.core.models import AuditRecord
from civicgrid.core.personal import (
    BlindIndexField,
    PersonalDataField,
    PersonalKind,
    blind_match,
)
from civicgrid.core.reveal import UNMASK_PERMISSION, personal_reveal

pytestmark = pytest.mark.django_db


class Contact(models.Model):
    """A model of this test only (its table is created inside the test)."""

    phone = PersonalDataField(kind=PersonalKind.PHONE)
    phone_index = BlindIndexField(source="phone")
    objects: models.Manager["Contact"] = models.Manager()

    class Meta:
        app_label = "core"
        db_table = "core_test_contact"
        managed = False  # no migration; skipped by the key rotation

    def __str__(self) -> str:
        return str(self.pk)


@pytest.fixture
def contact_table() -> None:
    pk = (
        "id bigserial PRIMARY KEY"
        if connection.vendor == "postgresql"
        else "id integer PRIMARY KEY AUTOINCREMENT"
    )
    with connection.cursor() as cur:  # rolled back with the test's transaction
        cur.execute(
            f"CREATE TABLE core_test_contact ({pk}, phone text NOT NULL, "
            "phone_index varchar(64) NOT NULL)"
        )


def test_blind_index_finds_exactly_the_matching_row(contact_table: None) -> None:
    """Lookup by phone without plaintext: the column holds the HMAC-SM3, the query
    too; only the exact number matches."""
    a = Contact.objects.create(phone="13812345678")
    Contact.objects.create(phone="13812345679")
    Contact.objects.create(phone="")
    found = Contact.objects.filter(blind_match("phone_index", " 13812345678 "))
    assert list(found) == [a]
    assert not Contact.objects.filter(blind_match("phone_index", "1381234567")).exists()
    assert not Contact.objects.filter(blind_match("phone_index", "")).exists()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT phone, phone_index FROM core_test_contact WHERE id = %s", [a.pk]
        )
        raw_phone, raw_index = cur.fetchone()
    assert "13812345678" not in raw_phone + raw_index
    assert raw_index == crypto.blind_index("13812345678")
    a.phone = "13900000000"
    a.save()
    assert list(Contact.objects.filter(blind_match("phone_index", "13900000000"))) == [
        a
    ]


# --- unmasking ----------------------------------------------------------------------


def grant_unmask(user: User) -> User:
    app, codename = UNMASK_PERMISSION.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app, codename=codename)
    )
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def person() -> User:
    return accounts.user_create(
        actor=None, username="holder", password=None, phone="13812345678"
    )


def test_reveal_needs_the_permission(person: User) -> None:
    viewer = accounts.user_create(actor=None, username="viewer", password=PASSWORD)
    before = AuditRecord.objects.count()
    with pytest.raises(PermissionDenied):
        personal_reveal(viewer, person, "phone", "核实来电人身份")
    with pytest.raises(PermissionDenied):
        personal_reveal(None, person, "phone", "核实来电人身份")
    assert AuditRecord.objects.count() == before


@pytest.mark.parametrize("reason", ["", "   ", "核实"[:1]])
def test_reveal_needs_a_reason(person: User, reason: str) -> None:
    viewer = grant_unmask(
        accounts.user_create(actor=None, username="viewer", password=PASSWORD)
    )
    with pytest.raises(ValidationError):
        personal_reveal(viewer, person, "phone", reason)


def test_reveal_gives_the_value_and_logs_who_why_not_what(person: User) -> None:
    viewer = grant_unmask(
        accounts.user_create(actor=None, username="viewer", password=PASSWORD)
    )
    assert (
        personal_reveal(viewer, person, "phone", "回访核实来电人身份") == "13812345678"
    )
    rec = AuditRecord.objects.filter(action="personal_data.reveal").latest("id")
    assert (rec.actor_id, rec.object_type, rec.object_id) == (
        viewer.pk,
        "accounts.user",
        str(person.pk),
    )
    assert rec.changes == {
        "field": "phone",
        "kind": "phone",
        "reason": "回访核实来电人身份",
    }
    assert "13812345678" not in json.dumps(rec.changes)


def test_reveal_only_of_personal_fields(person: User) -> None:
    root = accounts.user_create(
        actor=None, username="r00t", password=PASSWORD, is_superuser=True
    )
    with pytest.raises(ValueError):
        personal_reveal(root, person, "username", "查看用户名原因")


# --- key rotation -------------------------------------------------------------------


@pytest.fixture
def key_file(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A copy of the key file: rotation must not touch the developer's keys."""
    crypto.keyring()
    path = tmp_path / "keys.json"
    shutil.copy(settings.CIVICGRID_KEY_FILE, path)
    settings.CIVICGRID_KEY_FILE = path
    yield path


def raw_key_ids() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM accounts_user WHERE phone <> ''")
        return sorted({crypto.key_id(r[0]) for r in cur.fetchall()})


def test_rotation_is_batched_resumable_and_retires_old_keys(key_file: Path) -> None:
    phones = {f"r{i}": f"1381234{i:04d}" for i in range(7)}
    for username, phone in phones.items():
        accounts.user_create(actor=None, username=username, password=None, phone=phone)
    old = crypto.keyring().current
    assert raw_key_ids() == [old]

    out = StringIO()
    call_command(
        "rotate_personal_data",
        "--new-key",
        "--batch-size",
        "2",
        "--max-batches",
        "2",
        stdout=out,
    )
    new = crypto.keyring().current
    assert new != old and "not finished" in out.getvalue()
    # Interrupted: rows under both keys, every one still readable.
    assert raw_key_ids() == sorted([old, new])
    assert {
        u.username: u.phone for u in User.objects.filter(username__in=phones)
    } == phones
    # A second --new-key is refused while a rotation is unfinished.
    with pytest.raises(CommandError, match="finish"):
        call_command("rotate_personal_data", "--new-key", stdout=StringIO())

    call_command("rotate_personal_data", "--batch-size", "2", stdout=StringIO())
    assert raw_key_ids() == [new]
    assert rotation.stale_count() == 0
    again = StringIO()
    call_command("rotate_personal_data", stdout=again)  # idempotent
    assert "Re-encrypted 0 rows" in again.getvalue()

    assert old in json.loads(key_file.read_text())["keys"]
    call_command("rotate_personal_data", "--retire", stdout=StringIO())
    assert list(json.loads(key_file.read_text())["keys"]) == [new]
    assert {
        u.username: u.phone for u in User.objects.filter(username__in=phones)
    } == phones
    actions = set(
        AuditRecord.objects.filter(action__startswith="personal_data.").values_list(
            "action", flat=True
        )
    )
    assert {
        "personal_data.key_add",
        "personal_data.rotate",
        "personal_data.key_retire",
    } <= actions


def test_old_keys_are_not_retired_while_rows_need_them(key_file: Path) -> None:
    accounts.user_create(actor=None, username="r9", password=None, phone="13812340009")
    crypto.key_add()  # a new key, and no re-encryption yet
    with pytest.raises(CommandError, match="nothing retired"):
        call_command(
            "rotate_personal_data", "--retire", "--max-batches", "0", stdout=StringIO()
        )
    assert len(json.loads(key_file.read_text())["keys"]) == 2
    assert User.objects.get(username="r9").phone == "13812340009"
