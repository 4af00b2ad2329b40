"""The console in a real browser (Debian's chromium through Playwright) against a real daemon and a real
Mosquitto: live cards, one card per story, search in Hindi and English, filters, review across a restart,
hostile article text that stays text, and the replay of what a dropped event stream missed.

One daemon, broker and browser for the module (fast); every test drops its own articles and looks for them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from harness.processes import DaemonProcess, Mosquitto, wait_until
from monitor import events

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
#: a card must show within this of its file landing (settle 100 ms, a batch, the 0.25 s poll)
LIVE_S = 10_000


#: each test's articles on their own day, 12 days apart (more than the 72 h story window)
DAYS = {
    name: f"2026-{1 + n * 12 // 28:02d}-{1 + n * 12 % 28:02d}"
    for n, name in enumerate(
        [
            "live",
            "fish",
            "hindi",
            "amur",
            "ref",
            "meet",
            "review",
            "hostile",
            "missed",
            "digest",
            "story",
            "other",
            "range",
            "bidi",
            "login",
            "silent",
        ]
    )
}


def article(title: str, body: str, day: str, source: str = "Test Wire", **more: str) -> str:
    """A JSON article of its own day: days more than ``[stories] window_hours`` apart never share a story, so
    the other tests' look-alike articles cannot join (and silence) this one."""
    return json.dumps({"title": title, "body": body, "source": source, "published_at": f"{day}T09:00:00Z", **more})


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: .ci/run installs it")
    workdir = tmp_path_factory.mktemp("console-browser")
    broker = Mosquitto(workdir / "broker")
    broker.start()
    process = DaemonProcess(workdir / "daemon", broker.port, stories=True)
    process.start()
    process.wait_ready()
    yield process
    assert process.stop() == 0
    broker.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(LIVE_S)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    refused: list[str] = []  # the page itself must never need what the Content-Security-Policy forbids
    opened.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield opened
    context.close()
    assert errors == [], f"the page's script failed: {errors}"
    assert refused == [], f"the page broke its own CSP: {refused}"


def start_again(daemon: DaemonProcess) -> None:
    """Start a stopped daemon and wait for this run's console (its log holds the earlier runs' lines too)."""
    runs = len(daemon.events(events.WEB_LISTENING))
    daemon.start()
    wait_until(lambda: len(daemon.events(events.WEB_LISTENING)) > runs, 30, what="the console of the new run")


def open_console(page: Page, daemon: DaemonProcess, query: str = "") -> None:
    page.goto(f"{daemon.web_url}/{query}")
    expect(page.locator("#live")).to_have_text("live")


def test_a_dropped_article_appears_live_without_a_reload(page: Page, daemon: DaemonProcess) -> None:
    open_console(page, daemon)
    page.evaluate("window.loadedOnce = true")
    daemon.drop(
        "live.json",
        article(
            "Live pact in Khabarovsk", "Russia and North Korea signed a new rail agreement in Khabarovsk.", DAYS["live"]
        ),
    )
    found = page.locator("article.card", has_text="Live pact in Khabarovsk")
    expect(found).to_have_count(1)
    expect(found.locator("mark").first).to_be_visible()  # the matched words, highlighted
    assert page.evaluate("window.loadedOnce") is True  # the same page: no reload


BODY = (
    "VLADIVOSTOK — Russia and North Korea signed an agreement on fisheries on Wednesday, the regional "
    "government said. The document sets quotas for crab and pollock off the Primorye coast and a joint "
    "inspection of trawlers. A deputy governor signed for Russia and a trade envoy signed for Pyongyang."
)


def test_two_outlets_of_one_story_show_as_one_card_with_two_outlets(page: Page, daemon: DaemonProcess) -> None:
    open_console(page, daemon)
    daemon.drop(
        "east/fish.json", article("Russia and North Korea sign fisheries agreement", BODY, DAYS["fish"], "East Wire")
    )
    story = page.locator("article.card", has_text="sign fisheries agreement")
    expect(story).to_have_count(1)
    more = BODY + " On Thursday Russian Foreign Minister Sergei Lavrov met Kim Jong Un in Pyongyang, the ministry said."
    daemon.drop("coast/fish.json", article("Fisheries deal; Lavrov meets Kim", more, DAYS["fish"], "Coast Herald"))
    merged = page.locator("article.card", has=page.locator(".outlets", has_text="2 outlets"))
    expect(merged).to_have_count(1)
    story_id = merged.get_attribute("data-story")
    expect(page.locator(f"article.card[data-story='{story_id}']")).to_have_count(1)


