"""`manage.py audit`: the readiness audit for people (text, markdown) and monitoring (json).

Exit status: 0 when nothing at or above --fail-on was found, 1 otherwise. A check that is not
available (e.g. the credential checks without GATEWAY_APP_KEY) is listed as such and counts as
failing when its own severity is at or above --fail-on: the audit cannot say it is fine.

`audit --fix CHECK_ID [--yes] [--reason TEXT]` applies the fix of one check through the same
service as the dashboard's button: the preview first, a confirmation ("yes"/"ja") unless --yes,
then the write, recorded as one operation of the change store with the reason.
"""

import argparse
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit_app import alerts, report, snapshots
from audit_app.fixes.base import Plan, fix_for_check
from audit_app.fixes.service import (
    FixError,
    NothingToDo,
    StalePlan,
    apply_fix,
    clean_reason,
    preview,
)
from audit_app.registry import Severity, audit_run, get_check, run_all
from audit_app.tasks import queue_snapshot
from integrations_app.labels import rows_changed, rows_created

CONFIRMATIONS = ("yes", "ja", "y", "j")
# Affected rows listed per check unless --rows says otherwise.
TEXT_ROWS = 5
JSON_ROWS = 200


def _row_limit(value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise argparse.ArgumentTypeError(
            _("“%(value)s” is not a number of rows (a whole number, 0 or more).") % {"value": value}
        )
    return int(text)


class Command(BaseCommand):
    @property
    def help(self):
        return _(
            "Audit the gateway database for what keeps the gateway from working: the review's "
            "measures and every registered check with its affected rows. Exits with status 1 "
            "when a check at or above --fail-on has findings (or cannot run). With --fix CHECK_ID "
            "it previews and applies that check's fix."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=("text", "json", "markdown"),
            default="text",
            help=_("output format"),
        )
        parser.add_argument(
            "--fail-on",
            choices=report.FAIL_ON,
            default="critical",
            help=_("exit with status 1 when a check at or above this severity has findings"),
        )
        parser.add_argument(
            "--rows",
            type=_row_limit,
            default=None,
            metavar="N",
            help=_(
                "affected rows listed per check (default: 5 in text and markdown, 200 in JSON; "
                "the JSON says per check how many it left out)"
            ),
        )
        parser.add_argument("--fix", metavar="CHECK_ID", help=_("apply the fix of this check"))
        parser.add_argument(
            "--yes", action="store_true", help=_("apply the fix without asking for confirmation")
        )
        parser.add_argument(
            "--record",
            action="store_true",
            help=_("also store this audit as a snapshot (for trends and alerts; for cron)"),
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help=_(
                "with --record: only queue the audit for a background worker (manage.py "
                "db_worker), e.g. from cron; nothing new is queued while one waits or runs"
            ),
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help=_(
                "with --record: mail the managers what got worse since the previous snapshot "
                "(new critical findings, measures below their threshold)"
            ),
        )
        parser.add_argument(
            "--reason",
            default="",
            metavar="TEXT",
            help=_("why the fix is applied, kept in the history (at most 255 characters)"),
        )

    def handle(self, *args, **options):
        if options["fix"]:
            return self.fix(
                options["fix"].strip(), confirmed=options["yes"], reason=options["reason"]
            )
        if options["notify"] and not options["record"]:
            raise CommandError(
                _("--notify needs --record: the alert compares the new snapshot with the previous.")
            )
        if options["enqueue"]:
            return self.enqueue(record=options["record"], notify=options["notify"])
        limit = options["rows"]
        if limit is None:
            limit = JSON_ROWS if options["format"] == "json" else TEXT_ROWS
        # Counts first, rows on demand: paged checks load only the rows listed. A snapshot keeps
        # every affected row's key, so --record loads them all.
        # One audit run: the checks, measures and row counts share their reads.
        with audit_run():
            outcomes = run_all(None if options["record"] else limit, count_all=True)
            document = report.build(outcomes, row_limit=limit)
            alerted = self.record(outcomes, notify=options["notify"]) if options["record"] else None
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            )
        elif options["format"] == "markdown":
            self.markdown(document, outcomes, limit)
        else:
            self.text(document, outcomes, limit)
        if alerted is not None:
            self.alerted(alerted, to=self.stderr if options["format"] == "json" else self.stdout)
        if report.failing(outcomes, options["fail_on"]):
            raise SystemExit(1)

    def enqueue(self, *, record: bool, notify: bool) -> None:
        if not record:
            raise CommandError(
                _("--enqueue needs --record: a worker stores the audit as a snapshot.")
            )
        job, queued = queue_snapshot(notify=notify)
        if queued:
            self.stdout.write(_("Audit snapshot queued (job %(id)s).") % {"id": job.pk})
        else:
            self.stdout.write(
                _("An audit snapshot is already waiting or running (job %(id)s): nothing queued.")
                % {"id": job.pk}
            )

    def record(self, outcomes, notify: bool = False) -> alerts.Result | None:
        """Store the snapshot and apply the retention; said on stderr (stdout may be JSON).

        With ``notify`` the alert compares it with the previous snapshot first: the retention
        may thin that one away."""
        snapshot = snapshots.record(outcomes=outcomes, source="command")
        alerted = alerts.notify(snapshot) if notify else None
        thinned = snapshots.thin()
        self.stderr.write(
            _("Snapshot %(id)s recorded; %(thinned)d older snapshots thinned out.")
            % {"id": snapshot.pk, "thinned": thinned}
        )
        return alerted

    def alerted(self, result: alerts.Result, to) -> None:
        """How many alert mails went out; every address that failed, and exit status 2."""
        for key in result.worse.unknown_thresholds:
            self.stderr.write(
                self.style.WARNING(
                    _("AUDIT_ALERT_THRESHOLDS names %(key)s, which is no measure.") % {"key": key}
                )
            )
        to.write(_("Alert mails sent: %(count)d.") % {"count": len(result.sent)})
        for address, error in result.failed.items():
            self.stderr.write(
                self.style.ERROR(
                    _("Alert mail to %(address)s not sent: %(error)s")
                    % {"address": address, "error": error}
                )
            )
        if result.failed:
            raise SystemExit(2)

    # -- text ------------------------------------------------------------------------------

    def text(self, document, outcomes, limit):
        self.stdout.write(
            _("Gateway readiness audit of %(database)s, %(time)s")
            % {"database": document["database"], "time": document["generated_at"]}
        )
        self.stdout.write("")
        self.stdout.write(_("Measures"))
        for key, measure in document["measures"].items():
            self.stdout.write(f"  {measure['label']:<28} {self.fraction(key, measure)}")
        self.stdout.write("")
        self.stdout.write(_("Rows in the business tables"))
        width = max(len(t) for t in document["row_counts"])
        for table, count in document["row_counts"].items():
            self.stdout.write(f"  {table:<{width}}  {count:>6}")
        self.stdout.write("")
        self.stdout.write(_("Checks"))
        for outcome in outcomes:
            check = outcome.check
            head = f"  {str(check.severity.label).upper():<9} {check.id:<12} {check.title}"
            if not outcome.available:
                line = _("%(head)s: not available (%(reason)s)") % {
                    "head": head,
                    "reason": outcome.unavailable_reason,
                }
                self.stdout.write(self.style.WARNING(line))
                continue
            if outcome.ok:
                self.stdout.write(self.style.SUCCESS(_("%(head)s: ok") % {"head": head}))
                continue
            line = _("%(head)s: %(count)d") % {"head": head, "count": outcome.count}
            if check.fix_id:
                line += "  " + _("[fix: %(fix)s]") % {"fix": check.fix_id}
            style = self.style.ERROR if check.severity == Severity.CRITICAL else self.style.WARNING
            self.stdout.write(style(line))
            for row in outcome.rows[:limit]:
                self.stdout.write(f"      - {row.label}: {row.detail}")
            if outcome.count > limit:
                self.stdout.write(
                    "      " + _("… and %(more)d more") % {"more": outcome.count - limit}
                )
        self.stdout.write("")
        self.stdout.write(self.summary(outcomes))

    def fraction(self, key, measure) -> str:
        if key == "staff_per_branch":
            average = measure["numerator"] / measure["denominator"] if measure["denominator"] else 0
            return _(
                "%(staff)d staff on %(branches)d branches: %(average)s per branch (%(percent)s %%)"
            ) % {
                "staff": measure["numerator"],
                "branches": measure["denominator"],
                "average": _decimal(average),
                "percent": _decimal(measure["percent"]),
            }
        return _("%(numerator)d of %(denominator)d (%(percent)s %%)") % {
            "numerator": measure["numerator"],
            "denominator": measure["denominator"],
            "percent": _decimal(measure["percent"]),
        }

    def summary(self, outcomes) -> str:
        return _(
            "%(checks)d checks: %(findings)d with findings, %(unavailable)d not available, "
            "%(ok)d ok."
        ) % {
            "checks": len(outcomes),
            "findings": sum(1 for o in outcomes if o.available and o.count),
            "unavailable": sum(1 for o in outcomes if not o.available),
            "ok": sum(1 for o in outcomes if o.ok),
        }

    # -- markdown --------------------------------------------------------------------------

    def markdown(self, document, outcomes, limit):
        write = self.stdout.write
        write(_("# Gateway readiness audit"))
        write("")
        write(
            _("Database `%(database)s`, %(time)s.")
            % {"database": document["database"], "time": document["generated_at"]}
        )
        write("")
        write(_("## Measures"))
        write("")
        _table(
            write,
            [(_("measure"), "---"), (_("value"), "---")],
            [
                (measure["label"], self.fraction(key, measure))
                for key, measure in document["measures"].items()
            ],
        )
        write("")
        write(_("## Rows in the business tables"))
        write("")
        _table(
            write,
            [(_("table"), "---"), (_("rows"), "---:")],
            [(f"`{table}`", count) for table, count in document["row_counts"].items()],
        )
        write("")
        write(_("## Checks"))
        write("")
        _table(
            write,
            [(_("severity"), "---"), (_("id"), "---"), (_("check"), "---"),
             (_("affected"), "---:"), (_("fix"), "---")],
            [
                (
                    outcome.check.severity.label,
                    outcome.check.id,
                    _md(outcome.check.title),
                    outcome.count if outcome.available else _("not available"),
                    f"`{outcome.check.fix_id}`" if outcome.check.fix_id else "",
                )
                for outcome in outcomes
            ],
        )  # fmt: skip
        for outcome in outcomes:
            if outcome.ok:
                continue
            check = outcome.check
            write("")
            write(f"### {check.id} {_md(check.title)}")
            write("")
            write(_md(check.explanation))
            write("")
            if check.detail:
                write(_("*Technical detail:* %(detail)s") % {"detail": _md(check.detail)})
                write("")
            if not outcome.available:
                write(_("Not available: %(reason)s") % {"reason": _md(outcome.unavailable_reason)})
                continue
            for row in outcome.rows[:limit]:
                write(f"- {_md(row.label)}: {_md(row.detail)}")
            if outcome.count > limit:
                write("- " + _("… and %(more)d more") % {"more": outcome.count - limit})
            write("")
            write(_("*Hint:* %(hint)s") % {"hint": _md(check.hint)})
        write("")
        write(self.summary(outcomes))

    # -- --fix -----------------------------------------------------------------------------

    def fix(self, check_id: str, confirmed: bool, reason: str = ""):
        if len(reason.strip()) > 255:
            raise CommandError(
                _("The reason is too long: at most %(max)d characters. Nothing was written.")
                % {"max": 255}
            )
        try:
            reason = clean_reason(reason)  # refused before asking when one is required
        except FixError as error:
            raise CommandError(error.message) from None
        check = get_check(check_id)
        if check is None:
            raise CommandError(_("There is no check %(id)s.") % {"id": check_id})
        fix = fix_for_check(check.id)
        if fix is None:
            raise CommandError(_("Check %(id)s has no fix.") % {"id": check.id})
        try:
            plan = preview(fix.id)
        except FixError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            _("Fix %(fix)s for %(check)s: %(title)s")
            % {"fix": fix.id, "check": check.id, "title": fix.title}
        )
        self.show_plan(plan)
        if plan.empty:
            self.stdout.write(_("Nothing to do: nothing was written."))
            return
        if not confirmed and not self.confirm(len(plan.writes)):
            raise CommandError(_("Not confirmed: nothing was written."))
        try:
            record = apply_fix(
                fix_id=fix.id, digest=plan.digest, user=None, source="command", reason=reason
            )
        except NothingToDo as error:
            self.stdout.write(error.message)
            return
        except StalePlan as stale:
            self.stdout.write(self.style.WARNING(stale.message))
            self.show_plan(stale.plan)
            raise CommandError(
                _("Nothing was written: run the command again to apply the new preview.")
            ) from None
        except FixError as error:
            raise CommandError(error.message) from None
        if getattr(record, "partial", ""):
            # Some of it happened (at a provider) and is recorded; the rest did not: exit 1.
            raise CommandError(record.partial)
        self.stdout.write(
            self.style.SUCCESS(
                _("Applied: %(created)s, %(changed)s (record %(id)s).")
                % {
                    "created": rows_created(record.created_count),
                    "changed": rows_changed(record.changed_count),
                    "id": record.pk,
                }
            )
        )

    def confirm(self, writes: int) -> bool:
        self.stdout.write(
            ngettext(
                "Write this %(count)d change? Type yes to apply: ",
                "Write these %(count)d changes? Type yes to apply: ",
                writes,
            )
            % {"count": writes},
            ending="",
        )
        self.stdout.flush()
        try:
            answer = input()
        except EOFError:
            answer = ""
        if not sys.stdin.isatty():
            self.stdout.write("")  # the answer was not echoed: end the prompt's line
        return answer.strip().lower() in CONFIRMATIONS

    def show_plan(self, plan: Plan) -> None:
        if plan.writes:
            self.stdout.write(_("Planned writes (%(count)d):") % {"count": len(plan.writes)})
        for write in plan.writes:
            action = {"create": _("create"), "update": _("update")}.get(write.action, write.action)
            target = write.pk if write.pk is not None else write.key
            self.stdout.write(f"  {action} {write.table} {target}: {write.description}")
            for column in [*write.after, *(c for c in write.before if c not in write.after)]:
                before = write.before.get(column, "—") if column in write.before else "—"
                after = write.after.get(column, "—")
                if write.action == "create":
                    self.stdout.write(f"      {column} = {_value(after)}")
                else:
                    self.stdout.write(f"      {column}: {_value(before)} → {_value(after)}")
        if plan.needs_person:
            self.stdout.write(
                _("Needs a person (%(count)d, not written):") % {"count": len(plan.needs_person)}
            )
            for row in plan.needs_person:
                self.stdout.write(f"  - {row.label}: {row.detail}")


def _value(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)
    return str(value)


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _decimal(value) -> str:
    """One decimal, written as the active language writes it (30,8 in German, 30.8 in English)."""
    return number_format(value, decimal_pos=1, use_l10n=True)


def _table(write, columns, rows) -> None:
    """A markdown table: ``columns`` as (heading, alignment such as "---:"), then the rows."""
    write("| " + " | ".join(heading for heading, _align in columns) + " |")
    write("|" + "|".join(align for _heading, align in columns) + "|")
    for row in rows:
        write("| " + " | ".join(str(cell) for cell in row) + " |")
