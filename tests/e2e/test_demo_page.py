"""The demo's chat page in a real headless Chromium: a person's clicks, the bot's answers.

``running_demo`` starts what ``bibliobot demo`` starts (the demo library, the emulator, the real
bot built by ``build_application``, the page); Playwright drives Debian's Chromium
(``/usr/bin/chromium``; ``.ci/run`` installs it). Without a Chromium the test is skipped on a
developer's machine but FAILS under CI (``CI`` set), so a missing browser cannot pass silently.

The page and the patrons speak Italian, so the steps read the Italian words a librarian sees.
Screenshots of every step go to ``test-artifacts/demo/`` (gitignored); with
``BIBLIOBOT_README_SCREENSHOT=1`` the first test's last one also replaces the README's
docs/img/chat-page.png.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, async_playwright, expect
from telegram import ReplyKeyboardMarkup

from bot.demo.library import ANNA, LUCA, MARCO, DemoPatron
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
            # An Italian librarian's browser (dates in the date field as dd/mm/yyyy).
            locale="it-IT",
            timezone_id="Europe/Rome",
        )
        try:
            yield context.pages[0] if context.pages else await context.new_page()
        finally:
            await context.close()


# Markup that would show as text if a message's formatting were not rendered.
RAW_TAG = re.compile(r"</?(b|i|u|s|a|code|pre|blockquote)\b[^>]*>")


class Steps:
    """The page as a person uses it, with a screenshot after each step."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.name = name
        self.shots = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async def open(self, demo: RunningDemo) -> None:
        await self.page.goto(demo.url)
        await expect(self.page.locator("body[data-ready='1']")).to_have_count(1, timeout=WAIT_MS)

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

    async def link_card(self, patron: DemoPatron = ANNA) -> None:
        """/start, Italian, then the card number and PIN (the PIN message is deleted)."""
        await self.page.locator("#patron-tabs button", has_text=patron.card).click()
        await self.say("/start")
        await self.press("Italiano")
        await self.press("Collega la mia tessera")
        await self.expect_bot("numero della tua tessera")
        await self.say(patron.card)
        await self.expect_bot("il tuo PIN")
        await self.say(patron.pin)
        await self.expect_bot(f"tessera {patron.card} ora è collegata")
        await expect(
            self.page.locator("#patron-messages .msg.mine", has_text=patron.pin)
        ).to_have_count(0)

    async def press(self, label: str, *, within: str = "#patron-messages") -> None:
        button = self.page.locator(f"{within} .keyboard button", has_text=label).last
        await expect(button).to_be_visible(timeout=WAIT_MS)
        await button.click()

    async def no_raw_markup(self) -> None:
        """Every message's formatting is rendered: no tag shows as text."""
        for text in await self.page.locator(".msg").all_inner_texts():
            assert not RAW_TAG.search(text), text


async def test_a_patron_links_her_card_searches_reserves_and_renews(
    demo: RunningDemo, page: Page
) -> None:
    steps = Steps(page, "patron")
    await steps.open(demo)
    # The page speaks Italian, as the patrons and the librarians do.
    await expect(page.locator("html[lang='it']")).to_have_count(1)
    await expect(page.locator("#patron-form button")).to_have_text("Invia")
    await expect(page.locator("#patron-tabs button.active")).to_contain_text(ANNA.card)
    await expect(page.locator("#patron-card")).to_contain_text(ANNA.story_it)

    # /start, the language, then linking the card with its PIN (the PIN is deleted).
    await steps.link_card()
    await steps.shot("linked")

    # A search typed with an accent finds the title; its page offers to reserve it.
    await steps.say("cecità")
    await steps.expect_bot("Saramago")
    await steps.press("1. Cecità")
    await steps.press("📌 Prenota")
    await steps.expect_bot("Dove vuoi ritirare")
    await steps.press("🏠 Brugherio")
    await steps.press("✅ Conferma")
    await steps.expect_bot("Prenotazione fatta")
    await steps.shot("reserved")

    # The loans (one overdue, one due today, one in three days): renewing the one due today.
    late, due_today, in_three_days = demo.library.loans[ANNA.card]
    await steps.say("/loans")
    await steps.expect_bot("Rinnova tutti")
    await steps.press(due_today.title)
    await steps.expect_bot(f"Rinnovo fatto: {due_today.title}")
    await steps.shot("renewed")

    # Talking to a librarian: the question opens a topic in the staff group (right), where
    # the librarian's answer goes back to the patron.
    question = "Avete audiolibri per bambini?"
    await steps.say("/librarian")
    await steps.press("Domande generali")
    await steps.expect_bot("Argomento:")
    await steps.say(question)
    topic = page.locator("#topic-tabs button", has_text=ANNA.card)
    await expect(topic).to_be_visible(timeout=WAIT_MS)
    await topic.click()
    await expect(page.locator("#staff-messages .msg", has_text=question)).to_be_visible(
        timeout=WAIT_MS
    )
    # The topic opens with the patron's card, her name in bold.
    await expect(page.locator("#staff-messages .msg b", has_text=ANNA.name).first).to_be_visible()
    await page.fill("#staff-input", "Sì: a Brugherio, sullo scaffale ragazzi R.")
    await page.press("#staff-input", "Enter")
    await steps.expect_bot("scaffale ragazzi R")
    await steps.shot("librarian")

    # Three days later: the clock runs the notice cycles of today and of each day up to then.
    # Into her chat come the overdue notice, the reminder for the loan due in three days and
    # the hold kept for her since yesterday, formatted (bold titles), never as raw markup.
    await page.click("#clock-plus3")
    await expect(page.locator("#clock-status")).to_contain_text("inviati", timeout=WAIT_MS)
    await expect(page.locator("#today")).to_contain_text("+3 giorni")
    await steps.expect_bot(late.title)
    await steps.expect_bot(in_three_days.title)
    await steps.expect_bot("La città perduta dei templari")
    await expect(page.locator("#patron-messages .msg:not(.mine) b").first).to_be_visible()
    await steps.no_raw_markup()
    await steps.shot("reminded")

    final = await steps.shot("chat-page")
    if os.environ.get("BIBLIOBOT_README_SCREENSHOT"):
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, README_SHOT)