def test_a_copy_joining_a_story_silently_raises_its_cards_outlet_count_live(page: Page, daemon: DaemonProcess) -> None:
    open_console(page, daemon)
    body = BODY.replace("fisheries", "timber trade").replace("crab and pollock", "larch and pine")
    daemon.drop("north/timber.json", article("Timber deal signed", body, DAYS["silent"], "North Wire"))
    card = page.locator("article.card", has_text="Timber deal signed")
    expect(card.locator(".outlets")).to_have_text("1 outlet")
    page.evaluate("window.loadedOnce = true")
    copy = body.replace("the regional government said", "the government of the region said")
    daemon.drop("south/timber.json", article("Timber deal is signed", copy, DAYS["silent"], "South Wire"))
    expect(card.locator(".outlets")).to_have_text("2 outlets")  # a wire copy: no alert, but a second outlet
    expect(page.locator("article.card", has_text="Timber deal")).to_have_count(1)
    assert page.evaluate("window.loadedOnce") is True
    page.reload()
    expect(page.locator("article.card", has_text="Timber deal signed").locator(".outlets")).to_have_text("2 outlets")


def test_search_finds_an_alert_by_a_hindi_word_and_by_an_english_word(page: Page, daemon: DaemonProcess) -> None:
    hindi = "व्लादिवोस्तोक। रूस और उत्तर कोरिया ने मत्स्य पालन सहयोग के समझौते पर हस्ताक्षर किए।"
    daemon.drop("hindi.json", article("मत्स्य समझौता", hindi, DAYS["hindi"]))
    daemon.drop(
        "amur.json",
        article("Amur bridge pact", "Russia and North Korea signed a new agreement on the Amur bridge.", DAYS["amur"]),
    )
    open_console(page, daemon)
    expect(page.locator("article.card", has_text="Amur bridge pact")).to_have_count(1)
    expect(page.locator("article.card", has_text="मत्स्य समझौता")).to_have_count(1)
    page.fill("input[name=q]", "मत्स्य")
    page.click("button[type=submit]")
    page.wait_for_url("**/?q=*")
    expect(page.locator("article.card", has_text="मत्स्य समझौता")).to_have_count(1)
    expect(page.locator("article.card", has_text="Amur bridge pact")).to_have_count(0)
    page.goto(f"{daemon.web_url}/?q=Amur")  # the link a colleague gets holds the whole search
    expect(page.locator("input[name=q]")).to_have_value("Amur")
    expect(page.locator("article.card", has_text="Amur bridge pact")).to_have_count(1)
    expect(page.locator("article.card", has_text="मत्स्य समझौता")).to_have_count(0)


def test_a_filter_by_rule_and_by_novelty_narrows_the_list(page: Page, daemon: DaemonProcess) -> None:
    open_console(page, daemon)  # first: the reference alert may be the first this daemon makes, seen live
    daemon.drop(
        "ref.json",
        article(
            "Sakhalin trade fair",
            "Officials recalled the treaty Russia and North Korea signed in June 2024.",
            DAYS["ref"],
        ),
    )
    daemon.drop(
        "meet.json",
        article(
            "Lavrov in Wonsan",
            "Russian Foreign Minister Sergei Lavrov met Kim Jong Un in Wonsan on Friday.",
            DAYS["meet"],
        ),
    )
    expect(page.locator("article.card", has_text="Sakhalin trade fair")).to_have_count(1)
    expect(page.locator("article.card", has_text="Lavrov in Wonsan")).to_have_count(1)
    expect(page.locator("select[name=novelty] option[value=reference]")).to_have_count(1)  # a live value
    every = page.locator("article.card").count()
    page.select_option("select[name=novelty]", "reference")
    page.click("button[type=submit]")
    page.wait_for_url("**/?novelty=reference")
    expect(page.locator("article.card", has_text="Sakhalin trade fair")).to_have_count(1)
    assert 0 < page.locator("article.card").count() < every
    assert set(page.locator("article.card .badge.novelty").all_text_contents()) == {"reference"}
    page.goto(f"{daemon.web_url}/?rule=russia-dprk-meeting")
    expect(page.locator("article.card", has_text="Lavrov in Wonsan")).to_have_count(1)
    expect(page.locator("select[name=rule]")).to_have_value("russia-dprk-meeting")
    expect(page.locator("article.card", has_text="Sakhalin trade fair")).to_have_count(0)


