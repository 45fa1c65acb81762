"""The lab memory in a real browser (Debian's Chromium) against the real service.

A normal run is made (fake model, real knowledge bases), the lab's feedback
is recorded, the worker learns, and a second run cites the lab result as
[M1]; then the pages are driven as a chemist would: the [M1] chip, the run's
Memory tab with its rollback preview, the Memory page (provenance, a note,
an undo), in English and Chinese, light and dark, and at phone width.
"""
import pytest
import requests
from selenium.webdriver.common.by import By

from tests.browser import browser_service, chrome_session, screenshot, severe_console_messages, use_preferences, wait_for
from tests.test_memory_e2e import HEEDS_THE_LAB, ONE, give_feedback, learned

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def svc(llm, kbs, tmp_path_factory):
    from tests.agent_fixtures import agent_env
    with browser_service(tmp_path_factory.mktemp("ui-memory"), agent_env(llm, kbs, C2XC_MEMORY_LESSONS="0")) as procs:
        yield procs


@pytest.fixture(scope="module")
def runs(svc, llm):
    """(the run the lab made, the run that cited the lab's result)."""
    from tests.agent_fixtures import finished, submit
    from tests.agent_script import RESEARCH
    first = submit(svc, llm, RESEARCH[:1] + [ONE], recipes_per_run=1)
    assert finished(svc, first)["status"] == "completed"
    give_feedback(svc, first, 1.5, H2=9, C2H4=1)
    assert learned(svc, first)["status"] == "completed"
    second = submit(svc, llm, RESEARCH[:1] + [HEEDS_THE_LAB], recipes_per_run=1,
                    request="Copper molybdenum TiO2 for ethylene")
    assert finished(svc, second)["status"] == "completed"
    return first, second


@pytest.fixture(scope="module")
def chrome(svc):
    with chrome_session() as driver:
        yield driver


def test_an_m_chip_opens_the_lab_result_it_cites(chrome, svc, runs):
    use_preferences(chrome, svc.origin, lang="en")
    chrome.set_window_size(1280, 900)
    chrome.get(f"{svc.origin}/runs/{runs[1]}")
    chip = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".recipe .chip.memory"), message="[M1]")[0]
    assert chip.text == "M1"
    chip.click()
    wait_for(chrome, lambda d: "Score 1.5/10" in d.find_element(By.ID, "evidence-text").text,
             message="the lab result's text")
    assert "Memory M1" in chrome.find_element(By.ID, "evidence-title").text
    screenshot(chrome, "memory-chip-light-en")
    chrome.find_element(By.CSS_SELECTOR, "#evidence-dialog button[value=close]").click()
    assert severe_console_messages(chrome) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_memory_tab_shows_what_was_learned_and_previews_a_rollback(chrome, svc, runs, lang):
    use_preferences(chrome, svc.origin, lang=lang)
    chrome.get(f"{svc.origin}/runs/{runs[0]}#memory")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#memory-deltas .delta"), message="the delta")
    job = chrome.find_element(By.CSS_SELECTOR, "#memory-jobs li[data-status=completed]")
    assert ("Learned" if lang == "en" else "已学习") in job.text
    delta = chrome.find_element(By.CSS_SELECTOR, "#memory-deltas .delta")
    assert ("Added" if lang == "en" else "新增") in delta.text and "Lab result" in delta.text
    delta.find_element(By.CSS_SELECTOR, "button.ghost").click()  # Roll back…
    preview = wait_for(chrome, lambda d: [p for p in d.find_elements(By.CSS_SELECTOR, ".delta .panel.note")
                                          if p.is_displayed()], message="the preview")[0]
    assert "Lab result" in preview.text and "mem_" not in preview.text  # named by its title, not its id
    assert "null" not in preview.text and "undefined" not in preview.text
    screenshot(chrome, f"run-memory-light-{lang}")
    chrome.get(f"{svc.origin}/runs/{runs[1]}#memory")
    shown = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#memory-shown tbody tr"), message="exposures")
    assert "M1" in shown[0].text and ("cited" if lang == "en" else "已引用") in shown[0].text
    assert severe_console_messages(chrome) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_memory_page_shows_provenance_in_both_languages_and_themes(chrome, svc, runs, lang, theme):
    use_preferences(chrome, svc.origin, lang=lang, theme=theme)
    chrome.set_window_size(1280, 900)
    chrome.get(f"{svc.origin}/memory")
    row = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".memory-row button.link"), message="memories")
    row[0].click()
    detail = wait_for(chrome, lambda d: [e for e in d.find_elements(By.ID, "memory-detail") if runs[1] in e.text],
                      message="the provenance naming the citing run")[0]
    assert runs[0] in detail.text
    assert severe_console_messages(chrome) == []
    screenshot(chrome, f"memory-{theme}-{lang}")


