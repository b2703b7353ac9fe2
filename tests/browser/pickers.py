"""Using the desk's lender picker (Tom Select, `static/js/lender-picker.js`) in a browser test."""

import re

from playwright.sync_api import Locator, expect


def settled(scope: Locator, name: str) -> None:
    """Wait until the picker of field `name` has no search under way (Tom Select's `loading`)."""
    wrapper = scope.locator(f"input[name={name}] + .ts-wrapper")
    expect(wrapper).to_be_visible()
    scope.page.wait_for_timeout(300)  # the search starts 250 ms after the last key
    expect(wrapper).not_to_have_class(re.compile(r"\bloading\b"))


def choose_lender(scope: Locator, name: str, lender, typed: str | None = None) -> None:
    """In `scope` (a form or the page), type into the picker of field `name` (by default the
    lender's code) and choose the lender with the keyboard, as staff do."""
    field = scope.locator(f"input[name={name}]")
    box = scope.locator(f"#{field.get_attribute('id')}-ts-control")
    box.click()
    box.press_sequentially(typed if typed is not None else lender.code, delay=20)
    settled(scope, name)
    listbox = scope.page.locator(f"#{field.get_attribute('id')}-ts-dropdown")
    option = listbox.get_by_role("option", name=re.compile(re.escape(lender.code)))
    expect(option.first).to_be_visible()
    for _ in range(25):  # move the active option onto the lender, then Enter
        if option.first.get_attribute("aria-selected") == "true":
            break
        box.press("ArrowDown")
    box.press("Enter")
    expect(field).to_have_value(lender.code)