def test_reviewing_survives_a_daemon_restart(page: Page, daemon: DaemonProcess) -> None:
    daemon.drop(
        "review.json",
        article(
            "Tumen river pact", "Russia and North Korea signed a new agreement on the Tumen river.", DAYS["review"]
        ),
    )
    open_console(page, daemon)
    target = page.locator("article.card", has_text="Tumen river pact")
    target.get_by_role("button", name="Mark reviewed").click()
    expect(target).to_have_class("card severity-high reviewed")
    assert daemon.stop() == 0
    start_again(daemon)
    open_console(page, daemon)
    expect(page.locator("article.card", has_text="Tumen river pact")).to_have_class("card severity-high reviewed")
    page.goto(f"{daemon.web_url}/?reviewed=false")
    expect(page.locator("#status")).to_contain_text("match this search")
    expect(page.locator("article.card", has_text="Tumen river pact")).to_have_count(0)


HOSTILE_TITLE = 'Hostile pact <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


def test_a_hostile_article_renders_as_text_and_never_runs(page: Page, daemon: DaemonProcess) -> None:
    dialogs: list[str] = []

    def dialog_opened(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dialog_opened)
    body = (
        "Russia and North Korea signed a new agreement <script>alert(1)</script> on ports. "
        '<a href="javascript:alert(2)">details</a> <img src=x onerror=alert(3)> <b onmouseover=alert(4)>x</b>'
    )
    daemon.drop("hostile.json", article(HOSTILE_TITLE, body, DAYS["hostile"], "<b>Evil</b>", url="javascript:alert(5)"))
    open_console(page, daemon)
    hostile = page.locator("article.card", has_text="Hostile pact")
    expect(hostile).to_have_count(1)
    expect(hostile.locator("h3")).to_have_text(HOSTILE_TITLE)
    expect(hostile.locator("blockquote")).to_contain_text("<script>alert(1)</script>")
    assert hostile.locator("script, img, b").count() == 0
    hostile.locator("h3 a").click()  # its story page, then the article page
    expect(page.locator(".timeline-item h3")).to_have_text(HOSTILE_TITLE)
    page.locator(".timeline-item h3 a").click()
    expect(page.locator("pre.text")).to_contain_text('<a href="javascript:alert(2)">')
    expect(page.locator(".url")).to_have_text("javascript:alert(5)")
    assert page.locator("main a[href^='javascript']").count() == 0
    page.locator("pre.text").hover()
    assert page.evaluate("window.pwned") is None and dialogs == []


def test_replay_after_a_dropped_event_stream_delivers_the_missed_alert(page: Page, daemon: DaemonProcess) -> None:
    open_console(page, daemon)
    page.evaluate("window.loadedOnce = true")
    assert daemon.stop() == 0  # the stream drops with the daemon
    expect(page.locator("#live")).to_have_text("reconnecting…")
    daemon.drop(
        "missed.json",
        article("Missed pact in Rason", "Russia and North Korea signed a new agreement in Rason port.", DAYS["missed"]),
    )
    start_again(daemon)
    expect(page.locator("article.card", has_text="Missed pact in Rason")).to_have_count(1)
    expect(page.locator("#live")).to_have_text("live")
    assert page.evaluate("window.loadedOnce") is True


def test_the_digest_page_lists_the_days_stories(page: Page, daemon: DaemonProcess) -> None:
    daemon.drop(
        "digest.json",
        article(
            "Digest pact in Nakhodka", "Russia and North Korea signed a new agreement in Nakhodka.", DAYS["digest"]
        ),
    )
    open_console(page, daemon)
    expect(page.locator("article.card", has_text="Digest pact in Nakhodka")).to_have_count(1)
    page.goto(f"{daemon.web_url}/digest?date={DAYS['digest']}")
    expect(page.locator("#digest")).to_contain_text("Digest pact in Nakhodka")
    page.goto(f"{daemon.web_url}/retro")  # the same day's archive, run again through the watchlists
    page.fill("input[name=since]", DAYS["digest"])
    page.fill("input[name=until]", DAYS["digest"])
    page.click("button[type=submit]")
    expect(page.locator("#found .status")).to_have_text("1 archived articles: 1 fired, 1 alerts")
    expect(page.locator("#found")).to_contain_text("Digest pact in Nakhodka")


