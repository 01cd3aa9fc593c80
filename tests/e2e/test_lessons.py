"""/lessons and a lesson that stays with its run: banner and highlighted panel, also for
someone else who opens the shared link; "Run both" opens the compare page."""

import pytest

from tests.e2e.helpers import browser_errors, open_run
from tests.e2e.instrument import wait_run_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_lesson_cards_and_the_banner_on_the_shared_page(live_server_url, page, browser, screenshot):
    base = live_server_url
    page.goto(f"{base}/lessons")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    card = page.locator("#gradient-clipping")
    assert "Watch:" in card.inner_text() and card.locator("a", has_text="Load").count() == 1
    assert page.locator(".lesson-card").count() >= 25
    page.fill("#lesson-filter", "clipping")
    assert page.locator(".lesson-card").count() == 1
    screenshot("lessons-page")
    # Run: the run page shows the banner, and the panel to watch is marked
    card.locator("button", has_text="Run").first.click()
    page.wait_for_url("**/r/**")
    run_url = page.url
    page.wait_for_selector("#lesson-banner:has-text('Gradient clipping')")
    page.wait_for_selector("#panel-gradnorm.lesson-focus", timeout=120_000)
    # a second browser (a student with the link) sees the same lesson
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        pg = other.new_page()
        open_run(pg, run_url)
        pg.wait_for_selector("#lesson-banner:has-text('Watch:')")
        pg.wait_for_selector("#panel-gradnorm.lesson-focus", timeout=120_000)
        screenshot("lesson-banner-shared", pg)
    finally:
        other.close()
    assert not browser_errors(page)


def test_run_both_opens_the_compare_page_live(live_server_url, page):
    page.goto(f"{live_server_url}/lessons")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.click("#gradient-clipping [data-run-both]")
    page.wait_for_url("**/compare?runs=*")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.wait_for_function("() => document.querySelectorAll('#metrics-body tr').length === 2")
    ids = page.evaluate("new URLSearchParams(location.search).get('runs').split(',')")
    assert len(ids) == 2
    for run_id in ids:
        wait_run_status(page, run_id)
    # the unclipped variant explodes, the clipped one trains: the table says so
    page.wait_for_selector("#metrics-body [data-status='diverged']", timeout=60_000)
    page.wait_for_selector("#metrics-body [data-status='succeeded']", timeout=60_000)
