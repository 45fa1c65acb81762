"""The System page as a new user meets it (issue 31): long setting names stay inside their cards, and
in Chinese nothing the page shows about unset folders is left in English."""
import pytest
from selenium.webdriver.common.by import By

from tests.browser import browser_service, chrome_session, screenshot, severe_console_messages, use_preferences, wait_for

pytestmark = pytest.mark.browser
LONG = "/srv/lab/knowledge-bases/photocatalysis/modulation_papers_2026_december_build"


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    env = {"LIGHTRAG_KB_MODULATION_DIR": LONG, "LIGHTRAG_KB_PRINCIPLES_DIR": "", "OPENAI_API_KEY": ""}
    with browser_service(tmp_path_factory.mktemp("ui-system"), env) as procs:
        yield procs


@pytest.fixture(scope="module")
def chrome(svc):
    with chrome_session() as driver:
        yield driver


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_nothing_overflows_its_card_and_chinese_says_not_configured_in_chinese(chrome, svc, lang):
    use_preferences(chrome, svc.origin, lang=lang)
    chrome.set_window_size(1280, 900)
    chrome.get(f"{svc.origin}/system")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#missing-list li"), message="the missing list")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#kb-table tbody tr"), message="the KB table")
    outside = chrome.execute_script("""
        return [...document.querySelectorAll('.card *')].filter((e) => {
          const card = e.closest('.card').getBoundingClientRect(), box = e.getBoundingClientRect();
          return box.width > 0 && box.right > card.right + 1 && !e.closest('.table-wrap');
        }).map((e) => e.tagName + ': ' + e.textContent.slice(0, 40));""")
    assert outside == [], outside
    page = chrome.find_element(By.TAG_NAME, "main").text
    if lang == "zh":
        assert "not configured" not in page
    screenshot(chrome, f"system-long-settings-light-{lang}")
    assert severe_console_messages(chrome) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_memory_of_another_embedder_is_a_warning_on_the_system_page(chrome, svc, lang):
    """Issue 30 item 5: never silent — the readiness list says what to run, in the reader's language."""
    import time

    from store.db import connect
    from store.memory_items import encode_vector, full_state, write_state
    from store.db import write_transaction
    conn = connect(svc.db_path)
    if not conn.execute("SELECT 1 FROM memory_items").fetchone():
        with write_transaction(conn):
            write_state(conn, "mem_from_an_older_model", full_state(
                {"kind": "note", "role": "global", "polarity": "neutral", "title": "Calibrate the GC",
                 "content": "Weekly.", "updated_at": time.time(), "embedder": "an-older-model@4"}),
                encode_vector([1.0, 0.0, 0.0, 0.0]), created_at=time.time())
    conn.close()
    use_preferences(chrome, svc.origin, lang=lang)
    chrome.get(f"{svc.origin}/system")
    warning = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#missing-list li[data-warning=memory]"),
                       message="the memory warning")[0]
    assert "c2xc-admin reembed-memories" in warning.text
    assert ("Vectors to rebuild" if lang == "en" else "待重建的向量") in warning.text
    chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", warning)
    screenshot(chrome, f"system-memory-stale-light-{lang}")
    assert severe_console_messages(chrome) == []
