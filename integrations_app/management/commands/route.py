"""``manage.py route NUMBER [--agent ID] [--format text|json]``: where does this call go?

Exit status 0 when every gateway path lands on the same company and branch, 1 when they differ
or the answer is undefined (rejected, company 1, two rows, no branch) or lands on what does not
work (a deleted or missing company, a deleted, missing or foreign branch), 2 for input that does
not parse. Read only (integrations_app/routing/).
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from integrations_app import routing


def _row_text(row: routing.Row) -> str:
    if row.kind == "retell_agent":
        head = _("agent %(agent)s (id %(id)s)") % {"agent": row.label, "id": row.id}
    elif row.kind == "company":
        return _("company %(id)s %(name)s") % {"id": row.id, "name": row.company_name or "?"}
    else:
        head = _("number %(number)s (id %(id)s)") % {"number": row.label, "id": row.id}
    parts = [head, _company_text(row.company_id, row.company_name)]
    if row.kind == "phone_number":
        parts.append(_branch_text(row.branch_id, row.branch_name))
        if row.is_active is False:
            parts.append(_("inactive"))
        if row.marked_deleted:
            parts.append(_("marked deleted"))
    return ", ".join(parts)


def _company_text(company_id, name) -> str:
    if company_id is None:
        return _("no company")
    return _("company %(id)s %(name)s") % {"id": company_id, "name": name or "?"}


def _branch_text(branch_id, name) -> str:
    if not branch_id:
        return _("no branch")
    return _("branch %(id)s %(name)s") % {"id": branch_id, "name": name or "?"}


class Command(BaseCommand):
    help = _(
        "Show step by step where the gateway's call paths send a call to NUMBER (any written "
        "form), optionally with the call's Retell agent id. Exits with 0 when all paths agree "
        "on company and branch, 1 otherwise, 2 when the input does not parse."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", help=_("the called number, in any written form"))
        parser.add_argument(
            "--agent", metavar="ID", default="", help=_("the call's Retell agent id")
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args, number, agent="", format="text", **options):
        try:
            route = routing.explain(number, agent)
        except routing.RouteInputError as error:
            raise CommandError(str(error), returncode=2) from None
        if format == "json":
            self.stdout.write(json.dumps(route.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._text(route)
        if not route.agree:
            raise SystemExit(1)

    def _text(self, route: routing.Route) -> None:
        write = self.stdout.write
        write(
            _("Number %(raw)s → %(e164)s (region %(region)s)")
            % {"raw": route.raw, "e164": route.e164, "region": route.region}
        )
        if route.agent_id:
            write(_("Agent %(agent)s") % {"agent": route.agent_id})
        for result in route.paths:
            write("")
            write(str(result.title))
            for index, step in enumerate(result.steps, 1):
                write(f"  {index}. {step.rule}")
                if step.note:
                    write(f"     {step.note}")
                for row in step.rows:
                    write(f"     - {_row_text(row)}")
            landing = [_company_text(result.company_id, result.company_name)]
            if result.sets_branch:
                landing.append(_branch_text(result.branch_id, result.branch_name))
            line = _("  → %(outcome)s: %(landing)s") % {
                "outcome": result.outcome_label,
                "landing": ", ".join(landing),
            }
            style = self.style.ERROR if result.key in route.disagreeing else self.style.SUCCESS
            write(style(line))
            for note in result.notes:
                write(self.style.WARNING(f"    ! {note}"))
        write("")
        style = self.style.SUCCESS if route.agree else self.style.ERROR
        write(style(str(route.verdict)))
