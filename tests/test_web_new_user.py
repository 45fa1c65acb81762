"""What a new user tripped over in the interface (issue 23), in a real browser against the real service."""
import pytest
from selenium.webdriver.common.by import By

from tests.browser import (browser_service, chrome_session, refusal, screenshot, severe_console_messages,
                           use_preferences, wait_for)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    with browser_service(tmp_path_factory.mktemp("ui-new-user"), {"C2XC_DRY_RUN_STEP_DELAY_S": "0.3"}) as procs:
        yield procs


@pytest.fixture(scope="module")
def chrome(svc):
    with chrome_session() as driver:
        yield driver


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_blank_request_gets_one_message_and_no_machine_code(chrome, svc, lang):
    use_preferences(chrome, svc.origin, lang=lang)
    chrome.get(svc.origin + "/")
    box = wait_for(chrome, lambda d: d.find_element(By.ID, "user_request"), message="the form")
    box.send_keys("   ")
    chrome.execute_script("document.getElementById('user_request').removeAttribute('required')")
    chrome.find_element(By.ID, "create-batch").click()
    error = wait_for(chrome, lambda d: d.find_element(By.ID, "user_request-error").is_displayed()
                     and d.find_element(By.ID, "user_request-error"), message="the field's message")
    assert error.text == ("must not be blank" if lang == "en" else "不能为空")
    banner = chrome.find_element(By.ID, "form-error").text
    assert "invalid_argument" not in banner
    assert banner == ("Please correct the fields marked below." if lang == "en" else "请更正下面标出的字段。")
    screenshot(chrome, f"runs-blank-request-light-{lang}")


def test_the_system_page_gives_preflight_hints_in_chinese(chrome, svc):
    use_preferences(chrome, svc.origin, lang="zh")
    severe_console_messages(chrome)  # drop what the previous test logged (its 422 on purpose)
    chrome.get(svc.origin + "/system")
    missing = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#missing-list li"), message="missing")
    text = "\n".join(item.text for item in missing)
    assert "environment variable is not set" not in text and "no LLM model" not in text
    assert "设置" in text or "指向" in text  # the hints, in Chinese
    assert severe_console_messages(chrome) == []
    screenshot(chrome, "system-light-zh")


def test_a_failed_runs_reasoning_does_not_say_done_or_point_to_recipes(chrome, svc):
    from api.reasoning import reasoning_tree
    from store.records import Event
    up = Event(event_id="e", run_id="r", created_at=2.0, event_type="recap_info", payload_bytes=0, seq=2,
               payload={"agent": "orchestrator", "role": "orchestrator", "state": "up", "depth": 0,
                        "node_id": "n1", "result": "{\"recipes\": []}"})
    down = Event(event_id="d", run_id="r", created_at=1.0, event_type="recap_info", payload_bytes=0, seq=1,
                 payload={"agent": "orchestrator", "role": "orchestrator", "state": "down", "depth": 0,
                          "node_id": "n1", "task": "Cu"})
    assert reasoning_tree([down, up], "failed", None)["nodes"][0]["status"] == "rejected"
    assert reasoning_tree([down, up], "completed", [])["nodes"][0]["status"] == "done"


def test_export_links_on_the_runs_page_and_on_a_finished_batch(chrome, svc):
    import requests
    batch = svc.create_batch(user_request="exported with its request 乙烯", recipes_per_run=2)
    svc.wait_batch_finished(batch["batch"]["batch_id"])
    use_preferences(chrome, svc.origin, lang="en")
    chrome.get(svc.origin + "/")
    links = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".export-links a"), message="export links")
    excel = requests.get(links[1].get_attribute("href"), timeout=10)
    assert excel.content.startswith(b"\xef\xbb\xbf") and "exported with its request 乙烯".encode() in excel.content
    card_link = wait_for(chrome, lambda d: [a for a in d.find_elements(By.CSS_SELECTOR, ".batch a.small")
                                            if batch["batch"]["batch_id"] in a.get_attribute("href")],
                         message="the batch's export link")[0]
    rows = requests.get(card_link.get_attribute("href"), timeout=10).content.decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 2  # the header and the batch's two recipes, nothing else


