"""The web interface in a real browser (Debian's Chromium) against the real service.

gunicorn and the worker run as separate processes on a free port; dry runs
take 0.4 s per step (``C2XC_DRY_RUN_STEP_DELAY_S``, a test-only setting) so
a run can be watched and canceled while it runs. Nothing is mocked: every
click goes through the page's script to the JSON API.
"""
import subprocess
import sys

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser import (
    browser_or_skip,
    refusal,
    screenshot,
    severe_console_messages,
    start_chrome,
    use_preferences,
    wait_for,
)
from tests.processes import running_service

pytestmark = pytest.mark.browser
XSS = '<img src=x onerror="window.__xss = 1"> and <script>window.__xss = 2</script>'


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    browser_or_skip()
    with running_service(tmp_path_factory.mktemp("ui"), {"C2XC_DRY_RUN_STEP_DELAY_S": "0.4"}) as procs:
        procs.origin = procs.base_url.rsplit("/api/v1", 1)[0]
        yield procs


@pytest.fixture(scope="module")
def chrome(svc):
    driver = start_chrome()
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome, svc):
    use_preferences(chrome, svc.origin)
    chrome.set_window_size(1280, 900)
    return chrome


def text_of(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def finished_run(svc, recipes=2, request="Cu-Mo dual sites for ethylene") -> str:
    batch = svc.create_batch(recipes_per_run=recipes, user_request=request)
    svc.wait_batch_finished(batch["batch"]["batch_id"])
    return batch["runs"][0]["run_id"]


def card_text(driver, request, css):
    """Text of ``css`` in the batch card showing ``request`` (read in one step: cards are
    redrawn when their batch changes, so a found element may go stale)."""
    return driver.execute_script(
        "const card = [...document.querySelectorAll('.batch')]"
        "  .find(c => c.querySelector('.request-text').textContent === arguments[0]);"
        "return card ? card.querySelector(arguments[1]).textContent : '';", request, css)


def batches_named(svc, text):
    return [b for b in svc.get("/batches", params={"q": text, "limit": 200}).json()["items"]
            if b["user_request"] == text]


def test_a_dry_batch_from_the_form_reaches_completed_without_a_reload(browser, svc):
    browser.get(svc.origin + "/")
    browser.execute_script("window.__sameDocument = true")
    request = "Live update check: Cu-Zn pairs 铜锌"
    browser.find_element(By.ID, "user_request").send_keys(request)
    recipes = browser.find_element(By.ID, "recipes_per_run")
    recipes.clear()
    recipes.send_keys("2")
    button = browser.find_element(By.ID, "create-batch")
    browser.execute_script("arguments[0].click(); arguments[0].click();", button)  # a double click
    wait_for(browser, lambda d: "completed" in card_text(d, request, ".batch-head .badge"), timeout=30,
             message="the batch to complete on the page")

    assert browser.execute_script("return window.__sameDocument") is True  # no reload
    assert len(batches_named(svc, request)) == 1  # the double click created one batch
    screenshot(browser, "runs-light-en")


def test_the_form_works_from_the_keyboard_alone(browser, svc):
    browser.get(svc.origin + "/")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the skip link comes first
    assert browser.switch_to.active_element.text in ("Skip to content",)
    for _ in range(12):
        if browser.switch_to.active_element.get_attribute("id") == "user_request":
            break
        browser.switch_to.active_element.send_keys(Keys.TAB)
    field = browser.switch_to.active_element
    assert field.get_attribute("id") == "user_request"
    field.send_keys("Typed without a mouse")
    for _ in range(12):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("id") == "create-batch":
            break
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(browser, lambda d: batches_named(svc, "Typed without a mouse"), message="the batch")


def test_a_citation_chip_opens_its_evidence_with_source_and_text(browser, svc):
    run_id = finished_run(svc)
    browser.get(f"{svc.origin}/runs/{run_id}")
    chip = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".recipe .chip"),
                    message="citation chips")[0]
    alias = chip.text
    chip.click()
    dialog = browser.find_element(By.ID, "evidence-dialog")
    wait_for(browser, lambda d: "DRY RUN placeholder" in d.find_element(By.ID, "evidence-text").text,
             message="the chunk text")
    assert dialog.is_displayed() and alias in text_of(browser, "#evidence-title")
    facts = text_of(browser, "#evidence-facts")
    assert "dry-run-placeholder-kb_" in facts and ("Principles" in facts or "Modulation" in facts)
    expected = svc.get(f"/runs/{run_id}/evidence/{alias}").json()["content"]
    assert text_of(browser, "#evidence-text") == expected
    screenshot(browser, "run-evidence-light-en")
    browser.find_element(By.CSS_SELECTOR, "#evidence-dialog button[value=close]").click()
    assert not dialog.is_displayed()


