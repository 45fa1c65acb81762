"""The Experiments page and "Make it" in a real browser (Debian's Chromium) against the real service.

A normal run (fake model, real knowledge bases) gives a recipe card; "Make it"
plans it; the Experiments page imports a lab notebook after showing its
row-by-row report (a bad file is refused line by line first), records the
planned experiment's result in the dialog, and plots the shares — in English
and Chinese, light and dark, and at phone width.
"""
import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser import (browser_service, chrome_session, refusal, screenshot, severe_console_messages,
                           use_preferences, wait_for)

pytestmark = pytest.mark.browser

NOTEBOOK = """M1,M2,atomic_ratio,modifier,modifier_smiles,status,score,notes,product:C2H4,product:H2
Cu,Mo,1:1,4-mercaptobenzoic acid,OC(=O)c1ccc(S)cc1,measured,6,first batch,3.0,1.0
Mo,Cu,1:1,,OC(=O)c1ccc(S)cc1,measured,,replicate,2.0,2.0
Ag,Zn,3:1,,OC(=O)C(F)(F)F,measured,,,0.5,4.5
Ni,Fe,2:1,,CC(O)=O,failed,,no precipitate,,
"""
BAD = "M1,M2,atomic_ratio,modifier_smiles\nCu,Cu,1:1,CC(O)=O\nCu,Mo,1:1,c1ccccc1\n"


@pytest.fixture(scope="module")
def svc(llm, kbs, tmp_path_factory):
    from tests.agent_fixtures import agent_env
    with browser_service(tmp_path_factory.mktemp("ui-experiments"), agent_env(llm, kbs)) as procs:
        for name in ("C2H4", "H2"):
            assert requests.post(f"{procs.base_url}/products", json={"name": name}, timeout=30).ok
        yield procs


@pytest.fixture(scope="module")
def run_id(svc, llm):
    from tests.agent_fixtures import finished, submit
    from tests.agent_script import ONE_RECIPE, RESEARCH
    made = submit(svc, llm, RESEARCH[:1] + [ONE_RECIPE], recipes_per_run=1)
    assert finished(svc, made)["status"] == "completed"
    return made


@pytest.fixture(scope="module")
def chrome(svc):
    with chrome_session() as driver:
        yield driver


# Each test drives one step of the story in the browser; the steps before it are made here through
# the API when they have not happened (a test run alone with -k), and are no-ops in the module's order.

def _made_it(svc, run_id) -> dict:
    """The run's recipe planned, as "Make it" does."""
    mine = requests.get(f"{svc.base_url}/experiments?run_id={run_id}", timeout=30).json()["items"]
    if mine:
        return mine[0]
    made = requests.post(f"{svc.base_url}/experiments", json={"run_id": run_id, "rank": 1, "status": "planned"},
                         timeout=30)
    assert made.status_code == 201, made.text
    return made.json()


def _notebook_imported(svc) -> None:
    everything = requests.get(f"{svc.base_url}/experiments?limit=100", timeout=30).json()["items"]
    if not any(e["notes"] == "first batch" for e in everything):
        stored = requests.post(f"{svc.base_url}/experiments/import", data=NOTEBOOK,
                               headers={"Content-Type": "text/csv"}, timeout=30)
        assert stored.status_code == 201, stored.text


def _result_recorded(svc, run_id) -> None:
    """Five lab results: the notebook's four and the planned recipe measured, as the dialog does."""
    _notebook_imported(svc)
    mine = _made_it(svc, run_id)
    if mine["status"] == "planned":
        c2h4 = next(p["product_id"] for p in requests.get(f"{svc.base_url}/products", timeout=30).json()["items"]
                    if p["name"] == "C2H4")
        patched = requests.patch(f"{svc.base_url}/experiments/{mine['experiment_id']}",
                                 headers={"If-Match": f'"{mine["version"]}"'}, timeout=30,
                                 json={"status": "measured", "products": [{"product_id": c2h4, "value": 1.5}]})
        assert patched.status_code == 200, patched.text


def _choose_file(chrome, path):
    chrome.find_element(By.ID, "import-file").send_keys(str(path))
    chrome.find_element(By.ID, "import-check").click()


