"""The Cal.com and Retell integration form: write-only keys, never shown, never sent back."""

from django import forms
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from integrations_app import credentials, labels
from integrations_app.admin.forms import environment_choices
from integrations_app.crypto.encrypter import Encrypter
from integrations_app.crypto.errors import DecryptionError, GatewayKeyError
from integrations_app.crypto.fingerprint import fingerprint
from integrations_app.integration_kinds import (
    CALCOM,
    CONFIG_AGENT_ID,
    CONFIG_EVENT_TYPE_ID,
    CONFIG_TEAM_ID,
    CONFIG_TEAM_SLUG,
    DEFAULT_ENVIRONMENT,
    RETELL,
)
from integrations_app.models import Company, Integration

# The form field a CredentialError's field is shown at.
_REFUSAL_FIELDS = {"api_key": "new_api_key"}


def stored_key_state(payload: str | None) -> str:
    """'not set', 'set · fingerprint' or why it cannot be read; never the key or part of it."""
    if not payload:
        return str(_("not set"))
    try:
        value = Encrypter.from_settings().decrypt_string(payload)
    except GatewayKeyError:
        return str(_("set (cannot be checked: GATEWAY_APP_KEY is not set or malformed)"))
    except DecryptionError as error:
        return str(_("set, but cannot be decrypted with the current keys: %(reason)s")) % {
            "reason": error.message
        }
    return str(_("set · fingerprint %(fp)s")) % {"fp": fingerprint(value)}


