"""The import page's template download: an empty phone-number file with the accepted headers
(German when the console speaks German, English otherwise) and one example row, CSV or xlsx."""

from django.http import Http404, HttpResponse
from django.urls import path
from django.utils.translation import get_language

from integrations_app.phone_import import template


class PhoneImportTemplateMixin:
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/template.<str:kind>",
                self.admin_site.admin_view(self.phone_import_template_view),
                name="{}_{}_phone_import_template".format(*info),
            ),
            *super().get_urls(),
        ]

    def phone_import_template_view(self, request, kind: str):
        self._check_import_permission(request)
        if kind not in template.FORMATS:
            raise Http404
        language = get_language()
        response = HttpResponse(
            template.template_file(kind, language), content_type=template.CONTENT_TYPES[kind]
        )
        name = template.file_name(kind, language)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def template_urls(self) -> list[tuple[str, str]]:
        """(format, URL) of each template, for the upload page."""
        return [(k, self._import_url("phone_import_template", k)) for k in template.FORMATS]
