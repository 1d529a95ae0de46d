"""The demo's chat page in a real headless Chromium: a person's clicks, the bot's answers.

``running_demo`` starts what ``bibliobot demo`` starts (the demo library, the emulator, the real
bot built by ``build_application``, the page); Playwright drives Debian's Chromium
(``/usr/bin/chromium``; ``.ci/run`` installs it). Without a Chromium the test is skipped on a
developer's machine but FAILS under CI (``CI`` set), so a missing browser cannot pass silently.

Screenshots of every step go to ``test-artifacts/demo/`` (gitignored); with
``BIBLIOBOT_README_SCREENSHOT=1`` the last one also replaces the README's docs/img/chat-page.png.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, async_playwright, expect
from telegram import ReplyKeyboardMarkup

from bot.demo.library import ANNA
from bot.demo.runner import RunningDemo, running_demo
from bot.sandbox.testing import format_violations
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "demo"
README_SHOT = ROOT / "docs" / "img" / "chat-page.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 10_000


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "no Chromium: `apt-get install chromium` (.ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
async def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunningDemo]:
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("BIBLIOBOT_")]:
        if name != "BIBLIOBOT_README_SCREENSHOT":
            monkeypatch.delenv(name)
    async with running_demo(load_settings(), path=tmp_path / "demo.sqlite3", port=0) as running:
        yield running
    violations = running.sandbox.emulator.violations
    if violations:
        pytest.fail(format_violations(violations))


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    executable = chromium()
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield context.pages[0] if context.pages else await context.new_page()
        finally:
            await context.close()


class Steps:
    """The page as a person uses it, with a screenshot after each step."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.name = name
        self.shots = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async def shot(self, name: str) -> Path:
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{name}.png"
        await self.page.screenshot(path=str(path))
        return path

    async def say(self, text: str) -> None:
        await self.page.fill("#patron-input", text)
        await self.page.press("#patron-input", "Enter")

    def bot_says(self, text: str, *, within: str = "#patron-messages") -> Locator:
        return self.page.locator(f"{within} .msg:not(.mine)", has_text=text).last

    async def expect_bot(self, text: str, *, within: str = "#patron-messages") -> None:
        await expect(self.bot_says(text, within=within)).to_be_visible(timeout=WAIT_MS)

    async def link_card(self) -> None:
        """/start, English, then Anna's card number and PIN."""
        await self.say("/start")
        await self.press("English")
        await self.press("Link my library card")
        await self.expect_bot("card number")
        await self.say(ANNA.card)
        await self.expect_bot("PIN")
        await self.say(ANNA.pin)
        await self.expect_bot(f"{ANNA.card} is now linked")

    async def press(self, label: str, *, within: str = "#patron-messages") -> None:
        button = self.page.locator(f"{within} .keyboard button", has_text=label).last
        await expect(button).to_be_visible(timeout=WAIT_MS)
        await button.click()


async def test_a_patron_links_her_card_searches_reserves_and_renews(
    demo: RunningDemo, page: Page
) -> None:
    steps = Steps(page, "patron")
    await page.goto(demo.url)
    await expect(page.locator("body[data-ready='1']")).to_have_count(1, timeout=WAIT_MS)
    await expect(page.locator("#patron-tabs button.active")).to_contain_text(ANNA.card)

    # /start, the language, then linking the card with its PIN (the PIN is deleted).
    await steps.link_card()
    await expect(page.locator("#patron-messages .msg.mine", has_text=ANNA.pin)).to_have_count(0)
    await steps.shot("linked")

    # A search typed with an accent finds the title; its page offers to reserve it.
    await steps.say("cecità")
    await steps.expect_bot("Saramago")
    await steps.press("Cecità")
    await steps.press("Reserve")
    await steps.expect_bot("Where would you like to collect")
    await steps.press("Brugherio")
    await steps.press("Confirm")
    await steps.expect_bot("Reserved")
    await steps.shot("reserved")

    # The loans (due yesterday, today, in three days) and a renewal.
    await steps.say("/loans")
    await steps.expect_bot("Renew all")
    await steps.press("🔄 1.")
    await steps.expect_bot("Renewed")
    await steps.shot("renewed")

    # Talking to a librarian: the question opens a topic in the staff group (right), where
    # the librarian's answer goes back to the patron.
    question = "Do you have audiobooks for children?"
    await steps.say("/librarian")
    await steps.press("General")
    await steps.expect_bot("Subject:")
    await steps.say(question)
    topic = page.locator("#topic-tabs button", has_text=ANNA.card)
    await expect(topic).to_be_visible(timeout=WAIT_MS)
    await topic.click()
    await expect(page.locator("#staff-messages .msg", has_text=question)).to_be_visible(
        timeout=WAIT_MS
    )
    await page.fill("#staff-input", "Yes: at Brugherio, on the children's shelf R.")
    await page.press("#staff-input", "Enter")
    await steps.expect_bot("children's shelf R")
    await steps.shot("librarian")

    # Three days later (the clock runs the notice cycles as on that day): the reminder for the
    # loan due then arrives in her chat, and the hold kept for her since yesterday.
    await page.click("#clock-plus3")
    await expect(page.locator("#clock-status")).to_contain_text("sent", timeout=WAIT_MS)
    await steps.expect_bot("Gödel, Escher, Bach")
    await steps.expect_bot("La città perduta dei templari")
    await steps.shot("reminded")

    final = await steps.shot("chat-page")
    if os.environ.get("BIBLIOBOT_README_SCREENSHOT"):
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, README_SHOT)