class CoreIntegrationForm(forms.ModelForm):
    # Set by the admin for each page (the row's provider, or the one the add link names); the
    # provider is never taken from the POST, so a page shows exactly the fields it validates.
    fixed_provider = CALCOM.provider
    # A CredentialError the save raised for this very input (admin/integrations.py), or None.
    refusal = None

    provider = forms.ChoiceField(
        label=capfirst(_("provider")),
        choices=[(CALCOM.provider, CALCOM.label), (RETELL.provider, RETELL.label)],
    )
    new_api_key = forms.CharField(
        label=capfirst(_("new API key")),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    remove_api_key = forms.BooleanField(label=capfirst(_("remove the stored key")), required=False)
    event_type_id = forms.IntegerField(
        label=labels.CONFIG_KEYS["event_type_id"],
        required=False,
        min_value=1,
        max_value=credentials.MAX_ID,
    )
    team_slug = forms.SlugField(
        label=labels.CONFIG_KEYS["team_slug"], required=False, max_length=255
    )
    team_id = forms.IntegerField(
        label=labels.CONFIG_KEYS["team_id"],
        required=False,
        min_value=1,
        max_value=credentials.MAX_ID,
    )
    agent_id = forms.CharField(label=labels.CONFIG_KEYS["agent_id"], required=False, max_length=255)
    environment = forms.ChoiceField(label=capfirst(_("environment")))  # choices: __init__
    is_active = forms.BooleanField(label=capfirst(_("active")), required=False, initial=True)
    description = forms.CharField(
        label=capfirst(_("description")), required=False, widget=forms.Textarea
    )

    class Meta:
        model = Integration
        fields = ("company",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.order_by("name")
        self.fields["company"].required = True
        self.fields["provider"].disabled = True
        self.fields["provider"].initial = self.initial["provider"] = self.fixed_provider
        self.fields["provider"].help_text = self._other_kinds()
        instance = self.instance
        config = instance.config_object
        self.fields["environment"].choices = environment_choices(instance.environment)
        if instance.pk:
            self.fields["company"].disabled = True
            self.initial.update(
                event_type_id=config.get(CONFIG_EVENT_TYPE_ID),
                team_slug=config.get(CONFIG_TEAM_SLUG),
                team_id=config.get(CONFIG_TEAM_ID),
                agent_id=config.get(CONFIG_AGENT_ID),
                environment=instance.environment,
                is_active=instance.is_active,
                description=instance.description,
            )
        if instance.pk and instance.api_key:
            help_text = _(
                "Stored: %(state)s. Leave empty to keep the stored key; "
                "the key is never shown again."
            ) % {"state": stored_key_state(instance.api_key)}
        else:
            del self.fields["remove_api_key"]  # no key stored (a new row, a placeholder)
            help_text = _("The key is stored encrypted and never shown again.")
        # Before anything is typed: when keys cannot be saved, what to set, where (a refused
        # form says it once, above the form: clean()).
        self.key_missing = credentials.key_missing_message()
        notice = None if self.is_bound else self.key_missing
        self.fields["new_api_key"].help_text = format_html_join(
            " ", "{}", ((text,) for text in (notice, help_text) if text)
        )

    def _chosen_company(self) -> str:
        """The company the page names (typed, given in the add link, or the row's), else ""."""
        chosen = self.data.get(self.add_prefix("company"), "") if self.is_bound else ""
        chosen = chosen or self.initial.get("company") or self.instance.company_id or ""
        chosen = str(getattr(chosen, "pk", chosen))
        return chosen if chosen.isdigit() else ""

    def _other_kinds(self):
        """The links to the other kinds' add pages, keeping the chosen company (console.js
        also keeps one chosen after the page was drawn)."""
        add_url = reverse("admin:integrations_app_integration_add")
        company = self._chosen_company()
        links = format_html_join(
            " · ",
            '<a href="{}?{}" class="askpro-keeps-company">{}</a>',
            (
                (
                    add_url,
                    urlencode({"provider": key, **({"company": company} if company else {})}),
                    label,
                )
                for key, label in (
                    ("calcom", "Cal.com"),
                    ("retell", "Retell AI"),
                    ("webhook", _("webhook, API, OAuth 2")),
                )
            ),
        )
        return format_html("{} {}", _("Add another kind:"), links)

    def clean(self):
        data = super().clean()
        if self.refusal is not None:
            # What the save refused (admin/integrations.py): shown on the form, input kept.
            field = _REFUSAL_FIELDS.get(self.refusal.field, self.refusal.field)
            usable = field in self.fields and not self.fields[field].disabled
            self.add_error(field if usable else None, self.refusal.message)
        elif self.key_missing:
            self.add_error(None, self.key_missing)  # the typed input stays, the key field not
        provider = self.fixed_provider
        api_key = data.get("new_api_key") or ""
        if api_key and data.get("remove_api_key", False):
            self.add_error("remove_api_key", _("Either enter a new key or remove the stored one."))
        if api_key:
            try:
                credentials.validate_api_key(provider, api_key)
            except credentials.CredentialError as error:
                self.add_error("new_api_key", error.message)
        if not self.instance.pk and not api_key:
            self.add_error("new_api_key", _("Enter the API key."))
        if data.get("is_active", False):
            # Only for an empty field: a value the field refused (-5) has its own error.
            if provider == CALCOM.provider and self._left_empty("event_type_id"):
                self.add_error("event_type_id", _("Cal.com needs the event type id to book."))
            if provider == RETELL.provider and self._left_empty("agent_id"):
                self.add_error("agent_id", _("Retell needs the agent id."))
        return data

    def _left_empty(self, name: str) -> bool:
        return name not in self.errors and not self.cleaned_data.get(name)

    def full_clean(self):
        super().full_clean()
        typed_key = self.is_bound and self.data.get(self.add_prefix("new_api_key"))
        if typed_key and self._errors:
            # The typed key is never drawn again (secrets stay out of the HTML): say so at it.
            field = self.fields["new_api_key"]
            field.help_text = format_html(
                '<strong class="askpro-key-again">{}</strong> {}',
                _("Enter the key again (it is never sent back to the page)."),
                field.help_text,
            )
            self["new_api_key"].help_text = field.help_text  # bound before cleaning

    def integration_settings(self) -> credentials.IntegrationSettings:
        data = self.cleaned_data
        return credentials.IntegrationSettings(
            event_type_id=data.get("event_type_id"),
            team_slug=data.get("team_slug") or None,
            team_id=data.get("team_id"),
            agent_id=(data.get("agent_id") or "").strip() or None,
            environment=data.get("environment") or DEFAULT_ENVIRONMENT,
            is_active=bool(data.get("is_active")),
            description=data.get("description") or None,
        )
