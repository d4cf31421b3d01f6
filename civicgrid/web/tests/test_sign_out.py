"""Signing out on a shared phone: the answer tells the browser to drop its HTTP
cache (not its storage: the app's unsent items live there), the app offers a
sign-out that warns of unsent items, and its service worker forgets the pages it
kept when it is sent to the sign-in page."""

from django.test import Client

from civicgrid.events.tests.conftest import Cast


def test_signing_out_clears_the_browser_cache_but_not_its_storage(
    cast: Cast,
) -> None:
    client = Client()
    client.force_login(cast.grid_worker)
    response = client.post("/workbench/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/workbench/login/"
    assert response["Clear-Site-Data"] == '"cache"'
    assert client.get("/app/").status_code == 302  # signed out indeed


def test_the_app_has_a_sign_out_that_warns_of_unsent_items(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.grid_worker)
    body = client.get("/app/").content.decode()
    form = body.split('id="app-signout"')[1].split("</form>")[0]
    assert "退出" in form and "尚未发送" in form
    assert 'action="/workbench/logout/"' in body.split('id="app-signout"')[0][-80:]
    assert f'data-owner="{cast.grid_worker.username}"' in body
    sw = Client().get("/app/sw.js").content.decode()
    assert "forgetPages" in sw and "/login/" in sw
