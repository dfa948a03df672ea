"""Admin forms that check what the gateway needs before a row is written (DESIGN.md decision 8)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from integrations_app import labels
from integrations_app.crypto.key_like import secret_paths
from integrations_app.integration_kinds import CORE_PROVIDERS, DEFAULT_ENVIRONMENT, ENVIRONMENTS
from integrations_app.models import Branch, Integration, NotificationTemplate, PhoneNumber
from integrations_app.phone import PRIMARIES_PER_COMPANY, branch_fits, duplicates_q, to_e164


def json_depth(value) -> int:
    """How deeply a decoded JSON document nests its objects and arrays (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


class BoundedJSONField(forms.JSONField):
    """Django's JSON form field for what a person types: a document nested deeper than
    ``max_depth`` is a form error. Django's own would fail with an error page past the ~1000
    levels Python parses, and every later step (the secret check, the history) walks it."""

    max_depth = 32

    def to_python(self, value):
        try:
            converted = super().to_python(value)
            too_deep = json_depth(converted) > self.max_depth
        except RecursionError:  # deeper than Python parses at all
            too_deep = True
        if too_deep:
            raise ValidationError(
                _("The JSON is nested more than %(max)d levels deep."),
                code="too_deep",
                params={"max": self.max_depth},
            )
        return converted

    def prepare_value(self, value):
        # No configuration is an empty field, not the JSON text "null".
        return "" if value is None else super().prepare_value(value)

    def bound_data(self, data, initial):
        try:
            bound = super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)
        if json_depth(bound) > self.max_depth:
            return forms.fields.InvalidJSONInput(data)  # shown again as typed
        return bound


def choices_with_current(values, current, column: tuple[str, str] = ("", "")):
    """The allowed values as choices, labelled as ``labels.py`` declares them for ``column``
    (table, column), plus the row's present value if the gateway wrote another."""
    values = [*values, *([current] if current and current not in values else [])]
    return labels.choices(*column, values)


def environment_choices(current) -> list:
    """The environments an integration form offers (integration_kinds.ENVIRONMENTS, labelled),
    plus the row's own if the gateway wrote another."""
    return choices_with_current(ENVIRONMENTS, current, ("integrations", "environment"))


def company_branches(company_id):
    """The branches a number of this company may book at (none without a company)."""
    if company_id is None:
        return Branch.objects.none()
    return Branch.objects.filter(company_id=company_id).order_by("name", "pk")


def chosen_key(value) -> int | None:
    """A company key as a form holds it (a row, a number, the posted text), else None."""
    value = getattr(value, "pk", value)
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


