"""Reads of the change store that several pages need."""

from changelog.models import Change, Operation


def object_changes(*, table: str, pk):
    """Every change of one row, newest first (the ``change_object_idx`` index)."""
    return (
        Change.objects.filter(table=table, object_pk=str(pk))
        .select_related("operation", "operation__user")
        .order_by("-id")
    )


def operation_changes(*, operation: Operation):
    """What one operation wrote, in the order it wrote it (the ``change_operation_idx`` index)."""
    return Change.objects.filter(operation=operation).order_by("id")


def operation_by_cid(cid: str) -> Operation | None:
    return Operation.objects.select_related("user").filter(cid=cid).first()
