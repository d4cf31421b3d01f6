"""The home page: what the instance holds and where to go."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.regions.models import Grid, Region


def home(request: HttpRequest) -> HttpResponse:
    counts = {
        "regions": Region.objects.count(),
        "villages": Region.objects.filter(level="village").count(),
        "grids": Grid.objects.count(),
    }
    return render(request, "web/home.html", {"counts": counts})


class SignOutView(auth_views.LogoutView):
    """Sign out and tell the browser to drop what it cached of this site (pages
    seen while signed in, on a phone that others may use next).

    Only the "cache" type: "storage" would also wipe the grid app's IndexedDB
    outbox (reports and visits not sent yet) and its service worker. The service
    worker's Cache Storage is part of "storage", not "cache", so the app clears its
    own cached pages itself (app-outbox.js on its sign-out button, sw.js when a
    page answers with the sign-in page)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache"'
        return response
