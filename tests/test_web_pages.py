"""The web pages as HTTP: language, security headers, escaping, and complete translations."""
import re
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from api.web.strings import script_strings

WEB = Path(__file__).resolve().parents[1] / "api" / "web"
CATALOGUE = WEB / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def test_every_page_exists_and_carries_a_strict_content_security_policy(client):
    for path in ("/", "/runs/run_anything", "/system"):
        reply = client.get(path)
        assert reply.status_code == 200 and reply.mimetype == "text/html"
        policy = reply.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert reply.headers["X-Frame-Options"] == "DENY"
        html = reply.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))[^>]*>", html)
        assert " style=" not in html and "onclick=" not in html  # no inline style or handlers


def test_the_language_comes_from_the_cookie_then_accept_language(client):
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh and "新建批次" in zh
    client.set_cookie("c2xc_lang", "en")
    assert "New batch" in client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def test_data_given_to_the_script_cannot_break_out_of_its_block(client):
    html = client.get("/runs/<!--<svg onload=alert(1)>").get_data(as_text=True)
    assert "<svg onload" not in html and "<!--" not in html
    assert "\\u003c!--\\u003csvg onload=alert(1)\\u003e" in html  # escaped inside the JSON block


def test_every_message_has_a_chinese_translation():
    with open(CATALOGUE, "rb") as handle:
        catalogue = read_po(handle)
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    assert untranslated == [], "translate these in messages.po (tools/update_translations.py)"
    assert not [m.id for m in catalogue if m.id and m.fuzzy]


def test_the_catalogue_holds_every_string_of_the_templates_and_scripts():
    with open(CATALOGUE, "rb") as handle:
        known = {m.id for m in read_po(handle) if m.id}
    from babel.messages.extract import extract_from_dir
    found = {message for _, _, message, *_ in extract_from_dir(
        str(WEB), method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        keywords={"_": None, "gettext": None, "_l": None})}
    assert found - known == set(), "run tools/update_translations.py and translate the new messages"


def test_the_compiled_catalogue_is_current():
    with open(CATALOGUE, "rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id}
    with open(CATALOGUE.with_suffix(".mo"), "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == source, "compile with: make translations"


def test_every_string_a_script_asks_for_exists():
    keys = set(script_strings())
    used = set()
    for script in (WEB / "static" / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\"([a-z_.]+)\"", text))
        for prefix in re.findall(r"\bt\(`([a-z_]+)\.\$\{", text):  # t(`status.${status}`)
            assert any(key.startswith(prefix + ".") for key in keys), prefix
    assert used - keys == set()
