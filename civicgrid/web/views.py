"""The home page: what the instance holds and where to go."""

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
