"""Each request is one operation: what a page writes shares one correlation id and its user."""

from changelog.models import Source
from changelog.recording import operation


class OperationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # request.user stays lazy: it is read only when the request records a change.
        with operation(
            source=Source.ADMIN, name=request.path[:120], user=_LazyUser(request)
        ) as context:
            request.operation_cid = context.cid
            return self.get_response(request)


class _LazyUser:
    """request.user, looked up at the first recorded change (after authentication ran)."""

    def __init__(self, request):
        self._request = request

    @property
    def _user(self):
        return getattr(self._request, "user", None)

    @property
    def is_authenticated(self) -> bool:
        return bool(getattr(self._user, "is_authenticated", False))

    @property
    def pk(self):
        return self._user.pk
