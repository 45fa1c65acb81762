"""The WSGI entry point for gunicorn (``api.wsgi:app``).

A configuration or database problem at start-up is printed as one clear line
and the worker exits with gunicorn's boot-error code, so the whole server
stops instead of restarting a broken worker forever.
"""
import sys

from api.app import create_app
from core.errors import ServiceError

try:
    app = create_app()
except ServiceError as exc:
    print(f"c2xc-api: cannot start: {exc.message}", file=sys.stderr, flush=True)
    sys.exit(3)  # gunicorn's WORKER_BOOT_ERROR: the arbiter halts
