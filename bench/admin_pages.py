"""Admin pages at scale (issue 13, point 3): time and queries of every gateway changelist.

    DATABASE_URL=mysql://root@127.0.0.1:3306/askpro_scaled GATEWAY_APP_KEY=... \\
        .venv/bin/python bench/admin_pages.py [--repeat 3] [--only calls,companies]

Logs in with Django's test client (as the superuser ``bench-admin``, created in the console's
own user table if missing: nothing is written to a gateway table) against the database of the
environment and prints, per page, the time (min / median of --repeat runs, after one warm-up
run) and the number of queries: for each gateway changelist its first page, a search (a word
of the first row's first search column; for calls also a phone number) and a filter (the
first row's company, and the fixed-value filters), one change page per model (the
company with the most branches for companies), and its add page (plain, and for a company as
the company page's links open it) where it has one.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askpro_console.settings")


def pages(models):
    """(model, label, url) of every page measured."""
    from django.contrib import admin
    from django.db.models import Count
    from django.urls import reverse

    from integrations_app.models import Branch, Call, Company

    for model in models:
        opts = model._meta
        base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        model_admin = admin.site._registry[model]
        yield model, "first page", base
        first = model._default_manager.order_by(*model_admin.get_ordering(None) or ["-pk"]).first()
        if first is None:
            continue
        field = model_admin.search_fields[0].lstrip("^=@")
        value = first
        for part in field.split("__"):
            value = getattr(value, part, None) if value is not None else None
        if value:
            word = str(value).split()[0]
            yield model, f"search {word[:24]!r}", f"{base}?{urlencode({'q': word})}"
        for label, term in number_searches(model):
            yield model, f"search {label} {term[:24]!r}", f"{base}?{urlencode({'q': term})}"
        if model is Call:
            number = (
                Call.objects.filter(from_number__startswith="+49")
                .order_by("-start_timestamp")
                .values_list("from_number", flat=True)
                .first()
            )
            if number:
                local = "0" + number[3:]  # the same number as typed in Germany
                yield model, f"search {local!r}", f"{base}?{urlencode({'q': local})}"
        company_id = getattr(first, "company_id", None)
        if company_id is not None:
            yield (
                model,
                "filter company",
                f"{base}?{urlencode({'company__id__exact': company_id})}",
            )
            yield model, "company search box", f"{base}?{urlencode({'company_q': 'Mü'})}"
        for spec in model_admin.list_filter:
            name = spec[0] if isinstance(spec, tuple) else spec
            if name in ("direction", "status", "is_active", "provider", "type"):
                current = getattr(first, name)
                value = int(current) if isinstance(current, bool) else current
                yield model, f"filter {name}", f"{base}?{urlencode({name: value})}"
                break
        if model is Company:
            obj_pk = (
                Branch.objects.values("company_id")
                .annotate(n=Count("pk"))
                .order_by("-n")
                .values_list("company_id", flat=True)
                .first()
            )
        else:
            obj_pk = first.pk
        yield (
            model,
            "change page",
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj_pk]),
        )
        if may_add(model_admin):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            yield model, "add page", add
            if company_id is not None:  # as the company page's links open it
                yield model, "add page for a company", f"{add}?{urlencode({'company': company_id})}"


def may_add(model_admin) -> bool:
    """Whether the admin has an add page at all (for a superuser)."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model()(is_staff=True, is_superuser=True, is_active=True)
    return model_admin.has_add_permission(request)


def number_searches(model):
    """(label, term) of the searches of issue 12, point 4: a number of the first German row
    as dialled in Germany, its last 7 digits, its branch's name; a company by that number and
    by a Retell agent id (admin/number_search.py)."""
    from integrations_app.models import Company, PhoneNumber

    if model not in (Company, PhoneNumber):
        return
    row = (
        PhoneNumber.objects.filter(number_normalized__startswith="+49", branch__isnull=False)
        .order_by("number")
        .select_related("branch")
        .first()
    )
    if row is not None:
        national = "0" + row.number_normalized[3:]
        yield "number as dialled", f"{national[:4]} {national[4:]}"
        yield "number's end", row.number_normalized[-7:]
        if model is PhoneNumber:
            yield "branch name", row.branch.name
    agent = Company.objects.exclude(retell_agent_id=None).values_list("retell_agent_id").first()
    if model is Company and agent:
        yield "agent id", agent[0]


def signed_in_client():
    """Django's test client signed in as the superuser ``bench-admin`` (created if missing, in
    the console's own user table)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _created = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def measure_url(client, url: str, repeat: int) -> tuple[list[float], int, int]:
    """(seconds of each of ``repeat`` GETs after one warm-up GET, queries, status)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries, status = [], 0, None
    for run in range(repeat + 1):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            elapsed = time.perf_counter() - started
        status = response.status_code
        queries = len(captured)
        if run:  # the first run warms caches
            times.append(elapsed)
    return times, queries, status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="db tables, comma separated")
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.db import connection

    from integrations_app.models import GATEWAY_MODELS

    client = signed_in_client()
    only = {t for t in args.only.split(",") if t}
    models = [m for m in GATEWAY_MODELS if not only or m._meta.db_table in only]
    print(f"database {connection.settings_dict['NAME']} ({connection.vendor})")
    print("| table | page | min ms | median ms | queries | status |")
    print("|---|---|---:|---:|---:|---|")
    for model, label, url in pages(models):
        seconds, queries, status = measure_url(client, url, args.repeat)
        times = [s * 1000 for s in seconds]
        print(
            f"| {model._meta.db_table} | {label} | {min(times):.0f} | "
            f"{statistics.median(times):.0f} | {queries} | {status} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
