"""The sign-in forms of the portal and of the Django admin."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm


class _NoImpossibleUsernames:
    """Django's AuthenticationForm gives its username field a maxlength attribute but no length
    check, so any text reached authenticate() and the lockout's record of the attempt (255
    characters: a 500 on PostgreSQL). A name longer than any login can have is refused as a
    wrong sign-in, before anything looks it up or counts it."""

    def clean_username(self):
        username = self.cleaned_data["username"]
        if len(username) > (self.username_field.max_length or 254):
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                        params={"username": self.username_field.verbose_name})
        return username


class LoginForm(_NoImpossibleUsernames, AuthenticationForm):
    pass


class AdminLoginForm(_NoImpossibleUsernames, AdminAuthenticationForm):
    pass
