"""Personal data: encrypted at rest with SM4-GCM, masked on output, ID numbers checked."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from civicgrid.accounts import services
from civicgrid.core import crypto
from civicgrid.core.personal import (
    PersonalDataField,
    PersonalKind,
    id_number_is_valid,
    mask,
)

pytestmark = pytest.mark.django_db


def test_phone_is_ciphertext_in_the_database_and_plaintext_in_python() -> None:
    """The column holds an SM4-GCM token with its key id; the model reads the number."""
    user = services.user_create(
        actor=None, username="p1", password=None, phone="13812345678"
    )
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        raw = cur.fetchone()[0]
    assert raw.startswith("sm4gcm:") and "13812345678" not in raw
    user.refresh_from_db()
    assert user.phone == "13812345678"


def test_same_value_encrypts_differently_each_time() -> None:
    """A fresh nonce per value: equal phone numbers do not give equal ciphertexts."""
    assert crypto.encrypt("13812345678") != crypto.encrypt("13812345678")


def test_tampered_ciphertext_is_refused() -> None:
    """GCM authenticates: a flipped byte fails to decrypt instead of reading garbage."""
    token = crypto.encrypt("13812345678")
    prefix, kid, blob = token.split(":", 2)
    flipped = blob[:-2] + ("A" if blob[-2] != "A" else "B") + blob[-1]
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        crypto.decrypt(f"{prefix}:{kid}:{flipped}")


def test_blind_index_is_keyed_and_normalised() -> None:
    """Exact lookup without plaintext: same value, same index; case and spaces ignored."""
    assert crypto.blind_index(" 11010519491231002x") == crypto.blind_index(
        "11010519491231002X"
    )
    assert crypto.blind_index("13812345678") != crypto.blind_index("13812345679")
    assert len(crypto.blind_index("x")) == 64  # SM3


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("13812345678", PersonalKind.PHONE, "138****5678"),
        ("11010519491231002X", PersonalKind.ID_NUMBER, "110***********002X"),
        ("110105199001011234", PersonalKind.ID_NUMBER, "110***********1234"),
        ("13856785678", PersonalKind.PHONE, "138****5678"),
        ("张三丰", PersonalKind.NAME, "张**"),
        ("山东省淄博市张店区人民西路1号", PersonalKind.ADDRESS, "山东省淄博市***"),
        ("", PersonalKind.PHONE, ""),
    ],
)
def test_masking(value: str, kind: str, shown: str) -> None:
    """The default on-screen forms keep only what identifies nobody."""
    assert mask(value, kind) == shown


def test_id_number_check_digit() -> None:
    """GB 11643: the published example 11010519491231002X is valid; a changed digit is not."""
    assert id_number_is_valid("11010519491231002X")
    assert not id_number_is_valid("110105194912310021")
    assert not id_number_is_valid("1101051949123100")
    field = PersonalDataField(kind=PersonalKind.ID_NUMBER)
    with pytest.raises(ValidationError):
        field.clean("110105194912310021", None)


def test_me_endpoint_masks_the_phone(django_user_model) -> None:  # type: ignore[no-untyped-def]
    """/api/v1/me/ shows the caller's phone masked."""
    from rest_framework.test import APIClient

    user = services.user_create(
        actor=None, username="p2", password=None, phone="13912345678"
    )
    client = APIClient()
    client.force_authenticate(user)
    body = client.get("/api/v1/me/").json()
    assert body["phone"] == "139****5678"
    assert "13912345678" not in str(body)
