from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from followup.fields import NHSMessagesMixin


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username"
        self.fields["password"].error_messages["required"] = "Enter your password"


class CodeForm(NHSMessagesMixin, forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        error_messages={"required": "Enter the code from your authenticator app, or a recovery code"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "class": "nhsuk-input nhsuk-input--width-10",
            }
        ),
    )


class NewAppCodeForm(NHSMessagesMixin, forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=10,
        help_text="The 6-digit code the app shows for this account, once you have added it.",
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "nhsuk-input nhsuk-input--width-5"}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits the app shows, like 123456")
        return code


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Your current password"
        self.fields["old_password"].error_messages["required"] = "Enter your current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "At least 12 characters. Not a common password, not like your name or username, and not only numbers. "
            "A few unrelated words together make a good one."
        )
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].label = "New password again"
        self.fields["new_password2"].error_messages["required"] = "Enter the new password again"
        self.fields["new_password2"].help_text = ""
        self.error_messages = {
            **self.error_messages,
            # Messages, not passwords (bandit's B105 reads the keys' names).
            "password_incorrect": "Your current password is wrong. Enter it again.",  # nosec B105
            "password_mismatch": "The two new passwords are different. Enter the same one twice.",  # nosec B105
        }

    def clean_new_password1(self):
        """Not the current password again: after an admin's reset, the admin's password would stay."""
        password = self.cleaned_data.get("new_password1")
        if password and self.user.check_password(password):
            raise forms.ValidationError("Choose a new password that is different from your current one")
        return password