async def test_inline_mode_files_and_formatting(demo: RunningDemo, page: Page) -> None:
    steps = Steps(page, "inline")
    await page.goto(demo.url)
    await expect(page.locator("body[data-ready='1']")).to_have_count(1, timeout=WAIT_MS)
    anna = demo.info["patrons"][0]["user_id"]

    # Inline mode: "@bot title" lists the bot's results; choosing one posts it via the bot.
    await steps.say(f"@{demo.info['bot']['username']} cecità")
    result = page.locator("#inline-results button", has_text="Cecità").first
    await expect(result).to_be_visible(timeout=WAIT_MS)
    await result.click()
    posted = page.locator("#patron-messages .msg", has_text="via @")
    await expect(posted).to_have_count(1, timeout=WAIT_MS)
    # Its button is a deep link to the bot: as in Telegram, it opens the chat with /start.
    await posted.locator(".keyboard a").first.click()
    await expect(page.locator("#patron-messages .msg.mine", has_text="/start")).to_have_count(
        1, timeout=WAIT_MS
    )

    # A file the bot sends (an appointment's .ics) is a download from the emulator's store.
    await steps.say("/start")
    await steps.expect_bot("Italiano")
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    await demo.app.bot.send_document(anna, ics, filename="appuntamento.ics", caption="📅")
    link = page.locator("#patron-messages a.file", has_text="appuntamento.ics")
    await expect(link).to_be_visible(timeout=WAIT_MS)
    href = await link.get_attribute("href")
    assert href is not None
    response = await page.request.get(demo.url.rstrip("/") + href)
    assert await response.body() == ics
    await steps.shot("inline-and-file")

    # A reply keyboard (the bot's own screens use inline buttons; the page shows both): a tap
    # sends its text as the patron's message, and a one-time keyboard goes away.
    keyboard = ReplyKeyboardMarkup([["Sì", "No"]], one_time_keyboard=True)
    await demo.app.bot.send_message(anna, "Confermi?", reply_markup=keyboard)
    key = page.locator("#reply-keyboard button", has_text="Sì")
    await expect(key).to_be_visible(timeout=WAIT_MS)
    await key.click()
    await expect(page.locator("#patron-messages .msg.mine", has_text="Sì")).to_have_count(
        1, timeout=WAIT_MS
    )
    await expect(page.locator("#reply-keyboard")).to_be_hidden(timeout=WAIT_MS)

    # Entities (UTF-16 offsets: the emoji counts two) become nested HTML; text is escaped.
    html = await page.evaluate(
        """() => entitiesToHtml("📚 Libro <1> link", [
            {type: "bold", offset: 0, length: 8},
            {type: "italic", offset: 3, length: 5},
            {type: "text_link", offset: 13, length: 4, url: "https://example.org/"},
        ])"""
    )
    assert html == (
        '<b>📚 <i>Libro</i></b> &lt;1&gt; <a href="https://example.org/" target="_blank"'
        ' rel="noopener">link</a>'
    )


async def test_an_appointment_confirmed_from_the_staff_pane_brings_its_calendar_file(
    demo: RunningDemo, page: Page
) -> None:
    steps = Steps(page, "appointment")
    await page.goto(demo.url)
    await expect(page.locator("body[data-ready='1']")).to_have_count(1, timeout=WAIT_MS)
    await steps.link_card()

    # /appointment: the service, its first day and time offered, then Book.
    await steps.say("/appointment")
    await steps.press("Bibliographic consultation")
    for kind in ("ap:d:", "ap:t:"):
        choice = page.locator(f"#patron-messages .keyboard button[data-press^='{kind}']").first
        await expect(choice).to_be_visible(timeout=WAIT_MS)
        await choice.click()
    await steps.press("Book")
    await steps.expect_bot("Request sent")

    # The request is a card in the staff group's appointments topic; the librarian confirms.
    topic = page.locator("#topic-tabs button", has_text="Appuntamenti")
    await expect(topic).to_be_visible(timeout=WAIT_MS)
    await topic.click()
    confirm = page.locator("#staff-messages .keyboard button[data-press^='aps:ok:']").first
    await expect(confirm).to_be_visible(timeout=WAIT_MS)
    await confirm.click()

    # The patron receives the confirmation with its calendar file, downloadable from the page.
    link = page.locator("#patron-messages a.file", has_text=".ics")
    await expect(link).to_be_visible(timeout=WAIT_MS)
    href = await link.first.get_attribute("href")
    assert href is not None
    response = await page.request.get(demo.url.rstrip("/") + href)
    assert (await response.body()).startswith(b"BEGIN:VCALENDAR")
    await steps.shot("confirmed")


def test_without_chromium_ci_fails_where_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        chromium()
