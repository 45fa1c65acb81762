"""Product and preset names compared as a chemist would: Unicode spaces, width, case, invisibles.

Issue 23 item 1: a name differing only by a no-break space was a 500, and
"Äthylen"/"äthylen", "C2H4"/"Ｃ２Ｈ４" or a zero-width space made two products.
"""
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.catalogue_names import display_name, name_key

API = "/api/v1"
SPACES = ["\u00a0", "\u2002", "\u2003", "\u2009", "\u202f", "\u3000", "\u1680", " ", "\t"]
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u034f", "\u180e"]


@pytest.mark.parametrize("one, other", [
    ("C2H4", "C2H4\u00a0"), ("C2H4", "\u3000C2H4"), ("Äthylen", "äthylen"), ("C2H4", "Ｃ２Ｈ４"),
    ("C2H4", "C2\u200bH4"), ("Formic acid", "formic   acid"), ("Straße", "STRASSE"), ("CO", "ｃｏ"),
])
def test_names_a_chemist_reads_as_one_have_one_key(one, other):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize("one, other", [("CO", "CO2"), ("C2H4", "C2H6"), ("methanol", "ethanol")])
def test_different_products_keep_different_keys(one, other):
    assert name_key(one) != name_key(other)


def test_the_display_name_keeps_what_was_written_without_the_invisible_parts():
    assert display_name("  C2\u200bH4\u00a0 ") == "C2H4"
    assert display_name("formic\u3000  acid") == "formic acid"
    assert display_name("Äthylen") == "Äthylen"


def test_a_no_break_space_variant_is_409_not_500(client):
    first = client.post(f"{API}/products", json={"name": "C2H4"})
    assert first.status_code == 201
    for variant in ("C2H4\u00a0", "Ｃ２Ｈ４", "c2\u200bh4"):
        reply = client.post(f"{API}/products", json={"name": variant})
        assert reply.status_code == 409, (variant, reply.get_json())
        assert reply.get_json()["error"]["details"]["product_id"] == first.get_json()["product_id"]


def test_a_name_of_only_invisible_characters_is_blank(client):
    reply = client.post(f"{API}/products", json={"name": "\u200b\u00a0\u2060"})
    assert reply.status_code == 422 and "name" in reply.get_json()["error"]["details"]["fields"]


names = st.lists(st.sampled_from(["C2H4", "co", "Äthylen", "ＣＨ４", "formic acid", "H₂", "ß"]
                                 + SPACES + INVISIBLES), min_size=1, max_size=6).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=names, second=names, kind=st.sampled_from(["products", "product_presets"]))
def test_any_two_unicode_names_are_never_a_500_and_equal_keys_are_409(client, first, second, kind):
    def create(name):
        body = {"name": name} if kind == "products" else {"name": name, "product_ids": []}
        return client.post(f"{API}/{kind}", json=body)

    a, b = create(first), create(second)
    for reply in (a, b):
        assert reply.status_code in (201, 409, 422), reply.get_json()
    # a second name refused on its own (control characters such as a tab, too long) says nothing
    # about the comparison; every other one is a 409 exactly when the keys are equal
    if a.status_code == 201 and b.status_code != 422:
        assert (b.status_code == 409) == (name_key(first) == name_key(second)), (first, second)
    for reply in (a, b):  # leave the catalogue as it was for the next example
        if reply.status_code == 201:
            entry = reply.get_json()
            ident = entry.get("product_id") or entry.get("preset_id")
            client.put(f"{API}/{kind}/{ident}", json={"name": f"retired {ident}", "status": "archived"})


def test_the_migration_rekeys_existing_names_and_reports_collisions(tmp_path, caplog):
    from store.db import connect
    from store.migrations import MIGRATIONS, migrate

    path = str(tmp_path / "old.db")
    conn = connect(path)
    conn.execute("BEGIN")
    for migration in MIGRATIONS[:8]:  # a database as release 8 left it
        for statement in migration.STATEMENTS:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 8")
    for seq, (pid, name) in enumerate([("product_a", "C2H4"), ("product_b", "C2H4\u00a0"),
                                       ("product_c", "Ｃ２Ｈ４"), ("product_d", "CO")]):
        conn.execute("INSERT INTO products (seq, product_id, name, status, created_at, updated_at,"
                     " schema_version, extra_json) VALUES (?, ?, ?, 'active', 0, 0, 1, '{}')", (seq + 1, pid, name))
    conn.execute("COMMIT")

    with caplog.at_level("WARNING"):
        assert 9 in migrate(conn)
    keys = dict(conn.execute("SELECT product_id, name_norm FROM products").fetchall())
    assert keys["product_a"] == "c2h4" and keys["product_d"] == "co"
    assert keys["product_b"] == "c2h4 #product_b" and keys["product_c"] == "c2h4 #product_c"
    assert "product_b" in caplog.text and "product_c" in caplog.text
    with pytest.raises(sqlite3.IntegrityError):  # the key is required from now on
        conn.execute("INSERT INTO products (product_id, name, status, created_at, updated_at,"
                     " schema_version, extra_json) VALUES ('product_e', 'H2', 'active', 0, 0, 1, '{}')")
