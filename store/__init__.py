"""The only package that speaks SQL.

Both processes (the API and the worker) reach the SQLite database through
these modules and nothing else. Each module owns one family of tables; the
connection setup and pragmas live in :mod:`store.db`, the schema history in
:mod:`store.migrations`.
"""