def test_a_batch_is_canceled_from_its_card_and_requests_are_searchable(chrome, svc):
    use_preferences(chrome, svc.origin, lang="en")
    chrome.get(svc.origin + "/")
    svc.create_batch(user_request="a needle in the runs list", n_runs=3)
    # cards are redrawn as their batch changes: find and press the button in one step
    press = ("const card = [...document.querySelectorAll('.batch')].find(c => c.textContent.includes("
             "'a needle in the runs list')); const b = card && card.querySelector('button.danger');"
             " if (b) { setTimeout(() => b.click(), 0); return true; } return false;")
    wait_for(chrome, lambda d: d.execute_script(press), message="the card's cancel button")
    wait_for(chrome, lambda d: d.switch_to.alert, message="the confirmation").accept()
    texts = "return [...document.querySelectorAll('.batch')].map(c => c.textContent);"
    wait_for(chrome, lambda d: any("needle" in c and "canceled" in c for c in d.execute_script(texts)),
             message="the batch canceled")
    chrome.find_element(By.ID, "search").send_keys("needle in")
    wait_for(chrome, lambda d: (found := d.execute_script(texts)) and all("needle in" in c for c in found),
             message="only the match")
    screenshot(chrome, "runs-search-light-en")


def test_every_page_says_when_no_worker_is_alive_and_a_failed_run_shows_its_traceback(chrome, svc):
    import time

    from core import trace
    from store import runs
    from store.db import Database
    from tests.store_helpers import queue_batch
    use_preferences(chrome, svc.origin, lang="zh")
    worker = svc.processes[1]
    svc.stop(worker)
    db = Database(svc.db_path)
    conn = db.connection()
    queue_batch(conn, 1, user_request="it will fail")
    run_id = runs.claim_next_run(conn, "worker_gone", time.time()).run_id
    runs.finish_run(conn, run_id=run_id, worker_id="worker_gone", now=time.time(), event=trace.RunFailed(
        error_code="internal_error", message="ZeroDivisionError: division by zero",
        details={"traceback": "Traceback (most recent call last):\n  File \"x.py\"\nZeroDivisionError"}))
    db.close()
    try:
        chrome.get(f"{svc.origin}/runs/{run_id}")
        banner = wait_for(chrome, lambda d: d.find_element(By.ID, "worker-banner").is_displayed()
                          and d.find_element(By.ID, "worker-banner"), message="the banner")
        assert "worker" in banner.text
        panel = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#run-error details"), message="traceback")[0]
        panel.find_element(By.TAG_NAME, "summary").click()
        assert "ZeroDivisionError" in panel.text
        link = chrome.find_element(By.CSS_SELECTOR, "#run-error a")
        assert "/events/evt_" in link.get_attribute("href")
        screenshot(chrome, "run-failed-light-zh")
    finally:
        svc.start_worker()
    chrome.get(svc.origin + "/system")
    wait_for(chrome, lambda d: not d.find_element(By.ID, "worker-banner").is_displayed()
             and "运行中" in d.find_element(By.ID, "worker-state").text, timeout=30, message="the worker back")