def test_a_note_added_on_the_page_can_be_undone_there(chrome, svc, runs):
    use_preferences(chrome, svc.origin, lang="en")
    chrome.get(f"{svc.origin}/memory")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".memory-row"), message="memories")
    chrome.find_element(By.ID, "note-title-input").send_keys("Avoid Pt <b>for cost</b>")
    chrome.find_element(By.ID, "note-content").send_keys("Platinum is too costly for scale-up.")
    chrome.find_element(By.CSS_SELECTOR, "#note-form button[type=submit]").click()
    heading = wait_for(chrome, lambda d: [h for h in d.find_elements(By.CSS_SELECTOR, "#memory-detail h3")
                                          if h.text == "Avoid Pt <b>for cost</b>"], message="the note")[0]
    assert heading.text == "Avoid Pt <b>for cost</b>"  # markup shows as text
    rollback = chrome.find_element(By.CSS_SELECTOR, "#memory-detail .delta button.ghost")
    chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", rollback)  # not under the top bar
    rollback.click()
    confirm = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#memory-detail .delta button.danger"),
                       message="the confirm button")[0]
    chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", confirm)
    confirm.click()
    wait_for(chrome, lambda d: "rolled back" in d.find_element(By.ID, "memory-detail").text, message="undone")
    notes = requests.get(f"{svc.base_url}/memories", params={"kind": "note", "status": "active"}, timeout=10).json()
    assert notes["items"] == []


def test_the_memory_page_fits_a_phone_screen(chrome, svc, runs):
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        for path in ("/memory", f"/runs/{runs[0]}#memory"):
            chrome.get(svc.origin + path)
            wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "main .card"), message="content")
            overflow = chrome.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 390 px wide"
    finally:
        chrome.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_memory_page_filters_says_what_matched_and_logs_every_change(chrome, svc, runs):
    """Issue 30 item 11: filters a chemist uses, a search that says what it covers, the change log,
    correcting on demand and archiving apart from it."""
    use_preferences(chrome, svc.origin, lang="en")
    chrome.set_window_size(1280, 900)
    chrome.get(f"{svc.origin}/memory")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".memory-row"), message="memories")
    metal = chrome.find_element(By.ID, "memory-metal")
    metal.send_keys("Zn")
    chrome.find_element(By.CSS_SELECTOR, "#memory-search button[type=submit]").click()
    wait_for(chrome, lambda d: d.find_element(By.ID, "memory-none-matched").is_displayed(), message="nothing matched")
    assert not chrome.find_element(By.ID, "memory-empty").is_displayed()
    metal.clear()
    metal.send_keys("Mo")
    chrome.find_element(By.CSS_SELECTOR, "#memory-search button[type=submit]").click()
    row = wait_for(chrome, lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, ".memory-row") if "Cu–Mo" in r.text],
                   message="the Cu–Mo result")[0]
    chrome.find_element(By.ID, "memory-q").send_keys("copper")
    assert not chrome.find_element(By.ID, "memory-status").is_enabled()  # a search covers active ones
    changes = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#change-log li.change"), message="the log")
    assert any("Learned from a lab result" in c.text for c in changes)
    changes[-1].find_element(By.CSS_SELECTOR, "button.link").click()
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#change-log .delta"), message="the change itself")
    row.find_element(By.CSS_SELECTOR, "button.link").click()
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#memory-detail h3"), message="the memory")
    assert not chrome.find_element(By.ID, "edit-title").is_displayed()  # correcting is on demand
    correct = [b for b in chrome.find_elements(By.CSS_SELECTOR, "#memory-detail .actions button")
               if b.text == "Correct this memory"][0]
    correct.click()
    assert chrome.find_element(By.ID, "edit-title").is_displayed()
    screenshot(chrome, "memory-filters-light-en")
    assert severe_console_messages(chrome) == []


def test_a_learn_job_updates_on_the_memory_tab_by_itself(chrome, svc, runs, llm):
    """Issue 30 item 11: queued, then learned, with no reload (the worker is stopped meanwhile)."""
    from tests.agent_fixtures import finished, submit
    from tests.agent_script import RESEARCH
    use_preferences(chrome, svc.origin, lang="en")
    run_id = submit(svc, llm, RESEARCH[:1] + [ONE], recipes_per_run=1)
    assert finished(svc, run_id)["status"] == "completed"
    worker = svc.processes[-1]
    svc.stop(worker)
    svc.processes.remove(worker)
    try:
        give_feedback(svc, run_id, 8, C2H4=3)
        chrome.get(f"{svc.origin}/runs/{run_id}#memory")
        wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#memory-jobs li[data-status=queued]"),
                 message="the queued job")
        assert "waiting for a worker" in chrome.find_element(By.ID, "memory-jobs").text
    finally:
        svc.start_worker()
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#memory-jobs li[data-status=completed]"),
             timeout=30, message="the job to show as learned without a reload")
    assert "finished" in chrome.find_element(By.ID, "memory-jobs").text
