"""Log in and out of the staff UI. Django's auth views, with the UI's own template and a form that
admits staff accounts only (like the admin's), so a non-staff login never starts a useless session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy


class StaffAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter the username and password of a staff account. Both may be case-sensitive.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


login = LoginView.as_view(
    template_name="sbsync/login.html",
    authentication_form=StaffAuthenticationForm,
    next_page=reverse_lazy("sbsync:dashboard"),
)
logout = LogoutView.as_view(next_page=reverse_lazy("sbsync:login"))