def test_formulas_read_like_chemistry_and_the_made_recipe_is_named(chrome, svc):
    use_preferences(chrome, svc.origin, lang="en")
    chrome.get(svc.origin + "/settings")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "main .card"), message="the page")
    plain = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import('/static/js/chem.js').then(m => done(m.chemPlain("
        "'C2H4 and CO2 on Zr6 with Cu2+ and (NH4)2SO4; M1, B3LYP, CO2RR, TiO2-based, 1:1, Cu(I) [C3][M2]')));")
    assert plain == "C₂H₄ and CO₂ on Zr₆ with Cu²⁺ and (NH₄)₂SO₄; M1, B3LYP, CO2RR, TiO₂-based, 1:1, Cu(I) [C3][M2]"
    rich = chrome.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import('/static/js/chem.js').then(m => { const p = document.createElement('p');"
        " p.append(...m.chemNodes('C2H4')); done(p.innerHTML); });")
    assert rich == "C<sub>2</sub>H<sub>4</sub>"

    batch = svc.create_batch(recipes_per_run=2, user_request="which one was made")
    svc.wait_batch_finished(batch["batch"]["batch_id"])
    run_id = batch["runs"][0]["run_id"]
    output = svc.get(f"/runs/{run_id}/output").json()["recipes_json"]["recipes"]
    chrome.get(f"{svc.origin}/runs/{run_id}#feedback")
    select = wait_for(chrome, lambda d: d.find_element(By.ID, "fb-recipe_index").is_displayed()
                      and d.find_element(By.ID, "fb-recipe_index"), message="the form")
    labels = [o.text for o in select.find_elements(By.TAG_NAME, "option")][1:]
    first = output[0]
    assert labels[0].startswith("Recipe #1") and first["M1"] in labels[0] and first["small_molecule_modifier"] in labels[0]


@pytest.mark.parametrize("lang, theme", [("en", "light"), ("zh", "dark")])
def test_two_runs_are_compared_side_by_side_with_the_labs_results(chrome, svc, lang, theme):
    import requests
    batch = svc.create_batch(n_runs=2, recipes_per_run=2, user_request="compare C2H4 on Zr6 recipes")
    svc.wait_batch_finished(batch["batch"]["batch_id"])
    first, second = (r["run_id"] for r in batch["runs"])
    product = svc.post("/products", json={"name": f"C2H4 {lang}"}).json()["product_id"]
    assert requests.put(f"{svc.base_url}/runs/{first}/feedback", timeout=10, json={
        "score": 8, "recipe_index": 2, "products": [{"product_id": product, "value": 3}]}).status_code == 200
    use_preferences(chrome, svc.origin, lang=lang, theme=theme)
    chrome.get(svc.origin + "/")
    chrome.execute_script("sessionStorage.removeItem('c2xc.compare')")
    severe_console_messages(chrome)  # drop what earlier tests logged
    chrome.get(svc.origin + "/")
    for run_id in (first, second):
        tick = ("const a = document.querySelector(`a[href='/runs/${arguments[0]}']`);"
                " const box = a && a.parentElement.querySelector('input[type=checkbox]');"
                " if (box && !box.checked) { box.click(); } return Boolean(box && box.checked);")
        wait_for(chrome, lambda d: d.execute_script(tick, run_id), message=f"the compare box of {run_id}")
    go = wait_for(chrome, lambda d: d.find_element(By.ID, "compare-go").get_attribute("aria-disabled") == "false"
                  and d.find_element(By.ID, "compare-go"), message="the compare button")
    go.click()
    columns = wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".compare-column")) == 2
                       and d.find_elements(By.CSS_SELECTOR, ".compare-column"), message="two columns")
    made = columns[0].find_elements(By.CSS_SELECTOR, ".compare-recipe.made")
    assert len(made) == 1 and made[0].text.startswith("#2")
    assert ("Lab score 8" if lang == "en" else "实验评分 8") in columns[0].text and "100 %" in columns[0].text
    assert len(columns[1].find_elements(By.CSS_SELECTOR, ".compare-recipe img.structure")) == 2
    plan = chrome.find_element(By.ID, "compare-plan")  # the selected runs go on to the planner
    assert plan.is_displayed() and plan.get_attribute("href").endswith(f"/plan?run_ids={first},{second}")
    no_feedback = refusal(f"/api/v1/runs/{second}/feedback", 404)  # the page asks; none is an answer
    assert severe_console_messages(chrome, (no_feedback,)) == []
    screenshot(chrome, f"compare-{theme}-{lang}")
