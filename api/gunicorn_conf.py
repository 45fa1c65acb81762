"""gunicorn settings: bind from C2XC_HOST and $PORT/C2XC_PORT, sync workers.

Sync workers suit this API: every request is a short SQLite read or write,
and each worker process opens its own connection after the fork. Values come
from :func:`core.settings.load_web_settings`, so a bad one stops gunicorn
with one clear line before it binds.
"""
import sys

from core.errors import ConfigError
from core.settings import load_web_settings

try:
    _web = load_web_settings()
except ConfigError as exc:
    print(f"c2xc-api: configuration error: {exc.message}", file=sys.stderr, flush=True)
    sys.exit(2)

bind = f"{_web.host}:{_web.port}"
workers = _web.workers
worker_class = "sync"
timeout = 30
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
# Never log request headers: Authorization or keys could be among them.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