def test_the_trace_filters_to_llm_calls_and_opens_a_payload(browser, svc):
    run_id = finished_run(svc)
    browser.get(f"{svc.origin}/runs/{run_id}#trace")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#trace-list .event"), message="events")
    browser.find_element(By.CSS_SELECTOR, ".preset[data-preset=llm]").click()
    wait_for(browser, lambda d: {e.get_attribute("data-event-type") for e in
                                 d.find_elements(By.CSS_SELECTOR, "#trace-list .event")}
             == {"llm_request", "llm_response"}, message="only LLM events")
    first = browser.find_element(By.CSS_SELECTOR, "#trace-list .event .event-toggle")
    first.click()
    payload = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#trace-list .event pre.json"),
                       message="the payload")
    assert '"placeholder": true' in payload.text
    assert first.get_attribute("aria-expanded") == "true"


def test_a_pruned_trace_says_so_and_the_recipes_stay(browser, svc):
    run_id = finished_run(svc)
    subprocess.run([sys.executable, "-m", "store.admin", "--db", svc.db_path, "prune",
                    "--older-than-days", "0.000001"], check=True, capture_output=True)  # ~0.1 s: this run
    browser.get(f"{svc.origin}/runs/{run_id}#trace")
    note = wait_for(browser, lambda d: d.find_element(By.ID, "trace-pruned").is_displayed()
                    and d.find_element(By.ID, "trace-pruned"), message="the retention note")
    assert "retention" in note.text
    assert browser.find_elements(By.CSS_SELECTOR, "#trace-list .event") == []
    screenshot(browser, "trace-pruned-light-en")
    browser.find_element(By.ID, "tab-output").click()
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".recipe")) == 2, message="the recipes")


def test_canceling_a_running_run_from_its_page(browser, svc):
    run_id = svc.create_batch(recipes_per_run=1)["runs"][0]["run_id"]
    browser.get(f"{svc.origin}/runs/{run_id}")
    wait_for(browser, lambda d: "running" in text_of(d, "#run-status"), message="the run to start")
    browser.find_element(By.ID, "cancel-run").click()
    wait_for(browser, lambda d: "canceled" in text_of(d, "#run-status"), message="the run to end canceled")
    assert svc.run(run_id)["status"] == "canceled"
    assert "The run was canceled" in text_of(browser, "#output-state")


def test_re_run_queues_the_same_parameters_and_opens_the_new_run(browser, svc):
    run_id = finished_run(svc, recipes=1, request="Re-run me")
    browser.get(f"{svc.origin}/runs/{run_id}")
    wait_for(browser, lambda d: d.find_element(By.ID, "rerun").is_displayed(), message="the re-run button")
    browser.find_element(By.ID, "rerun").click()
    wait_for(browser, lambda d: "/runs/" in d.current_url and run_id not in d.current_url,
             message="the new run's page")
    new_id = browser.current_url.rsplit("/", 1)[-1].split("#")[0]
    new_batch = svc.get(f"/batches/{svc.run(new_id)['batch_id']}").json()
    assert (new_batch["user_request"], new_batch["recipes_per_run"], new_batch["dry_run"]) == \
        ("Re-run me", 1, True)
    wait_for(browser, lambda d: "completed" in text_of(d, "#run-status"), timeout=30,
             message="the new run to complete")


def test_switching_to_chinese_and_back_is_remembered(browser, svc):
    browser.get(svc.origin + "/")
    browser.find_element(By.ID, "lang-toggle").click()
    wait_for(browser, lambda d: d.execute_script("return document.documentElement.lang") == "zh-CN",
             message="the Chinese page")
    assert "新建批次" in text_of(browser, "#new-batch-title")
    browser.get(svc.origin + "/system")  # remembered across pages
    assert "系统" in text_of(browser, "main h1")
    browser.find_element(By.ID, "lang-toggle").click()
    wait_for(browser, lambda d: d.execute_script("return document.documentElement.lang") == "en",
             message="the English page")
    assert "System" in text_of(browser, "main h1")