def test_a_story_link_filters_the_page_and_live_alerts_of_other_stories_stay_off_it(
    page: Page, daemon: DaemonProcess
) -> None:
    daemon.drop(
        "story.json",
        article("Chongjin port pact", "Russia and North Korea signed a new agreement in Chongjin.", DAYS["story"]),
    )
    open_console(page, daemon)
    card = page.locator("article.card", has_text="Chongjin port pact")
    expect(card).to_have_count(1)
    story_id = card.get_attribute("data-story")
    assert story_id
    open_console(page, daemon, f"?story={story_id}")
    expect(page.locator("#status")).to_contain_text("1 alert match this search")
    expect(page.locator("article.card")).to_have_count(1)
    other = page.context.new_page()
    open_console(other, daemon)
    daemon.drop(
        "other.json",
        article("Hamhung rail pact", "Russia and North Korea signed a new agreement in Hamhung.", DAYS["other"]),
    )
    expect(other.locator("article.card", has_text="Hamhung rail pact")).to_have_count(1)
    page.wait_for_timeout(500)  # the poll is 0.25 s: both pages had the alert on their stream by now
    expect(page.locator("article.card")).to_have_count(1)
    expect(page.locator("article.card", has_text="Chongjin port pact")).to_have_count(1)


def test_a_date_range_page_shows_live_alerts_of_its_days_only(page: Page, daemon: DaemonProcess) -> None:
    day = DAYS["range"]
    open_console(page, daemon, f"?since={day}&until={day}")
    other = page.context.new_page()
    open_console(other, daemon)
    daemon.drop(
        "range-out.json",
        article("Rajin ferry pact", "Russia and North Korea signed a new ferry agreement.", DAYS["bidi"]),
    )
    expect(other.locator("article.card", has_text="Rajin ferry pact")).to_have_count(1)
    daemon.drop(
        "range-in.json", article("Sinuiju bridge pact", "Russia and North Korea signed a new bridge agreement.", day)
    )
    expect(page.locator("article.card", has_text="Sinuiju bridge pact")).to_have_count(1)  # live, no reload
    expect(page.locator("article.card", has_text="Rajin ferry pact")).to_have_count(0)


BIDI_TITLE = "Bidi pact \u202eevil override " + "very long words " * 60


def test_a_title_with_a_bidi_override_is_isolated_and_a_huge_one_clamped_on_its_card(
    page: Page, daemon: DaemonProcess
) -> None:
    body = "Russia and North Korea signed a new agreement on customs. \u202eReversed evidence."
    daemon.drop("bidi.json", article(BIDI_TITLE, body, DAYS["bidi"]))
    open_console(page, daemon, f"?since={DAYS['bidi']}&until={DAYS['bidi']}")
    card = page.locator("article.card", has_text="Bidi pact")
    expect(card).to_have_count(1)
    for part in ("h3", "h3 a", "blockquote", "p.meta"):
        bidi = card.locator(part).first.evaluate("e => [e.dir, getComputedStyle(e).unicodeBidi]")
        assert bidi == ["auto", "isolate"], part
    shown = card.locator("h3 a").inner_text()
    assert shown.startswith("Bidi pact") and len(shown) <= 301 < len(BIDI_TITLE.strip())
    card.locator("a.open-article").click()
    expect(page.locator("h2.title")).to_have_text(BIDI_TITLE.strip())


@pytest.fixture(scope="module")
def guarded_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """A daemon on loopback whose console has a password file: every page needs a login."""
    workdir = tmp_path_factory.mktemp("console-login")
    (workdir / "web-password").write_text("correct horse\n")
    broker = Mosquitto(workdir / "broker")
    broker.start()
    process = DaemonProcess(workdir / "daemon", broker.port, conf_extra=f'password_file = "{workdir / "web-password"}"')
    process.start()
    process.wait_ready()
    yield process
    assert process.stop() == 0
    broker.stop()


def test_logging_in_through_the_form_lets_the_analyst_review(page: Page, guarded_daemon: DaemonProcess) -> None:
    guarded_daemon.drop(
        "login.json", article("Nampo dock pact", "Russia and North Korea signed a new dock agreement.", DAYS["login"])
    )
    page.goto(f"{guarded_daemon.web_url}/")
    page.wait_for_url("**/login")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator("#failed")).to_be_visible()
    page.fill("input[name=password]", "correct horse")
    page.click("button[type=submit]")  # Chromium's form POST: Origin must pass the same-origin check
    page.wait_for_url(f"{guarded_daemon.web_url}/")
    expect(page.locator("#live")).to_have_text("live")
    target = page.locator("article.card", has_text="Nampo dock pact")
    target.get_by_role("button", name="Mark reviewed").click()
    expect(target).to_have_class("card severity-high reviewed")
    page.reload()
    expect(page.locator("article.card", has_text="Nampo dock pact")).to_have_class("card severity-high reviewed")
