"""The HTTP API (``/api/v1``): Flask + flask-smorest + marshmallow, served by gunicorn.

It only ever inserts batches, queued runs, cancel requests and idempotency
records, and reads everything else. It never executes a run and never
changes a run's status: that is the worker's job alone.
"""
__version__ = "0.1.0"
API_VERSION = "v1"