def test_markup_in_a_request_shows_as_text_and_runs_no_script(browser, svc):
    run_id = finished_run(svc, recipes=1, request=XSS)
    browser.get(svc.origin + "/")
    wait_for(browser, lambda d: card_text(d, XSS, ".request-text") == XSS, message="the batch")
    assert browser.execute_script("return document.querySelectorAll('.batch img, .batch script').length") == 0

    browser.get(f"{svc.origin}/runs/{run_id}")
    wait_for(browser, lambda d: XSS in text_of(d, "#run-request"), message="the request on the run page")
    assert browser.find_elements(By.CSS_SELECTOR, "#run-request img, #run-request script") == []
    assert browser.execute_script("return window.__xss") is None
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text


def test_a_normal_run_asks_first_then_lists_what_is_missing(browser, svc):
    browser.get(svc.origin + "/")
    browser.find_element(By.ID, "user_request").send_keys("A normal run without knowledge bases")
    browser.find_element(By.ID, "dry_run").click()  # off: this would call the LLM
    browser.find_element(By.ID, "create-batch").click()
    dialog = wait_for(browser, lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed()
                      and d.find_element(By.ID, "confirm-dialog"), message="the confirmation")
    assert "LLM" in dialog.text
    dialog.find_element(By.CSS_SELECTOR, "button[value=cancel]").click()
    assert not batches_named(svc, "A normal run without knowledge bases")  # nothing sent
    browser.find_element(By.ID, "create-batch").click()
    wait_for(browser, lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed(), message="dialog")
    browser.find_element(By.ID, "confirm-go").click()
    panel = wait_for(browser, lambda d: d.find_element(By.ID, "form-error").is_displayed()
                     and d.find_element(By.ID, "form-error"), message="the 503 panel")
    for name in ("LIGHTRAG_KB_PRINCIPLES_DIR", "LIGHTRAG_KB_MODULATION_DIR", "OPENAI_API_KEY"):
        assert name in panel.text
    assert not batches_named(svc, "A normal run without knowledge bases")
    screenshot(browser, "runs-preflight-light-en")


def test_with_the_network_cut_the_page_loads_every_asset_from_its_own_origin(svc):
    run_id = finished_run(svc)
    driver = start_chrome(offline=True)  # no host resolves but 127.0.0.1
    try:
        driver.get(f"{svc.origin}/runs/{run_id}")
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "img.structure"), message="recipes")
        wait_for(driver, lambda d: d.execute_script(
            "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"), message="images")
        origins = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
        assert origins and set(origins) == {svc.origin}
        assert driver.execute_script(
            "return getComputedStyle(document.querySelector('.card')).borderRadius") == "10px"
        assert severe_console_messages(driver) == []  # no failed load, no CSP violation
    finally:
        driver.quit()


@pytest.mark.parametrize("path", ["/", "/runs/{run}", "/runs/{run}#feedback", "/system", "/settings",
                                  "/compare?runs={run},{other}", "/memory"])
def test_every_page_fits_a_phone_screen(browser, svc, path):
    run_id = finished_run(svc, recipes=3)
    other = finished_run(svc, recipes=2) if "{other}" in path else None
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        browser.get(svc.origin + path.format(run=run_id, other=other))
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "main .card"), message="content")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 390 px wide"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


PAGES = {"runs": "/", "run": "/runs/{run}", "trace": "/runs/{run}#trace", "feedback": "/runs/{run}#feedback",
         "system": "/system", "settings": "/settings"}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_in_both_languages_and_themes(chrome, svc, lang, theme):
    run_id = finished_run(svc, recipes=3)
    use_preferences(chrome, svc.origin, lang=lang, theme=theme)
    severe_console_messages(chrome)  # drop what earlier tests logged (e.g. a 409 while running)
    for name, path in PAGES.items():
        chrome.set_window_size(1280, 900)
        chrome.get(svc.origin + path.format(run=run_id))
        wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "main .card, main .event"),
                 message=f"the {name} page")
        if name == "run":
            wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".recipe"), message="recipes")
        if name == "trace":  # the same page, another tab: opened by the address's fragment alone
            wait_for(chrome, lambda d: d.find_element(By.ID, "panel-trace").is_displayed()
                     and d.find_elements(By.CSS_SELECTOR, "#trace-list .event"), message="the trace tab")

        assert chrome.execute_script("return document.documentElement.lang") == \
            ("zh-CN" if lang == "zh" else "en")
        background = chrome.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(14, 19, 24)") == (theme == "dark")
        if name == "feedback":
            wait_for(chrome, lambda d: d.find_element(By.ID, "feedback-form").is_displayed(), message="the form")
        no_feedback_yet = refusal(f"/api/v1/runs/{run_id}/feedback", 404)
        assert severe_console_messages(chrome, (no_feedback_yet,)) == []
        screenshot(chrome, f"{name}-{theme}-{lang}")


