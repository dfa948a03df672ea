"""Saving a phone number the way the gateway finds it (the rules in ``integrations_app.phone``)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from integrations_app.models import Branch, PhoneNumber
from integrations_app.phone import (
    ROUTING_COLUMNS,
    branch_fits,
    duplicates_q,
    routing_values,
    to_e164,
)
from integrations_app.services.records import save_record


def save_phone_number(*, instance: PhoneNumber, fields: Iterable[str] | None = None) -> PhoneNumber:
    """Write the number's E.164 form into every routing column, with a branch of its company.

    A number another row claims already is refused (the form says so first; this holds for
    every other caller). The one-primary rule is the form's and the import's: an inline form
    may move the primary from one number to another within one save.
    """
    e164 = to_e164(instance.number)
    if e164 is None:
        raise ValidationError(
            _("%(number)s is not a valid phone number."), params={"number": instance.number}
        )
    others = PhoneNumber.objects.filter(duplicates_q(e164))
    if not instance._state.adding:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError(
            _(
                "%(number)s is already in the database: the gateway would route its calls to "
                "whichever row it finds first."
            ),
            params={"number": e164},
        )
    for column, value in routing_values(e164).items():
        setattr(instance, column, value)
    if instance.branch_id is not None:
        branch_company = (
            Branch.all_objects.filter(pk=instance.branch_id)
            .values_list("company_id", flat=True)
            .first()
        )
        if not branch_fits(branch_company, instance.company_id):
            raise ValidationError(_("The branch does not belong to the number's company."))
        if instance.company_id is None:
            instance.company_id = branch_company
            fields = None if fields is None else [*fields, "company"]
    if fields is not None:
        fields = [*fields, *ROUTING_COLUMNS]
    return save_record(instance=instance, fields=fields)
