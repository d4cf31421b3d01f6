"""The steps after the password: the second factor (enrol an authenticator app, then
a code at every sign-in) and changing an expired password."""

import base64
from typing import Any

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicgrid.accounts import services
from civicgrid.accounts.security import is_verified


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("One-time code"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _qr_svg(url: str) -> str:
    return str(segno.make(url, error="m").svg_inline(scale=4))


@never_cache
@login_required
def otp_step(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator (first time: QR code and key), or confirm a code."""
    user = request.user
    if is_verified(user):
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name=_("Authenticator app"), confirmed=False
            )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = django_otp.verify_token(
            user, device.persistent_id, form.cleaned_data["token"].strip()
        )
        if verified is not None:
            if enrolling:
                services.otp_device_confirm(actor=user, device=verified)  # type: ignore[arg-type]
            django_otp.login(request, verified)
            return redirect(_next_url(request))
        form.add_error("token", _("The code is wrong or has expired."))
    context: dict[str, Any] = {
        "form": form,
        "enrolling": enrolling,
        "next": _next_url(request),
    }
    if enrolling:
        context["qr"] = mark_safe(_qr_svg(device.config_url))  # noqa: S308 - our own SVG
        context["key"] = _base32(device)
        context["issuer"] = settings.OTP_TOTP_ISSUER
    return render(request, "accounts/otp.html", context, status=200)


def _base32(device: TOTPDevice) -> str:
    key = base64.b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@never_cache
@sensitive_post_parameters()
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's password (forced when it has expired)."""
    form = PasswordChangeForm(request.user, request.POST or None)  # type: ignore[arg-type]
    if request.method == "POST" and form.is_valid():
        services.user_password_set(
            actor=request.user,
            user=request.user,  # type: ignore[arg-type]
            password=form.cleaned_data["new_password1"],
        )
        update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
        messages.success(request, _("Your password has been changed."))
        return redirect(_next_url(request))
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "next": _next_url(request),
            "max_age_days": settings.CIVICGRID_PASSWORD_MAX_AGE_DAYS,
        },
    )
