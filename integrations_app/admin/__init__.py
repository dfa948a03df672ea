"""The Django admin of the gateway's tables, registered on the default admin site.

Modules by idea: ``tenancy`` (companies, branches, staff, services, phone numbers),
``integrations`` (integrations, notification templates), ``activity`` (customers, calls,
appointments, interactions: read only), ``history`` (the change record), ``imports`` (the
record of each phone-number import); ``base`` holds what they share.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from integrations_app.admin import (  # noqa: F401
    activity,
    agents,
    imports,
    integrations,
    operations,
    tenancy,
)

admin.site.site_header = _("AskPro Console")
admin.site.site_title = _("AskPro Console")
admin.site.index_title = _("AskPro Console")
# The console has no public site: the header's "view site" link would only lead back here.
admin.site.site_url = None
