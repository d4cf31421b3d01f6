"""Deployment: `check --deploy` clean for production settings, no accounts after a
production install (the demo refuses to load), CSP, no-store on personal data, and
429 on the sign-in form, the public report and the lookup endpoints."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from civicgrid.accounts.models import Role
from civicgrid.accounts.tests.conftest import sign_in


def production(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CIVICGRID_MODE": "production",
        "CIVICGRID_SECRET_KEY": secrets.token_urlsafe(50),
        "CIVICGRID_ALLOWED_HOSTS": "civicgrid.example.gov.cn",
        "CIVICGRID_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "CIVICGRID_KEY_FILE": str(tmp_path / "keys.json"),
    }
    env.pop("CIVICGRID_DEBUG", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    """Not one warning: Django's security checks, the security packages' and the API
    schema generator's (a schema warning is a wrong contract for API clients)."""
    result = production(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout


def test_production_needs_its_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICGRID_")}
    env["CIVICGRID_MODE"] = "production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "CIVICGRID_SECRET_KEY" in result.stderr


def test_a_production_install_has_no_accounts_and_no_demo(tmp_path: Path) -> None:
    migrated = production(tmp_path, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    count = production(
        tmp_path,
        "shell",
        "-c",
        "from civicgrid.accounts.models import User; print(User.objects.count())",
    )
    assert count.stdout.strip().splitlines()[-1] == "0", count.stderr
    demo = production(tmp_path, "load_demo")
    assert demo.returncode != 0
    assert "never loads in production" in demo.stderr
    again = production(
        tmp_path,
        "shell",
        "-c",
        "from civicgrid.accounts.models import User; print(User.objects.count())",
    )
    assert again.stdout.strip().splitlines()[-1] == "0"


def test_pages_carry_a_content_security_policy(db: Any) -> None:
    response = Client().get(reverse("workbench:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"


def test_answers_with_personal_data_are_not_stored(make_staff: Any) -> None:
    make_staff("nostore", Role.LEADER, region="370303")
    client, _ = sign_in("nostore")
    for url in ("/api/v1/me/", reverse("workbench:queue")):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


def test_the_sign_in_form_is_rate_limited(db: Any, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "3/min",
        },
    }
    # Different names each time: password spraying is not caught by the lockout.
    answers = [
        sign_in(f"guess{i}", "Wrong#Passw0rd", "198.51.100.9")[1].status_code
        for i in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    # Another address is not slowed down.
    assert sign_in("guess9", "Wrong#Passw0rd", "203.0.113.99")[1].status_code == 200


@pytest.mark.parametrize(
    ("scope", "url"),
    [
        ("locate", "/api/v1/locate?lon=118.05&lat=36.8"),
        ("locate", "/api/v1/public/reports/EV-NONE/?token=x"),
    ],
)
def test_lookup_endpoints_are_rate_limited(
    db: Any, monkeypatch: pytest.MonkeyPatch, scope: str, url: str
) -> None:
    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {**ScopedRateThrottle.THROTTLE_RATES, scope: "2/min"},
    )
    client = APIClient()
    answers = [client.get(url).status_code for _ in range(3)]
    assert answers[:2] != [429, 429] and answers[2] == 429


@pytest.mark.parametrize(
    "url", ["/admin/login/", "/workbench/login/", "/api/v1/docs/", "/report/"]
)
def test_pages_need_no_inline_script(db: Any, url: str) -> None:
    """The CSP allows only script files from this site: a page with an inline
    script would break under it."""
    response = Client().get(url)
    assert response.status_code == 200
    body = response.content.decode()
    tags = re.findall(r"<script\b[^>]*>", body)
    # A JSON data block (json_script) is not run, and CSP does not touch it.
    assert all("src=" in t or 'type="application/json"' in t for t in tags), tags
    assert not re.search(r"\son[a-z]+=\"", body)
