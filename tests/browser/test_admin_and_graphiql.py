"""A real browser against a running server: an administrator logs into Django admin through the login form, opens
an individual's change page and its field-level history, then opens GraphiQL (served offline from core/static) and
runs a query whose answer appears in the page."""
import datetime

import pytest
from django.test import override_settings

from core.test_helpers import DEFAULT_PASSWORD, create_test_technical_user
from individual.models import Individual

# live_server commits for real: the rows the migrations seed are restored after the test
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WAIT = 30


@pytest.fixture
def officer_data():
    admin = create_test_technical_user("browser-admin", super_user=True)
    person = Individual(first_name="Amina", last_name="Browserova", dob=datetime.date(1988, 3, 14),
                        json_ext={"educated_level": "secondary"})
    person.save(user=admin)
    person.first_name = "Aminata"
    person.save(user=admin)  # a second version: the history page lists the change
    return admin, person


def _wait(browser, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT).until(condition)


def _login(browser, base_url, username):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(f"{base_url}/api/admin/login/?next=/api/admin/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
    _wait(browser, ec.presence_of_element_located((By.ID, "content-main")))
    assert "/api/admin/login/" not in browser.current_url, browser.page_source[:2000]


@override_settings(GRAPHIQL=True)
def test_admin_pages_and_graphiql_in_chromium(live_server, browser, officer_data):
    # imported here: without selenium the test is skipped by its marker (tests/browser/conftest.py), not an error
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    admin, person = officer_data
    _login(browser, live_server.url, admin.username)
    assert "Log out" in browser.page_source or "logout" in browser.page_source

    # the individual's change page (read-only: individuals change through their services)
    browser.get(f"{live_server.url}/api/admin/individual/individual/{person.pk}/change/")
    content = _wait(browser, ec.presence_of_element_located((By.ID, "content-main")))
    assert "Aminata" in content.text and "Browserova" in content.text
    assert not browser.find_elements(By.NAME, "_save"), "individuals are not saved from admin"

    # its history page: both versions, with the first name change
    browser.get(f"{live_server.url}/api/admin/individual/individual/{person.pk}/history/")
    content = _wait(browser, ec.presence_of_element_located((By.ID, "content-main")))
    assert "Amina" in content.text and "Aminata" in content.text, content.text[:1000]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#change-history tbody tr")) >= 2

    # GraphiQL from the project's own static files: the schema loads (introspection), a query typed into the
    # editor runs with the admin's session and its answer shows in the result pane
    browser.get(f"{live_server.url}/api/graphql")
    _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror")))
    query = ('{ individual(first: 5, lastName_Icontains: "Browserova") '
             '{ totalCount edges { node { firstName lastName } } } }')
    browser.execute_script(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]);", query)
    _wait(browser, ec.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))).click()
    result = _wait(browser, lambda b: _result_text(b) if '"totalCount"' in _result_text(b) else None)
    assert '"totalCount": 1' in result, result
    assert '"firstName": "Aminata"' in result and '"lastName": "Browserova"' in result, result
    # the documentation explorer has the schema: introspection answered
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Show Documentation Explorer']").click()
    docs = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".graphiql-doc-explorer")))
    _wait(browser, lambda b: "Query" in docs.text or None)
    failed = [entry for entry in browser.get_log("browser")
              if entry.get("level") == "SEVERE" and "/favicon.ico" not in entry.get("message", "")]
    assert not failed, failed  # every script and stylesheet loaded (no CDN), every request answered


def _result_text(browser):
    from selenium.webdriver.common.by import By

    panes = browser.find_elements(By.CSS_SELECTOR, ".result-window")
    return panes[0].text if panes else ""
