"""Pages speak Chinese: the home page and Django's admin."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_page_in_chinese() -> None:
    """The home page is served in zh-hans with the instance's figures."""
    body = Client().get("/").content.decode()
    assert "市域社会治理平台" in body and "接口文档" in body
    assert 'lang="zh-hans"' in body


def test_admin_login_in_chinese() -> None:
    """Django's admin uses its own zh-hans catalogue."""
    body = Client().get("/admin/login/").content.decode()
    assert "用户名" in body and "登录" in body


def test_admin_lists_use_our_translations(admin_client: Client) -> None:
    """Our model names appear in Chinese in the admin."""
    body = admin_client.get("/admin/").content.decode()
    assert "区划与网格" in body and "网格" in body and "审计记录" in body


def test_api_docs_served_without_cdn() -> None:
    """The Swagger UI page loads its assets from our own static files."""
    body = Client().get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in body
    assert "cdn." not in body and "unpkg" not in body


def test_openapi_schema() -> None:
    """OpenAPI 3 at /api/v1/schema/ lists the locate endpoint."""
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.") and "/api/v1/locate" in schema["paths"]
