from django import forms
from django.conf import settings
from unfold.forms import AuthenticationForm

from laoke.core.auth import login_locked
from laoke.core.error_codes import LOGIN_LOCKED


class ThrottledLoginForm(AuthenticationForm):
    """The console login: says plainly when the account is locked after too many failures
    (the backend refuses it even with the right password until the window passes)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if login_locked(self.request, username):
            lang = getattr(self.request, "LANGUAGE_CODE", "zh-hans")
            minutes = settings.LAOKE_LOGIN_WINDOW_SECONDS // 60
            raise forms.ValidationError(LOGIN_LOCKED.message(lang, minutes=minutes), code="locked")
        return super().clean()
