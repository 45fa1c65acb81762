"""The product catalogue and presets (named, ordered sets of products).

Names are unique as a chemist compares them — :func:`core.catalogue_names.name_key`
(Unicode NFKC, case folding, invisible characters and white space ignored) is
stored in ``name_norm`` under a unique index; this module checks it first and
turns a violation (two writers racing) into the same ``Conflict`` naming the
product that has the name. Names are stored in their display form
(:func:`core.catalogue_names.display_name`). Nothing is ever
deleted: a product or preset is archived (``status``) and stays readable
where it was used. A preset may name only existing, active products, each
once.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from core.catalogue_names import display_name, name_key
from core.errors import Conflict, NotFound, ValidationFailed
from store.cursor import decode_cursor, page, where
from store.db import INTEGRITY_ERRORS, write_transaction
from store.ids import new_id
from store.records import Preset, Product

SCHEMA_VERSION = 1
# The standard preset (SPEC section 10): common CO2-reduction products.
STANDARD_PRESET = "CO2 reduction products"
STANDARD_PRODUCTS = ("CO", "CH4", "C2H4", "C2H6", "H2", "HCOOH", "CH3OH", "C2H5OH")


def _product_named(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM products WHERE name_norm = ?", (name_key(name),)).fetchone()


def _checked_name(name: str) -> str:
    shown = display_name(name)
    if not shown:
        raise ValidationFailed("the name is blank once invisible characters and spaces are removed",
                               {"fields": {"name": ["must not be blank"]}})
    return shown


def _name_taken(conn: sqlite3.Connection, table: str, key: str, name: str, own_id: str | None) -> None:
    row = conn.execute(f"SELECT {key}, name FROM {table} WHERE name_norm = ?",
                       (name_key(name),)).fetchone()
    if row is not None and row[key] != own_id:
        raise Conflict(f"the name {display_name(name)!r} is taken by {row['name']!r} (names are "
                       "compared without case, width, invisible characters or extra spaces)",
                       {"name": display_name(name), key: row[key]})


@contextlib.contextmanager
def _unique_name(table: str, key: str, name: str) -> Iterator[None]:
    """A unique violation on the name (a concurrent writer took it first) is a 409, not a 500."""
    try:
        yield
    except INTEGRITY_ERRORS as error:
        if "name_norm" not in str(error):
            raise
        raise Conflict(f"the name {display_name(name)!r} is taken (names are compared without case)",
                       {"name": display_name(name)}) from error


def _page_in_order_added(conn: sqlite3.Connection, table: str, *, status: str | None, limit: int,
                         cursor: str | None) -> tuple[list[sqlite3.Row], str | None, bool]:
    """One page of ``table`` (products or presets), oldest first; the cursor is bound to the table."""
    clause, params = where([("seq > ?", decode_cursor(table, cursor) if cursor else None),
                            ("status = ?", status)])
    rows = conn.execute(f"SELECT * FROM {table} {clause} ORDER BY seq LIMIT ?",
                        (*params, limit + 1)).fetchall()
    return page(rows, limit, table, lambda row: row["seq"])


def product_problems(conn: sqlite3.Connection, product_ids: list[str],
                     field: Callable[[int], str]) -> dict[str, list[str]]:
    """What makes this list of products unusable, by field name: unknown, archived, repeated.

    Presets and feedback both may name only existing, active products, each
    once; ``field(i)`` names the i-th entry the way the request spelled it.
    """
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, product_id in enumerate(product_ids):
        row = conn.execute("SELECT status FROM products WHERE product_id = ?", (product_id,)).fetchone()
        if row is None:
            problems[field(index)] = [f"no product {product_id!r}"]
        elif row["status"] != "active":
            problems[field(index)] = [f"product {product_id!r} is archived; choose an active one or restore it"]
        elif product_id in seen:
            problems[field(index)] = [f"product {product_id!r} is given twice"]
        seen.add(product_id)
    return problems


def get_product(conn: sqlite3.Connection, product_id: str) -> Product:
    row = conn.execute("SELECT * FROM products WHERE product_id = ?", (product_id,)).fetchone()
    if row is None:
        raise NotFound(f"product {product_id!r} does not exist", {"product_id": product_id})
    return Product.from_row(row)


def list_products(conn: sqlite3.Connection, *, status: str | None, limit: int,
                  cursor: str | None) -> tuple[list[Product], str | None, bool]:
    """In the order they were added."""
    rows, next_cursor, has_more = _page_in_order_added(conn, "products", status=status, limit=limit,
                                                       cursor=cursor)
    return [Product.from_row(row) for row in rows], next_cursor, has_more


def insert_product(conn: sqlite3.Connection, *, name: str, status: str, extra: dict[str, Any],
                   now: float) -> Product:
    """Caller holds the write transaction."""
    shown = _checked_name(name)
    _name_taken(conn, "products", "product_id", name, None)
    product_id = new_id("product")
    with _unique_name("products", "product_id", name):
        conn.execute("INSERT INTO products (product_id, name, name_norm, status, created_at, updated_at,"
                     " schema_version, extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (product_id, shown, name_key(name), status, now, now, SCHEMA_VERSION,
                      json.dumps(extra)))
    return get_product(conn, product_id)


def create_product(conn: sqlite3.Connection, **fields: Any) -> Product:
    with write_transaction(conn):
        return insert_product(conn, **fields)


def update_product(conn: sqlite3.Connection, product_id: str, *, name: str | None,
                   status: str | None, extra: dict[str, Any] | None, now: float) -> Product:
    """Rename, archive or restore; fields left None are kept."""
    with write_transaction(conn):
        _update_entry(conn, "products", "product_id", get_product(conn, product_id),
                      name=name, status=status, extra=extra, now=now)
        return get_product(conn, product_id)


def _update_entry(conn: sqlite3.Connection, table: str, key: str, current: Product | Preset, *,
                  name: str | None, status: str | None, extra: dict[str, Any] | None,
                  now: float) -> None:
    """Rename (if the name is free), archive or restore a product or preset; None keeps a field."""
    entry_id = getattr(current, key)
    if name is not None:
        _checked_name(name)
        _name_taken(conn, table, key, name, entry_id)
    new_name = display_name(name) if name is not None else current.name
    with _unique_name(table, key, new_name):
        conn.execute(f"UPDATE {table} SET name = ?, name_norm = COALESCE(?, name_norm), status = ?,"
                     f" extra_json = ?, updated_at = ? WHERE {key} = ?",
                     (new_name, name_key(new_name) if name is not None else None,
                      status or current.status,
                      json.dumps(current.extra if extra is None else extra), now, entry_id))


def _preset(conn: sqlite3.Connection, row: sqlite3.Row) -> Preset:
    products = [Product.from_row(r) for r in conn.execute(
        "SELECT p.* FROM preset_products pp JOIN products p ON p.product_id = pp.product_id"
        " WHERE pp.preset_id = ? ORDER BY pp.position", (row["preset_id"],))]
    return Preset(preset_id=row["preset_id"], name=row["name"], status=row["status"],
                  products=products, created_at=row["created_at"], updated_at=row["updated_at"],
                  schema_version=row["schema_version"], extra=json.loads(row["extra_json"]))


def get_preset(conn: sqlite3.Connection, preset_id: str) -> Preset:
    row = conn.execute("SELECT * FROM product_presets WHERE preset_id = ?", (preset_id,)).fetchone()
    if row is None:
        raise NotFound(f"preset {preset_id!r} does not exist", {"preset_id": preset_id})
    return _preset(conn, row)


def list_presets(conn: sqlite3.Connection, *, status: str | None, limit: int,
                 cursor: str | None) -> tuple[list[Preset], str | None, bool]:
    rows, next_cursor, has_more = _page_in_order_added(conn, "product_presets", status=status,
                                                       limit=limit, cursor=cursor)
    return [_preset(conn, row) for row in rows], next_cursor, has_more


def _set_members(conn: sqlite3.Connection, preset_id: str, product_ids: list[str]) -> None:
    problems = product_problems(conn, product_ids, lambda index: f"product_ids[{index}]")
    if problems:
        raise ValidationFailed("the preset's products are not acceptable", {"fields": problems})
    conn.execute("DELETE FROM preset_products WHERE preset_id = ?", (preset_id,))
    conn.executemany("INSERT INTO preset_products (preset_id, position, product_id) VALUES (?, ?, ?)",
                     [(preset_id, i, product_id) for i, product_id in enumerate(product_ids)])


def insert_preset(conn: sqlite3.Connection, *, name: str, product_ids: list[str], status: str,
                  extra: dict[str, Any], now: float) -> Preset:
    """Caller holds the write transaction."""
    shown = _checked_name(name)
    _name_taken(conn, "product_presets", "preset_id", name, None)
    preset_id = new_id("preset")
    with _unique_name("product_presets", "preset_id", name):
        conn.execute("INSERT INTO product_presets (preset_id, name, name_norm, status, created_at,"
                     " updated_at, schema_version, extra_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (preset_id, shown, name_key(name), status, now, now, SCHEMA_VERSION,
                      json.dumps(extra)))
    _set_members(conn, preset_id, product_ids)
    return get_preset(conn, preset_id)


def create_preset(conn: sqlite3.Connection, **fields: Any) -> Preset:
    with write_transaction(conn):
        return insert_preset(conn, **fields)


def update_preset(conn: sqlite3.Connection, preset_id: str, *, name: str | None,
                  product_ids: list[str] | None, status: str | None,
                  extra: dict[str, Any] | None, now: float) -> Preset:
    with write_transaction(conn):
        _update_entry(conn, "product_presets", "preset_id", get_preset(conn, preset_id),
                      name=name, status=status, extra=extra, now=now)
        if product_ids is not None:
            _set_members(conn, preset_id, product_ids)
        return get_preset(conn, preset_id)


def add_standard_preset(conn: sqlite3.Connection, now: float) -> tuple[Preset, list[str]]:
    """The standard CO2-reduction preset, creating what is missing; (preset, names added).

    Asked for explicitly (a button, a command), never at start-up. Existing
    products are reused by name (an archived one is restored); an existing
    preset of that name is returned unchanged.
    """
    with write_transaction(conn):
        added, ids = [], []
        for name in STANDARD_PRODUCTS:
            row = _product_named(conn, name)
            if row is None:
                ids.append(insert_product(conn, name=name, status="active", extra={}, now=now).product_id)
                added.append(name)
                continue
            if row["status"] != "active":
                conn.execute("UPDATE products SET status = 'active', updated_at = ? WHERE product_id = ?",
                             (now, row["product_id"]))
            ids.append(row["product_id"])
        existing = conn.execute("SELECT * FROM product_presets WHERE name_norm = ?",
                                (name_key(STANDARD_PRESET),)).fetchone()
        if existing is not None:
            return _preset(conn, existing), added
        return insert_preset(conn, name=STANDARD_PRESET, product_ids=ids, status="active",
                             extra={"standard": True}, now=now), added


def products_by_name(conn: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    """Every product by its name key: (product_id, display name, status). A CSV import names its
    product columns as a chemist writes them, so they are resolved the way names are compared."""
    return {row["name_norm"]: (row["product_id"], row["name"], row["status"])
            for row in conn.execute("SELECT product_id, name, name_norm, status FROM products")}