@pytest.fixture(scope="module")
def agent_svc(llm, kbs, tmp_path_factory):
    """A service whose normal runs use the fake model and real knowledge bases."""
    from tests.agent_fixtures import agent_env

    browser_or_skip()
    env = agent_env(llm, kbs, C2XC_AGENT_MAX_STEPS="40", C2XC_AGENT_MAX_LLM_CALLS="40")
    with running_service(tmp_path_factory.mktemp("ui-agent"), env) as procs:
        procs.origin = procs.base_url.rsplit("/api/v1", 1)[0]
        yield procs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_reasoning_tab_shows_the_tree_and_recipes_link_to_their_nodes(chrome, agent_svc, llm, lang):
    from tests.agent_fixtures import finished, submit
    from tests.test_reasoning import PLANNING_MODEL

    run_id = submit(agent_svc, llm, PLANNING_MODEL, recipes_per_run=1)
    assert finished(agent_svc, run_id)["status"] == "completed"
    use_preferences(chrome, agent_svc.origin, lang=lang)
    chrome.get(f"{agent_svc.origin}/runs/{run_id}")
    link = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, ".recipe .node-link"),
                    message="the recipe's node links")
    assert [a.text for a in link][-1].endswith("(n3)")
    link[1].click()  # the TiO2 expert's node
    wait_for(chrome, lambda d: d.find_element(By.ID, "panel-reasoning").is_displayed(), message="the tab")
    node = chrome.find_element(By.ID, "node-n2")
    assert node.find_element(By.TAG_NAME, "summary") == chrome.switch_to.active_element
    assert ("TiO2 doping expert" if lang == "en" else "TiO2 掺杂专家") in node.text
    assert "Ag suppresses hydrogen evolution" in node.text
    root = chrome.find_element(By.ID, "node-n1")
    assert "The search found nothing; search with plain words." in root.text  # the revision
    assert ("Plan revised (version 2)" if lang == "en" else "修订后的计划（第 2 版）") in root.text
    node.find_element(By.CSS_SELECTOR, ".chip").click()  # the conclusion's citation
    wait_for(chrome, lambda d: "silver" in d.find_element(By.ID, "evidence-text").text.lower(),
             message="the evidence the expert cited")
    chrome.find_element(By.CSS_SELECTOR, "#evidence-dialog button[value=close]").click()
    summary = root.find_element(By.TAG_NAME, "summary")
    chrome.execute_script("arguments[0].focus()", summary)
    summary.send_keys(Keys.ENTER)  # collapsible, from the keyboard
    assert not root.find_element(By.CSS_SELECTOR, "details").get_attribute("open")
    summary.send_keys(Keys.ENTER)
    assert root.find_element(By.CSS_SELECTOR, "details").get_attribute("open")

    assert severe_console_messages(chrome) == []
    screenshot(chrome, f"reasoning-light-{lang}")