def test_make_it_plans_a_recipe_and_the_card_says_so(chrome, svc, run_id):
    use_preferences(chrome, svc.origin, lang="en")
    chrome.set_window_size(1280, 900)
    chrome.get(f"{svc.origin}/runs/{run_id}")
    button = wait_for(chrome, lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, ".recipe .made button")
                                         if b.text == "Make it"], message="Make it")[0]
    assert "Not made yet." in chrome.find_element(By.CSS_SELECTOR, ".recipe .made").text
    button.click()
    wait_for(chrome, lambda d: "In the lab: 1 planned" in d.find_element(By.CSS_SELECTOR, ".recipe .made").text,
             message="the card to show the planned experiment")
    planned = requests.get(f"{svc.base_url}/experiments?run_id={run_id}", timeout=30).json()["items"]
    assert [(e["status"], e["source"]["rank"]) for e in planned] == [("planned", 1)]
    screenshot(chrome, "run-make-it-light-en")
    assert severe_console_messages(chrome) == []


def test_a_bad_notebook_is_reported_line_by_line_and_a_good_one_imported(chrome, svc, run_id, tmp_path):
    _made_it(svc, run_id)
    chrome.get(f"{svc.origin}/experiments")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#experiment-table tbody tr"), message="the list")
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    _choose_file(chrome, bad)
    report = wait_for(chrome, lambda d: d.find_element(By.ID, "import-report").text, message="the report")
    assert "2 of 2 rows cannot be imported" in report and "two different metals" in report
    lines = [td.text for td in chrome.find_elements(By.CSS_SELECTOR, "#import-report td.mono")]
    assert lines == ["2", "3"] and not chrome.find_element(By.ID, "import-go").is_displayed()
    good = tmp_path / "lab.csv"
    good.write_text(NOTEBOOK)
    _choose_file(chrome, good)
    wait_for(chrome, lambda d: "All 4 rows are good" in d.find_element(By.ID, "import-report").text,
             message="the dry run's report")
    assert len(requests.get(f"{svc.base_url}/experiments", timeout=30).json()["items"]) == 1  # nothing yet
    chrome.find_element(By.ID, "import-go").click()
    wait_for(chrome, lambda d: "4 experiments imported" in d.find_element(By.ID, "import-report").text,
             message="the import")
    wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#experiment-table tbody tr")) == 5,
             message="five rows")
    wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plot circle.dot")) == 3, message="3 dots")
    assert len(chrome.find_elements(By.CSS_SELECTOR, "#plot path.failed-mark")) == 1
    summary = chrome.find_element(By.ID, "plot-summary").get_attribute("textContent")
    assert "3 recipes measured" in summary and "Cu–Mo 1:1" in summary and "62.5 %" in summary
    assert chrome.find_element(By.CSS_SELECTOR, "#plot svg").get_attribute("aria-label")
    assert severe_console_messages(chrome, (refusal("/experiments/import?dry_run=true", 422),)) == []


def test_recording_the_planned_experiments_result_in_the_dialog(chrome, svc, run_id):
    _made_it(svc, run_id)
    _notebook_imported(svc)
    chrome.get(f"{svc.origin}/experiments?")
    row = wait_for(chrome, lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "#experiment-table tbody tr")
                                      if "planned" in r.text], message="the planned row")[0]
    [b for b in row.find_elements(By.TAG_NAME, "button") if b.text == "Record the result"][0].click()
    dialog = wait_for(chrome, lambda d: d.find_element(By.ID, "result-dialog").is_displayed()
                      and d.find_element(By.ID, "result-dialog"), message="the dialog")
    Select(dialog.find_element(By.CSS_SELECTOR, ".rp-product")).select_by_visible_text("C₂H₄")
    dialog.find_element(By.CSS_SELECTOR, ".rp-value").send_keys("1.5")
    dialog.find_element(By.ID, "result-notes").send_keys("300 W Xe, 4 h")
    screenshot(chrome, "experiment-dialog-light-en")
    dialog.find_element(By.ID, "result-save").click()
    wait_for(chrome, lambda d: not d.find_element(By.ID, "result-dialog").is_displayed(), message="saved")
    mine = requests.get(f"{svc.base_url}/experiments?run_id={run_id}", timeout=30).json()["items"][0]
    assert mine["status"] == "measured" and mine["products"][0]["fraction"] == 1.0 and mine["version"] == 2
    assert mine["notes"] == "300 W Xe, 4 h"
    wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plot circle.dot")) == 4, message="4 dots")
    screenshot(chrome, "experiments-light-en")
    assert severe_console_messages(chrome) == []


