"""Error reports that hide secrets in development too.

Django's SafeExceptionReporterFilter switches itself off when DEBUG is on, and the embedded demo
runs with DEBUG on: its technical 500 page would show a pasted API key in the POST data and in
the frames' variables. This filter always applies @sensitive_variables and
@sensitive_post_parameters.

Those decorators only act once the view runs: a failure before it (in a middleware, which loads
the session and the user first) would still show the posted key. So POST parameters and frame
variables whose names are those of secrets (``api_key``, ``new_api_key``, ``password``, ``token``,
..., the rule of ``crypto/key_like.py``) are hidden wherever the failure happens, on the
technical 500 page and in the error mails alike.
"""

from django.views.debug import SafeExceptionReporterFilter

from integrations_app.crypto.key_like import secret_name


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        return self._without_secret_names(super().get_post_parameters(request))

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        # A frame's own variable holding request.POST, a QueryDict.
        cleansed = super().get_cleansed_multivaluedict(request, multivaluedict)
        return self._without_secret_names(cleansed)

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleansed_substitute if secret_name(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def _without_secret_names(self, params):
        if not params or not any(secret_name(name) for name in params):
            return params
        params = params.copy()
        for name in params:
            if secret_name(name):
                params[name] = self.cleansed_substitute
        return params