class CompanyBranchField(forms.ModelChoiceField):
    """The branches of the chosen company; another company's branch is refused by name."""

    def __init__(self, company_id, **kwargs):
        self.company_id = company_id
        super().__init__(queryset=company_branches(company_id), **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "invalid_choice":
                raise
            if self.company_id is None:
                raise ValidationError(_("Choose the company first."), code="no_company") from None
            key = str(value)[:36]
            if Branch.all_objects.filter(pk=key).exclude(company_id=self.company_id).exists():
                raise ValidationError(
                    _("This branch belongs to another company."), code="branch_company"
                ) from None
            raise


class PhoneNumberForm(forms.ModelForm):
    """A routing number: E.164, unique among the routing columns, with a branch of its company."""

    # A standalone form checks "one primary number per company" against the database; in the
    # company's inline the formset checks it across its forms (one may move the flag).
    check_primary_in_database = True

    class Meta:
        model = PhoneNumber
        fields = (
            "company",
            "branch",
            "number",
            "type",
            "label",
            "description",
            "country_code",
            "is_active",
            "is_primary",
            "retell_phone_id",
            "retell_agent_id",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "branch" in self.fields:
            self.fields["branch"].required = True
        if "company" in self.fields and isinstance(self.fields["company"], forms.ModelChoiceField):
            self.fields["company"].required = True
            if "branch" in self.fields:
                self.limit_branches()

    def limit_branches(self):
        """The branch field offers the chosen company's branches (posted, else the row's),
        and names the branch when the company has exactly one."""
        if self.is_bound:
            company_id = chosen_key(self.data.get(self.add_prefix("company")))
        else:
            company_id = chosen_key(self.initial.get("company", self.instance.company_id))
        old = self.fields["branch"]
        field = CompanyBranchField(
            company_id, label=old.label, help_text=old.help_text, widget=old.widget
        )
        self.fields["branch"] = field
        if not self.is_bound and company_id is not None:
            self.initial_branch(field, company_id)

    def initial_branch(self, field, company_id):
        """The row's branch if it is a live one of the company's (else said at the field),
        or the company's only branch."""
        current = self.initial.get("branch")
        if current:
            row = (
                Branch.all_objects.filter(pk=current)
                .values_list("name", "company_id", "deleted_at")
                .first()
            )
            if row and row[1] == company_id and row[2] is None:
                return
            field.help_text = _(
                "The branch this number names (%(branch)s) is not one of its company's: choose one."
            ) % {"branch": row[0] if row else current}
            self.initial["branch"] = None
        keys = list(field.queryset.values_list("pk", flat=True)[:2])
        if len(keys) == 1:
            self.initial["branch"] = keys[0]

    def clean_number(self):
        raw = self.cleaned_data.get("number", "")
        e164 = to_e164(raw)
        if e164 is None:
            raise ValidationError(
                _("“%(number)s” is not a valid phone number."),
                code="invalid_number",
                params={"number": raw},
            )
        return e164

    def clean(self):
        cleaned = super().clean()
        company = cleaned.get("company")
        branch = cleaned.get("branch")
        number = cleaned.get("number")
        if (
            branch is not None
            and company is not None
            and not branch_fits(branch.company_id, company.pk)
        ):
            self.add_error(
                "branch",
                ValidationError(
                    _("This branch belongs to another company."), code="branch_company"
                ),
            )
        if number:
            others = PhoneNumber.objects.filter(duplicates_q(number))
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error(
                    "number",
                    ValidationError(
                        _(
                            "%(number)s is already in the database: the gateway would route its "
                            "calls to whichever row it finds first."
                        ),
                        code="duplicate_number",
                        params={"number": number},
                    ),
                )
        if (
            self.check_primary_in_database
            and cleaned.get("is_primary")
            and company is not None
            and company.pk is not None
        ):
            primaries = PhoneNumber.objects.filter(company=company, is_primary=True)
            if self.instance.pk:
                primaries = primaries.exclude(pk=self.instance.pk)
            if primaries.count() >= PRIMARIES_PER_COMPANY:
                self.add_error(
                    "is_primary",
                    ValidationError(
                        _("The company already has a primary number."), code="second_primary"
                    ),
                )
        return cleaned


class InlinePhoneNumberForm(PhoneNumberForm):
    check_primary_in_database = False


class PhoneNumberInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not self._should_delete_form(form)
        ]
        primaries = sum(1 for form in kept if form.cleaned_data.get("is_primary"))
        if primaries > PRIMARIES_PER_COMPANY:
            raise ValidationError(
                _("A company has at most one primary number."), code="second_primary"
            )
        numbers = [form.cleaned_data.get("number") for form in kept]
        numbers = [n for n in numbers if n]
        if len(numbers) != len(set(numbers)):
            raise ValidationError(_("The same number is entered twice."), code="duplicate_number")


class IntegrationForm(forms.ModelForm):
    """The non-secret columns of an integration; provider and status as the gateway knows them."""

    class Meta:
        model = Integration
        fields = (
            "company",
            "name",
            "type",
            "provider",
            "status",
            "is_active",
            "environment",
            "external_id",
            "webhook_url",
            "config",
            "description",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance
        if "provider" in self.fields:
            # Cal.com and Retell have their own form, which encrypts the key and writes the
            # company columns the gateway reads; this generic form never creates one.
            generic = [p for p in Integration.PROVIDERS if p not in CORE_PROVIDERS]
            self.fields["provider"] = forms.ChoiceField(
                label=self.fields["provider"].label,
                choices=choices_with_current(
                    generic, current.provider, ("integrations", "provider")
                ),
            )
        if "status" in self.fields:
            self.fields["status"] = forms.ChoiceField(
                label=self.fields["status"].label,
                choices=choices_with_current(
                    Integration.STATUSES, current.status, ("integrations", "status")
                ),
                initial="active",
            )
        if "environment" in self.fields:
            self.fields["environment"] = forms.ChoiceField(
                label=self.fields["environment"].label,
                choices=environment_choices(current.environment),
                initial=DEFAULT_ENVIRONMENT,
            )
        if "type" in self.fields:
            self.fields["type"].help_text = _(
                "What kind of service this is, in a word, e.g. “webhook”, “api”, “crm”: the "
                "gateway's admin screens show it; the console and the gateway's call and "
                "booking paths read nothing from it."
            )

    def clean_config(self):
        # Any secret the JSON holds, even one already stored: the form shows it, so it can go.
        config = self.cleaned_data.get("config")
        found = secret_paths(config, "config") if config is not None else []
        if found:
            # The refused secret is not drawn again (like a key): the field comes back empty.
            self.data = self.data.copy()
            self.data[self.add_prefix("config")] = ""
            raise ValidationError(
                _(
                    "%(paths)s is named like a secret or looks like a key: secrets never go "
                    "into the plain configuration, and this kind of integration has no key "
                    "field in the console. Keep the secret where the service that uses it "
                    "reads it, e.g. in the gateway's environment (.env), and enter the "
                    "configuration again without it."
                )
                % {"paths": ", ".join(path for path, _value in found)}
            )
        return config


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = (
            "company",
            "key",
            "channel",
            "name",
            "type",
            "description",
            "subject",
            "content",
            "translations",
            "variables",
            "is_active",
            "is_system",
            "priority",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "channel" in self.fields:
            self.fields["channel"] = forms.ChoiceField(
                label=self.fields["channel"].label,
                choices=choices_with_current(
                    NotificationTemplate.CHANNELS,
                    self.instance.channel,
                    ("notification_templates", "channel"),
                ),
            )
        if "translations" in self.fields:
            # NOT NULL in the gateway; an empty object is a valid value.
            self.fields["translations"].required = False

    def clean_translations(self):
        value = self.cleaned_data.get("translations")
        return {} if value is None else value
