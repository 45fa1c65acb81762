"""What a new user tripped over in the interface (issue 23), in a real browser against the real service."""
import pytest
from selenium.webdriver.common.by import By

from tests.browser import browser_or_skip, screenshot, severe_console_messages, start_chrome, use_preferences, wait_for
from tests.processes import running_service

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    browser_or_skip()
    with running_service(tmp_path_factory.mktemp("ui-new-user"), {"C2XC_DRY_RUN_STEP_DELAY_S": "0"}) as procs:
        procs.origin = procs.base_url.rsplit("/api/v1", 1)[0]
        yield procs


@pytest.fixture(scope="module")
def chrome(svc):
    driver = start_chrome()
    yield driver
    driver.quit()


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
