"""gunicorn's settings for the console (README: production), read from the environment.

gunicorn loads this file from the working directory; `scripts/serve.sh` starts it there.
"""

import os
import sys


def _count(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or int(text) < 1:
        sys.exit(f"askpro-console: configuration error: {name}={text!r} is not a positive number")
    return int(text)


wsgi_app = "askpro_console.wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8000")
# Two per core is gunicorn's advice for sync workers; the console's pages wait on the database.
workers = _count("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# Long work runs in background workers (db_worker); a request that takes longer than this is
# killed and restarted rather than holding a worker.
timeout = _count("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# A fresh process now and then keeps memory from creeping over weeks.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
# Only the TLS proxy in front may say the request came over HTTPS (FORWARDED_ALLOW_IPS,
# gunicorn's own variable, names it; default: a proxy on this machine).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
