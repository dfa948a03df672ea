"""A named row lock: runs of one kind (a fix, an import) one after the other."""

from django.db import IntegrityError, transaction


def hold_row_lock(model, **key) -> None:
    """Lock ``model``'s row with ``key`` (created on first use) until the transaction ends.

    Django reads MySQL in READ COMMITTED, so what the caller reads after the lock includes what
    the run before it wrote.
    """
    try:
        with transaction.atomic():
            model.objects.get_or_create(**key)
    except IntegrityError:
        pass  # created by a concurrent first run
    model.objects.select_for_update().get(**key)