def _visible(driver, css):
    return [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_settings_add_rename_archive_products_and_build_an_ordered_preset(chrome, svc, lang):
    use_preferences(chrome, svc.origin, lang=lang)
    chrome.get(f"{svc.origin}/settings")
    offer = wait_for(chrome, lambda d: d.find_element(By.ID, "standard-offer"), message="the page")
    if offer.is_displayed():
        chrome.find_element(By.ID, "add-standard").click()
        wait_for(chrome, lambda d: not d.find_element(By.ID, "standard-offer").is_displayed(),
                 message="the standard preset")
    def names():  # the names as rendered from the server (not as typed), read in one step
        return chrome.execute_script(
            "return [...document.querySelectorAll('#product-table input')].map(i => i.defaultValue)")

    wait_for(chrome, lambda d: {"CO", "C2H4", "H2"} <= set(names()), message="the standard products")
    new = f"Acetate {lang}"
    field = chrome.find_element(By.ID, "new-product")
    field.send_keys(new, Keys.ENTER)
    wait_for(chrome, lambda d: new in names(), message="the new product")
    field.send_keys(new.lower(), Keys.ENTER)  # the same name, other case: refused next to the field
    wait_for(chrome, lambda d: d.find_element(By.ID, "new-product-error").is_displayed(), message="error")
    product_id = next(p["product_id"] for p in svc.get("/products", params={"limit": 200}).json()["items"]
                      if p["name"] == new)
    row = f"#product-table tr[data-product-id='{product_id}']"
    assert chrome.find_element(By.CSS_SELECTOR, f"{row} .product-name").text == new  # shown as text
    name_input = chrome.find_element(By.CSS_SELECTOR, f"{row} input")
    assert not name_input.is_displayed()  # edited on demand
    chrome.find_element(By.CSS_SELECTOR, f"{row} button:nth-child(1)").click()  # rename: the box opens
    name_input.clear()
    name_input.send_keys(f"Renamed acetate {lang}")
    chrome.find_element(By.CSS_SELECTOR, f"{row} button:nth-child(1)").click()  # rename
    wait_for(chrome, lambda d: f"Renamed acetate {lang}" in names(), message="the rename")
    chrome.find_element(By.CSS_SELECTOR, f"{row} button:nth-child(2)").click()  # archive
    wait_for(chrome, lambda d: f"Renamed acetate {lang}" not in names(), message="archived: no longer listed")
    assert svc.get(f"/products/{product_id}").json()["status"] == "archived"

    chrome.find_element(By.ID, "new-preset").click()
    chrome.find_element(By.ID, "preset-name").send_keys(f"gas {lang}")
    add = chrome.find_element(By.ID, "preset-add")
    for name in ("CO", "H₂"):  # formulas read as formulas (a select holds text: Unicode subscripts)
        add.find_element(By.XPATH, f"./option[text()='{name}']").click()
        chrome.find_element(By.ID, "preset-add-button").click()
    chrome.find_elements(By.CSS_SELECTOR, "#preset-members .up")[1].click()  # H2 before CO
    assert [li.find_element(By.TAG_NAME, "span").text
            for li in chrome.find_elements(By.CSS_SELECTOR, "#preset-members li")] == ["H2", "CO"]
    chrome.find_element(By.ID, "preset-save").click()
    wait_for(chrome, lambda d: not d.find_element(By.ID, "preset-dialog").is_displayed(), message="saved")
    saved = next(p for p in svc.get("/product_presets").json()["items"] if p["name"] == f"gas {lang}")
    assert [p["name"] for p in saved["products"]] == ["H2", "CO"]
    assert severe_console_messages(chrome, (refusal("/api/v1/products", 409),)) == []

    screenshot(chrome, f"settings-light-{lang}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_feedback_from_a_preset_with_a_live_fraction_preview_and_errors_by_the_field(chrome, svc, lang):
    svc.post("/product_presets/standard")
    run_id = finished_run(svc, recipes=2, request=f"feedback {lang}")
    use_preferences(chrome, svc.origin, lang=lang)
    chrome.get(f"{svc.origin}/runs/{run_id}#feedback")
    wait_for(chrome, lambda d: d.find_element(By.ID, "feedback-form").is_displayed(), message="the feedback form")

    preset = chrome.find_element(By.ID, "fb-preset")
    preset.find_element(By.XPATH, "./option[text()='CO₂ reduction products']").click()
    chrome.find_element(By.ID, "fb-fill").click()
    rows = wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#fb-products tbody tr")) == 8
                    and d.find_elements(By.CSS_SELECTOR, "#fb-products tbody tr"), message="8 rows")
    for row in rows:
        row.find_element(By.CSS_SELECTOR, ".fb-value").send_keys("0")
    assert chrome.find_element(By.ID, "fb-zero-note").is_displayed()  # all amounts are 0
    amounts = {"CO": "1", "C₂H₄": "3"}
    for row in rows:
        product = row.find_element(By.CSS_SELECTOR, ".fb-product")
        name = product.find_element(By.CSS_SELECTOR, "option:checked").text
        if name in amounts:
            value = row.find_element(By.CSS_SELECTOR, ".fb-value")
            value.clear()
            value.send_keys(amounts[name])
    fractions = {r.find_element(By.CSS_SELECTOR, "option:checked").text:
                 r.find_element(By.CSS_SELECTOR, ".fb-fraction").text for r in rows}
    assert (fractions["CO"], fractions["C₂H₄"], fractions["H₂"]) == ("25.0 %", "75.0 %", "0.0 %")
    assert not chrome.find_element(By.ID, "fb-zero-note").is_displayed()
    chrome.find_element(By.ID, "fb-score").send_keys("12")  # out of range: refused next to the field
    chrome.find_element(By.ID, "fb-recipe_index").find_element(By.CSS_SELECTOR, "option[value='2']").click()
    chrome.find_element(By.ID, "fb-pros").send_keys("<b>selective</b> 选择性好")
    chrome.find_element(By.ID, "fb-save").click()
    wait_for(chrome, lambda d: d.find_element(By.ID, "fb-score-error").is_displayed(), message="score error")
    score = chrome.find_element(By.ID, "fb-score")
    score.clear()
    score.send_keys("8.5")
    rows[4].find_element(By.CSS_SELECTOR, ".fb-value").send_keys(Keys.BACKSPACE, "-2")  # a negative amount
    chrome.find_element(By.ID, "fb-save").click()
    wait_for(chrome, lambda d: rows[4].find_element(By.CSS_SELECTOR, ".row-error").is_displayed(),
             message="the row's error")
    value = rows[4].find_element(By.CSS_SELECTOR, ".fb-value")
    value.clear()
    value.send_keys("0")
    chrome.find_element(By.ID, "fb-save").click()
    wait_for(chrome, lambda d: d.find_element(By.ID, "fb-saved").text != "", message="saved")
    stored = svc.get(f"/runs/{run_id}/feedback").json()
    assert (stored["score"], stored["recipe_index"], stored["pros"]) == (8.5, 2, "<b>selective</b> 选择性好")
    assert {p["name"]: p["fraction"] for p in stored["products"]}["C2H4"] == 0.75
    chrome.refresh()  # what was saved comes back
    wait_for(chrome, lambda d: d.find_element(By.ID, "fb-score").get_attribute("value") == "8.5",
             message="the saved feedback")
    assert chrome.find_element(By.ID, "fb-pros").get_attribute("value") == "<b>selective</b> 选择性好"
    feedback = f"/api/v1/runs/{run_id}/feedback"  # 404 on the first visit: no feedback yet
    assert severe_console_messages(chrome, (refusal(feedback, 422), refusal(feedback, 404))) == []

    screenshot(chrome, f"feedback-filled-light-{lang}")


TOKEN = "lab-token-ui-3f8a1c5e9d"


@pytest.fixture(scope="module")
def guarded_svc(tmp_path_factory):
    browser_or_skip()
    with running_service(tmp_path_factory.mktemp("ui-token"), {"C2XC_API_TOKEN": TOKEN}) as procs:
        procs.origin = procs.base_url.rsplit("/api/v1", 1)[0]
        yield procs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_with_a_token_the_interface_asks_once_then_works_and_signs_out(chrome, guarded_svc, lang):
    origin = guarded_svc.origin
    chrome.delete_all_cookies()
    use_preferences(chrome, origin, lang=lang)
    chrome.get(f"{origin}/system")
    field = wait_for(chrome, lambda d: d.find_element(By.ID, "token"), message="the sign-in page")
    assert chrome.current_url.startswith(f"{origin}/login?next=/system")
    assert chrome.switch_to.active_element == field  # ready to type
    screenshot(chrome, f"login-light-{lang}")
    field.send_keys("not-the-token", Keys.ENTER)
    wait_for(chrome, lambda d: d.find_element(By.ID, "token-error").is_displayed(), message="the error")
    chrome.find_element(By.ID, "token").send_keys(TOKEN, Keys.ENTER)
    wait_for(chrome, lambda d: d.current_url == f"{origin}/system", message="back where it was going")
    session = chrome.get_cookie("c2xc_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict" and TOKEN not in session["value"]
    chrome.get(f"{origin}/")  # a change through the pages works with the session (and their header)
    request = f"Signed-in batch {lang}"
    wait_for(chrome, lambda d: d.find_element(By.ID, "user_request"), message="the form").send_keys(request)
    chrome.find_element(By.ID, "create-batch").click()
    wait_for(chrome, lambda d: request in d.find_element(By.ID, "batch-list").text, message="the new batch")
    chrome.find_element(By.ID, "sign-out").click()
    wait_for(chrome, lambda d: "/login" in d.current_url, message="signed out")
    assert chrome.get_cookie("c2xc_session") is None
    assert severe_console_messages(chrome, (refusal("/login", 401),)) == []
