"""How a company's integrations look in the admin: status columns and the key resolution panel."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from integrations_app.integration_kinds import KINDS
from integrations_app.selectors import COMPANY_KEY, PLAIN_TEXT, PLATFORM_KEY, key_resolution

# Colours are classes in integrations_app/static/console/console.css (no style attribute: CSP).
_HEALTH = {"healthy": "✔", "degraded": "⚠", "unhealthy": "✘", "unknown": "?"}
_USES = {COMPANY_KEY: "company", PLATFORM_KEY: "platform", PLAIN_TEXT: "plain_text"}


def integration_state(company, provider: str):
    """One list cell: configured and healthy? With a link to set it up or to open it."""
    health = getattr(company, f"{provider}_health", None)
    integration_id = getattr(company, f"{provider}_integration_id", None)
    if integration_id is None:
        url = reverse("admin:integrations_app_integration_add")
        query = urlencode({"company": company.pk, "provider": provider})
        return format_html('<a href="{}?{}">{}</a>', url, query, _("set up"))
    state = health if health in _HEALTH else "unknown"
    label = {
        "healthy": _("healthy"),
        "degraded": _("degraded"),
        "unhealthy": _("unhealthy"),
    }.get(health, _("not tested"))
    url = reverse("admin:integrations_app_integration_change", args=[integration_id])
    return format_html(
        '<a href="{}" class="askpro-health-{}">{} {}</a>', url, state, _HEALTH[state], label
    )


def key_resolution_panel(company):
    """What happens on a call or a booking, with which key; the gateway's names as a detail."""
    if company is None or company.pk is None:
        return "-"
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td class="askpro-uses-{}">{}{}</td>'
        "<td><small><code>{}</code></small></td></tr>",
        (
            (
                use.path,
                _USES.get(use.uses, "other"),
                use.effect,
                format_html(" · <code>{}</code>", use.fingerprint) if use.fingerprint else "",
                use.detail,
            )
            for use in key_resolution(company)
        ),
    )
    return format_html(
        '<table class="askpro-key-panel"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr>'
        '</thead><tbody>{}</tbody></table><p class="help">{}</p>',
        _("when"),
        _("which key the gateway uses"),
        _("in the gateway's code"),
        rows,
        _(
            "A Cal.com key set for this company is used only to import its team and event "
            "types: calls keep checking free times and booking through the shared platform "
            "account. A stored key that cannot be opened is no error in the gateway: it "
            "silently uses the platform key."
        ),
    )


__all__ = ["KINDS", "integration_state", "key_resolution_panel"]
