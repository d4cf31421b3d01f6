"""The workbench's "show the full number" form on an event's page: only for staff who
may unmask personal data, only with a reason, shown once, audited, never cached."""

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from civicgrid.accounts.models import User
from civicgrid.core.models import AuditRecord
from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast

PHONE = "13912345678"
MASKED = "139****5678"
BUTTON = "查看完整号码"


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def reveal_url(event: Event) -> str:
    return reverse("workbench:reveal_phone", args=[event.code])


def test_an_officer_sees_the_number_once_with_a_reason(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report()
    client = signed_in(cast.town)
    page = client.get(reverse("workbench:detail", args=[event.code])).content.decode()
    assert MASKED in page and PHONE not in page
    assert BUTTON in page and reveal_url(event) in page

    response = client.post(reveal_url(event), {"reason": "回访核实诉求"})

    assert response.status_code == 200
    html = response.content.decode()
    assert PHONE in html and BUTTON not in html
    assert "no-store" in response["Cache-Control"]
    [row] = AuditRecord.objects.filter(action="personal_data.reveal")
    assert row.changes["reason"] == "回访核实诉求" and PHONE not in str(row.changes)
    # Once: the page asked again is masked.
    again = client.get(reverse("workbench:detail", args=[event.code])).content.decode()
    assert PHONE not in again and MASKED in again


def test_without_a_reason_the_number_stays_masked(
    cast: Cast, report: Callable[..., Event]
) -> None:
    event = report()
    response = signed_in(cast.town).post(reveal_url(event), {"reason": " "})
    assert response.status_code == 400
    html = response.content.decode()
    assert PHONE not in html and MASKED in html and "请说明" in html
    assert not AuditRecord.objects.filter(action="personal_data.reveal").exists()


def test_staff_without_the_permission_get_no_form_and_no_number(
    cast: Cast, report: Callable[..., Event]
) -> None:
    """A department officer sees the event (it was dispatched to them) masked, without
    the form, and a forged post is refused."""
    from civicgrid.events.engine import event_act

    event = report(matter=cast.big)
    event = event_act(
        actor=cast.town, event_id=event.pk, transition="accept", version=1
    )
    event_act(
        actor=cast.town,
        event_id=event.pk,
        transition="dispatch",
        version=event.version,
        data={"lead_department": cast.urban_dept.pk},
    )
    client = signed_in(cast.urban)
    page = client.get(reverse("workbench:detail", args=[event.code]))
    assert page.status_code == 200
    assert MASKED in page.content.decode() and BUTTON not in page.content.decode()

    response = client.post(reveal_url(event), {"reason": "回访核实诉求"})
    assert response.status_code == 403
    assert PHONE not in response.content.decode()
    assert not AuditRecord.objects.filter(action="personal_data.reveal").exists()


def test_outside_the_officers_regions_the_event_is_not_found(
    cast: Cast, report: Callable[..., Event], make_staff: Callable[..., User]
) -> None:
    from civicgrid.accounts.models import Role

    event = report()
    town_b = make_staff("e_town_b", Role.CENTER_STAFF, region="370303002")
    response = signed_in(town_b).post(reveal_url(event), {"reason": "回访核实诉求"})
    assert response.status_code == 404
    assert not AuditRecord.objects.filter(action="personal_data.reveal").exists()
