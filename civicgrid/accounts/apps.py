"""Users, roles, staff posts (who works where) and departments."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    label = "accounts"
    verbose_name = _("Accounts and departments")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from civicgrid.accounts.middleware import stamp_login

        def on_login(sender: object, request: object, **kwargs: object) -> None:
            if request is not None and hasattr(request, "session"):
                stamp_login(request)  # type: ignore[arg-type]

        user_logged_in.connect(on_login, dispatch_uid="civicgrid_session_clocks")
