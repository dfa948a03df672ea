"""System checks of the console (Django's `check` framework): stable ids, a hint for each."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.translation import gettext as _

from integrations_app.crypto.errors import GatewayKeyError
from integrations_app.crypto.keys import configured_keys


@register(Tags.security)
def check_gateway_key(app_configs=None, **kwargs):
    """askpro.E001 (production) / askpro.W001 (DEBUG): GATEWAY_APP_KEY or a previous key unusable.

    Without the gateway's key the console cannot write a secret the gateway reads, nor read one.
    In development the forms say so when saving; in production the console must not start.
    """
    try:
        configured_keys()
    except GatewayKeyError as error:
        message = _("The gateway's encryption key is unusable: %(error)s.") % {"error": error}
        hint = _(
            "Set GATEWAY_APP_KEY to the gateway's APP_KEY, in its form 'base64:' followed by 44 "
            "characters; GATEWAY_PREVIOUS_KEYS to its APP_PREVIOUS_KEYS (comma-separated, same "
            "form), if any: in the console's environment or in the .env file beside manage.py, "
            "then restart the console. The embedded demo makes its own: manage.py setup_demo."
        )
        if settings.DEBUG:
            return [Warning(message, hint=hint, id="askpro.W001")]
        return [Error(message, hint=hint, id="askpro.E001")]
    return []
