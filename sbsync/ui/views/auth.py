"""Log in and out of the staff UI. Django's auth views, with the UI's own template and a form that
admits staff accounts only (like the admin's), so a non-staff login never starts a useless session.
A login refused by the lockout (sbsync.lockout) shows why, with status 429 and Retry-After."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.urls import reverse_lazy

from sbsync import lockout


class StaffAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter the username and password of a staff account. Both may be case-sensitive.",
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            if self.request is not None and lockout.is_locked_out(self.request):
                raise ValidationError(lockout.lockout_message(self.request), code="locked_out") from None
            raise

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class StaffLoginView(LoginView):
    template_name = "sbsync/login.html"
    authentication_form = StaffAuthenticationForm

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", "locked_out"):
            response.status_code = 429
            if wait := lockout.retry_after(self.request):
                response["Retry-After"] = str(wait)
        return response


login = StaffLoginView.as_view(next_page=reverse_lazy("sbsync:dashboard"))
logout = LogoutView.as_view(next_page=reverse_lazy("sbsync:login"))
