"""Settings of the intake benchmark's server: the product's own, plus a URLconf with
the ceiling endpoint (bench/intake_urls.py). Nothing else differs."""

from civicgrid.settings import *  # noqa: F403

ROOT_URLCONF = "intake_urls"