async def test_inline_mode_files_formatting_and_the_english_page(
    demo: RunningDemo, page: Page
) -> None:
    steps = Steps(page, "inline")
    await steps.open(demo)
    anna = demo.info["patrons"][0]["user_id"]

    # Inline mode: "@bot title" lists the bot's results; choosing one posts it via the bot.
    await steps.say(f"@{demo.info['bot']['username']} cecità")
    result = page.locator("#inline-results button", has_text="Cecità").first
    await expect(result).to_be_visible(timeout=WAIT_MS)
    await steps.shot("inline-results")
    await result.click()
    posted = page.locator("#patron-messages .msg", has_text="via @")
    await expect(posted).to_have_count(1, timeout=WAIT_MS)
    # Its button is a deep link to the bot: as in Telegram, it opens the chat with /start,
    # and the bot shows the record (the shared message itself is not taken for a search).
    await posted.locator(".keyboard a").first.click()
    await expect(page.locator("#patron-messages .msg.mine", has_text="/start")).to_have_count(
        1, timeout=WAIT_MS
    )
    await steps.expect_bot("Saramago, José; Desti, Rita")
    await expect(page.locator("#patron-messages .msg:not(.mine)")).to_have_count(1)

    # A file the bot sends is a download from the emulator's store.
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

    # Formatting as a client shows it: bold, italic, a link; text that looks like a tag is text.
    await demo.app.bot.send_message(
        anna,
        "<b>Grassetto</b>, <i>corsivo</i>, <a href='https://example.org/'>un link</a>"
        " &lt;b&gt;non un tag&lt;/b&gt;",
        parse_mode="HTML",
    )
    shown = page.locator("#patron-messages .msg", has_text="Grassetto").last
    await expect(shown.locator("b", has_text="Grassetto")).to_be_visible(timeout=WAIT_MS)
    await expect(shown.locator("i", has_text="corsivo")).to_be_visible()
    await expect(shown.locator("a[href='https://example.org/']")).to_have_text("un link")
    await expect(shown).to_contain_text("<b>non un tag</b>")
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

    # The page's own words in English, remembered when the page is opened again.
    await page.click("#language")
    await expect(page.locator("html[lang='en']")).to_have_count(1)
    await expect(page.locator("#patron-form button")).to_have_text("Send")
    await expect(page.locator("#patron-card")).to_contain_text(ANNA.story)
    await steps.open(demo)
    await expect(page.locator("#clock")).to_contain_text("Today in the demo")
    await steps.shot("english")
    await page.click("#language")
    await expect(page.locator("#patron-form button")).to_have_text("Invia")


async def test_an_appointment_confirmed_from_the_staff_pane_brings_its_calendar_file(
    demo: RunningDemo, page: Page
) -> None:
    steps = Steps(page, "appointment")
    await steps.open(demo)
    await steps.link_card()

    # /appointment: the service, its first day and time offered, then Book.
    await steps.say("/appointment")
    await steps.press("Consulenza bibliografica")
    for kind in ("ap:d:", "ap:t:"):
        choice = page.locator(f"#patron-messages .keyboard button[data-press^='{kind}']").first
        await expect(choice).to_be_visible(timeout=WAIT_MS)
        await choice.click()
    await steps.press("✅ Prenota")
    await steps.expect_bot("Richiesta inviata")

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
    await steps.no_raw_markup()
    await steps.shot("confirmed")


async def test_the_childs_card_and_the_suspended_one(demo: RunningDemo, page: Page) -> None:
    steps = Steps(page, "others")
    await steps.open(demo)

    # Luca, a child: his card links with its PIN and shows his one loan.
    await steps.link_card(LUCA)
    (loan,) = demo.library.loans[LUCA.card]
    await steps.say("/loans")
    await steps.expect_bot(loan.title)
    await steps.shot("luca")

    # Marco's Telegram is in English: the bot greets him in English first. His card is suspended
    # for an unpaid fine (C8): his account says so, and "Reserve" is refused in words.
    await page.locator("#patron-tabs button", has_text=MARCO.card).click()
    await expect(page.locator("#patron-card")).to_contain_text("inglese")
    await steps.say("/start")
    await expect(steps.bot_says("Italiano")).to_have_text(re.compile(r"^Hello!"), timeout=WAIT_MS)
    await steps.press("English")
    await steps.press("Link my library card")
    await steps.expect_bot("card number")
    await steps.say(MARCO.card)
    await steps.expect_bot("PIN")
    await steps.say(MARCO.pin)
    await steps.expect_bot(f"{MARCO.card} is now linked")
    fine = demo.library.fines_cents[MARCO.card]
    await steps.say("/account")
    await steps.expect_bot("suspended")
    await steps.expect_bot(f"€{fine // 100}.{fine % 100:02d}")
    await steps.say("cecità")
    await steps.press("1. Cecità")
    await steps.press("📌 Reserve")  # refused at once, before choosing a library
    await steps.expect_bot("Your card is suspended")
    await steps.no_raw_markup()
    await steps.shot("marco")


def test_without_chromium_ci_fails_where_a_developer_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        chromium()