def test_the_recipe_card_shows_its_prediction_with_its_uncertainty(chrome, svc, run_id):
    _result_recorded(svc, run_id)
    chrome.set_window_size(1280, 900)
    chrome.get(f"{svc.origin}/runs/{run_id}")
    line = wait_for(chrome, lambda d: [p for p in d.find_elements(By.CSS_SELECTOR, ".recipe .prediction")
                                       if "±" in p.text], message="the prediction")[0]
    assert "80 % interval" in line.text and "from 5 lab results" in line.text
    assert line.find_elements(By.CSS_SELECTOR, "svg.interval-bar rect.range")
    screenshot(chrome, "run-prediction-light-en")
    assert severe_console_messages(chrome) == []


def test_the_calibration_plot_and_planning_from_the_experiments_page(chrome, svc, run_id):
    _result_recorded(svc, run_id)
    chrome.get(f"{svc.origin}/experiments")
    wait_for(chrome, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#calibration circle.dot, "
                                                                 "#calibration path.failed-mark")) == 5,
             message="the calibration plot: five results, the failed one as a cross")
    assert "results lie inside the 80 % interval" in chrome.find_element(By.ID, "calibration-summary").text
    chrome.get(f"{svc.origin}/plan?run_ids={run_id}")
    chrome.find_element(By.ID, "plan-explore").click()
    chrome.find_element(By.ID, "plan-size").clear()
    chrome.find_element(By.ID, "plan-size").send_keys("3")
    chrome.find_element(By.CSS_SELECTOR, "#plan-form button[type=submit]").click()
    items = wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#plan-items .plan-item"), message="a plan")
    assert len(items) == 3 and all("±" in item.text for item in items)
    assert "plan_id=" in chrome.current_url
    screenshot(chrome, "plan-light-en")
    items[2].find_element(By.CSS_SELECTOR, "input.plan-pick").click()  # keep two of three
    chrome.find_element(By.ID, "plan-accept").click()
    wait_for(chrome, lambda d: d.find_element(By.ID, "plan-accept").text == "Planned in the lab", message="accepted")
    plan_id = chrome.current_url.split("plan_id=")[1]
    planned = requests.get(f"{svc.base_url}/experiments?plan_id={plan_id}", timeout=30).json()["items"]
    assert len(planned) == 2 and {e["status"] for e in planned} == {"planned"}
    assert severe_console_messages(chrome) == []


@pytest.mark.parametrize("lang, theme, width", [("zh", "dark", 1280), ("zh", "light", 390), ("en", "dark", 390)])
def test_the_page_in_chinese_dark_and_at_phone_width(chrome, svc, run_id, lang, theme, width):
    _notebook_imported(svc)
    use_preferences(chrome, svc.origin, lang=lang, theme=theme)
    chrome.set_window_size(width, 900)
    chrome.get(f"{svc.origin}/experiments")
    wait_for(chrome, lambda d: d.find_elements(By.CSS_SELECTOR, "#plot circle.dot"), message="the plot")
    heading = chrome.find_element(By.TAG_NAME, "h1").text
    assert heading == ("实验" if lang == "zh" else "Experiments")
    if lang == "zh":
        assert "已测得" in chrome.find_element(By.ID, "experiment-table").text
    overflow = chrome.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    wide = chrome.execute_script(
        "return [...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right"
        " > window.innerWidth + 1 && !e.closest('.plot, .table-wrap')).map((e) => e.tagName + '#' + e.id"
        " + '.' + e.className).slice(0, 8)")
    assert overflow <= 1, f"the page is {overflow}px wider than the screen: {wide}"
    screenshot(chrome, f"experiments-{theme}-{lang}{'-phone' if width < 600 else ''}")
    if lang == "zh" and width > 600:
        chrome.get(f"{svc.origin}/plan")
        assert chrome.find_element(By.TAG_NAME, "h1").text == "规划下一批实验"
        screenshot(chrome, f"plan-{theme}-{lang}")
    assert severe_console_messages(chrome) == []
