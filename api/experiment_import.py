"""POST /experiments/import: a CSV file checked whole, then stored whole — or nothing stored.

The body is spooled to a temporary file (memory holds at most
``SPOOL_IN_MEMORY`` bytes of it), read once to check every row — each bad row
is reported with its line and reasons, all of them, so a chemist fixes the file
in one go — and, when every row is good and it is not a dry run, read again and
stored in one write transaction. The write lock is taken only for that second
pass, never while a slow client is still uploading.
"""
from __future__ import annotations

import contextlib
import io
import time
import shutil
import tempfile
from collections import Counter
from typing import IO, Any

from flask import request

from api.context import services
from api.experiment_csv import MAX_PROBLEMS_REPORTED, HeaderError, read_rows, same_recipe_as_run
from core.errors import InvalidArgument, ServiceError, ValidationFailed
from store import experiments
from store.products import products_by_name

SPOOL_IN_MEMORY = 1024 * 1024
COPY_CHUNK = 64 * 1024


def _spool_body() -> IO[bytes]:
    """The upload, as a rewound binary file: the raw body, or the multipart field ``file``."""
    request.max_content_length = services().api_settings.max_import_bytes
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidArgument("send the CSV as the form field 'file' (or as a text/csv body)",
                                  {"fields": {"file": ["missing"]}})
        shutil.copyfileobj(upload.stream, spooled, COPY_CHUNK)
    else:
        shutil.copyfileobj(request.stream, spooled, COPY_CHUNK)
    spooled.seek(0)
    return spooled


@contextlib.contextmanager
def _text(binary: IO[bytes]):
    """The file as UTF-8 text from its start (a BOM skipped); the file stays open for the next pass."""
    binary.seek(0)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="", errors="strict")
    try:
        yield text
    finally:
        text.detach()


def _check_run_source(conn, result) -> None:
    """A row naming run_id + rank: the run must have that recipe, and a recipe written too must match."""
    new = result.experiment
    if new is None or new.source is None:
        return
    try:
        run_recipe = experiments.run_recipe(conn, *new.source)
    except ServiceError as error:
        result.problems.append(f"run_id/rank: {error.message}")
        return
    if not same_recipe_as_run(new.extra.get("recipe_as_written"), run_recipe):
        result.problems.append("the recipe columns name another recipe than run_id + rank")


def _check_all(conn, binary: IO[bytes], catalogue) -> dict[str, Any]:
    """Pass 1: every row checked, nothing stored. Raises ValidationFailed listing the bad rows."""
    bad: list[dict[str, Any]] = []
    bad_count, rows, by_status = 0, 0, Counter()
    try:
        with _text(binary) as text:
            header, results = read_rows(text, catalogue)
            for result in results:
                rows += 1
                _check_run_source(conn, result)
                if result.problems:
                    bad_count += 1
                    if len(bad) < MAX_PROBLEMS_REPORTED:
                        bad.append({"line": result.line, "problems": result.problems})
                else:
                    by_status[result.experiment.status] += 1
    except HeaderError as error:
        raise ValidationFailed(f"the file cannot be imported: {error}",
                               {"rows": [{"line": 1, "problems": str(error).split("; ")}],
                                "bad_rows": 1, "stored": 0}) from None
    except UnicodeDecodeError as error:
        raise ValidationFailed("the file is not UTF-8 text (save it as 'CSV UTF-8')",
                               {"rows": [], "bad_rows": 0, "stored": 0, "byte_offset": error.start}) from None
    if bad_count:
        raise ValidationFailed(f"{bad_count} of {rows} rows cannot be imported; nothing was stored",
                               {"rows": bad, "bad_rows": bad_count, "rows_total": rows, "stored": 0,
                                "rows_reported": len(bad)})
    if rows == 0:
        raise ValidationFailed("the file has a header but no rows", {"rows": [], "bad_rows": 0, "stored": 0})
    return {"rows": rows, "by_status": dict(by_status), "products": [name for _, _, name in header.products],
            "ignored_columns": header.ignored}


def import_csv(conn, *, dry_run: bool) -> dict[str, Any]:
    """Check every row; unless ``dry_run``, store them all in one transaction. The import's summary."""
    binary = _spool_body()
    try:
        catalogue = products_by_name(conn)
        summary = _check_all(conn, binary, catalogue)
        stored = 0
        if not dry_run:
            with _text(binary) as text:
                _, results = read_rows(text, catalogue)
                stored = experiments.insert_many(conn, (r.experiment for r in results), time.time())
        return {"dry_run": dry_run, "stored": stored, **summary}
    finally:
        binary.close()

