"""gunicorn settings: bind from C2XC_HOST and $PORT/C2XC_PORT, sync workers.

Sync workers suit this API: every request is a short SQLite read or write,
and each worker process opens its own connection after the fork.
"""
import os

_host = os.environ.get("C2XC_HOST", "127.0.0.1")
_port = os.environ.get("PORT") or os.environ.get("C2XC_PORT") or "8000"
bind = f"{_host}:{_port}"
workers = int(os.environ.get("C2XC_WEB_WORKERS", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
accesslog = "-"
errorlog = "-"
# Never log request headers: Authorization or keys could be among them.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
