"""The console over real HTTP on loopback, in process: an archive written by the daemon's own batch steps,
the strict headers on every answer, hostile requests turned away with a JSON 4xx and one log line,
CSRF and Origin checks, authentication, the event stream's replay, review through the API, the feed."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from yarl import URL

from harness.processes import WATCHLISTS, free_port
from monitor import events
from monitor.config import WebSettings
from monitor.engine import load_engine
from monitor.history import History
from monitor.store import DB_NAME
from monitor.web.app import Console
from monitor.web.retro import RetroSetup
from monitor.web.security import CSP
from tests.support import BatchRunner

LogLines = list[MutableMapping[str, Any]]
ATOM = "{http://www.w3.org/2005/Atom}"

EN = "Fisheries pact for Rason port\n\nRussia and North Korea signed a new fisheries agreement in Vladivostok.\n"
HI = "मछली पकड़ने का समझौता\n\nव्लादिवोस्तोक। रूस और उत्तर कोरिया ने मत्स्य पालन सहयोग के समझौते पर हस्ताक्षर किए।\n"
REFERENCE = (
    "Trade fair in Pyongyang\n\nOfficials recalled the treaty that Russia and North Korea signed in June 2024.\n"
)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder with three alerts in its archive, committed by the daemon's batch steps."""
    workdir = tmp_path_factory.mktemp("console")
    with BatchRunner(workdir, load_engine([WATCHLISTS]), stories=True) as runner:
        for name, text in (("en.txt", EN), ("hi.txt", HI), ("ref.txt", REFERENCE)):
            (runner.inbox / name).write_text(text)
        runner.process(runner.all_keys())
    return workdir / "state"


@pytest.fixture
async def console(state: Path) -> AsyncIterator[Console]:
    retro = RetroSetup(state, [WATCHLISTS], "newsmon", 262_144)
    console = Console(WebSettings(port=free_port()), state, retro)
    assert await console.start()
    yield console
    await console.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # cookies of 127.0.0.1
        yield session


@pytest.fixture
def logged() -> Iterator[LogLines]:
    with structlog.testing.capture_logs() as lines:
        yield lines


async def get(http: aiohttp.ClientSession, console: Console, path: str, **kw: Any) -> tuple[int, Any, Any]:
    async with http.get(f"{console.url}{path.lstrip('/')}", allow_redirects=False, **kw) as response:
        body = await response.read()
        kind = response.headers.get("Content-Type", "")
        return response.status, response.headers, json.loads(body) if "json" in kind else body


async def post(http: aiohttp.ClientSession, console: Console, path: str, body: Any, **headers: str) -> tuple[int, Any]:
    csrf = "t" * 32
    http.cookie_jar.update_cookies({"newsmon_csrf": csrf}, URL(console.url or ""))
    sent = {"Content-Type": "application/json", "X-CSRF-Token": csrf, **headers}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(f"{console.url}{path.lstrip('/')}", data=data, headers=sent) as response:
        return response.status, json.loads(await response.read())


async def test_every_answer_carries_the_strict_headers(console: Console, http: aiohttp.ClientSession) -> None:
    for path in ("/", "/api/alerts", "/static/index.js", "/api/stories/nope", "/nowhere", "/feeds/x.atom"):
        _status, headers, _body = await get(http, console, path)
        assert headers["Content-Security-Policy"] == CSP, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"  # no-referrer makes Chromium's form POST Origin: null


async def test_the_page_sets_the_csrf_cookie_its_script_sends_back(
    console: Console, http: aiohttp.ClientSession
) -> None:
    _status, headers, _body = await get(http, console, "/")
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("newsmon_csrf=") and "SameSite=Strict" in cookie


@pytest.mark.parametrize(
    ("path", "status", "complaint"),
    [
        ("/api/alerts?q=" + "x" * 5000, 414, "query string longer"),
        ("/api/alerts?since=2026-02-31", 400, "since: not a date"),
        ("/api/alerts?limit=1000000", 400, "limit: must be between"),
        ("/api/alerts/0000", 404, "no such alert"),
        ("/api/stories/..%2F..%2Fetc", 400, "not a valid id"),
        ("/api/articles/999999", 404, "no such article"),
        ("/api/articles/abc", 400, "not a valid id"),
        ("/api/articles/%C2%B2", 400, "not a valid id"),
        ("/api/alerts?limit=%C2%B2", 400, "limit: not a whole number"),
        ("/api/alerts?before=%EF%BC%91", 400, "before: not a whole number"),
        ("/api/alerts?after=abc", 400, "unknown parameter: after"),
        ("/api/alerts?since=20261201", 400, "since: not a date"),
        ("/api/events?after=%C2%B2", 400, "after: not a whole number"),
        ("/api/digest?date=tomorrow", 400, "date: not a date"),
        ("/static/..%2F..%2Fpyproject.toml", 404, "no such file"),
        ("/static/%2e%2e/app.py", 404, ""),
        ("/feeds/no-such-rule.atom", 404, "no such rule"),
    ],
)
async def test_hostile_requests_get_a_clear_json_4xx_and_one_log_line(
    console: Console, http: aiohttp.ClientSession, logged: LogLines, path: str, status: int, complaint: str
) -> None:
    got, _headers, body = await get(http, console, path)
    assert got == status
    assert body["status"] == status and complaint in body["error"]
    assert [line["status"] for line in logged if line["event"] == events.WEB_BAD_REQUEST] == [status]


async def test_bad_bodies_are_refused_with_the_reason(console: Console, http: aiohttp.ClientSession) -> None:
    assert await post(http, console, "/api/review", b"{not json") == (
        400,
        {"error": "body: not valid JSON", "status": 400},
    )
    status, body = await post(http, console, "/api/review", [1, 2])
    assert (status, body["error"]) == (400, "body: a JSON object expected")
    status, body = await post(http, console, "/api/review", {"alert": "nope"})
    assert (status, body["error"]) == (404, "no such alert")
    status, body = await post(http, console, "/api/snooze", {"rule": "russia-dprk-agreement", "hours": 5})
    assert status == 400 and "hours" in body["error"]


async def test_a_state_change_without_the_csrf_header_or_from_another_origin_is_refused(
    console: Console, http: aiohttp.ClientSession
) -> None:
    url = f"{console.url}api/review"
    async with http.post(url, json={"alert": "x"}) as response:
        assert response.status == 403 and "X-CSRF-Token" in (await response.json())["error"]
    status, body = await post(http, console, "/api/review", {"alert": "x"}, Origin="https://evil.example")
    assert (status, body["error"]) == (403, "cross-origin request refused")


async def test_a_rebound_host_name_cannot_read_an_open_console(console: Console, http: aiohttp.ClientSession) -> None:
    status, _headers, body = await get(http, console, "/api/alerts", headers={"Host": "evil.example"})
    assert status == 421 and "loopback" in body["error"]


async def test_search_and_filters_answer_through_the_api(console: Console, http: aiohttp.ClientSession) -> None:
    _s, _h, everything = await get(http, console, "/api/alerts")
    assert everything["total"] == 3
    _s, _h, hindi = await get(http, console, "/api/alerts?q=समझौते")
    assert [e["title"] for e in hindi["entries"]] == ["मछली पकड़ने का समझौता"]
    _s, _h, english = await get(http, console, "/api/alerts?q=fisheries")
    assert [e["title"] for e in english["entries"]] == ["Fisheries pact for Rason port"]
    _s, _h, old = await get(http, console, "/api/alerts?novelty=reference")
    assert [e["title"] for e in old["entries"]] == ["Trade fair in Pyongyang"]
    _s, _h, paged = await get(http, console, "/api/alerts?limit=2")
    assert len(paged["entries"]) == 2 and paged["next_before"] is not None


async def test_review_marks_an_alert_and_the_reviewed_filter_finds_it(
    console: Console, http: aiohttp.ClientSession
) -> None:
    _s, _h, page = await get(http, console, "/api/alerts?q=fisheries")
    alert_id = page["entries"][0]["alert_id"]
    assert await post(http, console, "/api/review", {"alert": alert_id}) == (
        200, {"ok": True, "reviewed": True, "alert": alert_id}
    )  # fmt: skip
    _s, _h, reviewed = await get(http, console, "/api/alerts?reviewed=true")
    assert [e["alert_id"] for e in reviewed["entries"]] == [alert_id]
    await post(http, console, "/api/review", {"alert": alert_id, "reviewed": False})
    _s, _h, after = await get(http, console, "/api/alerts?reviewed=true")
    assert after["entries"] == []


async def test_a_snooze_shows_in_the_facets_until_lifted(console: Console, http: aiohttp.ClientSession) -> None:
    status, body = await post(http, console, "/api/snooze", {"rule": "russia-dprk-agreement", "hours": 1})
    assert status == 200 and body["until"]
    _s, _h, facets = await get(http, console, "/api/facets")
    assert list(facets["snoozed"]) == ["russia-dprk-agreement"]
    await post(http, console, "/api/snooze", {"rule": "russia-dprk-agreement", "hours": 0})
    _s, _h, facets = await get(http, console, "/api/facets")
    assert facets["snoozed"] == {}


async def events_of(http: aiohttp.ClientSession, console: Console, count: int, **headers: str) -> list[tuple[str, str]]:
    """The first ``count`` (id, event) pairs of the stream."""
    got: list[tuple[str, str]] = []
    async with http.get(f"{console.url}api/events", headers=headers) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        assert response.headers["Content-Security-Policy"] == CSP
        current = ""
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("id: "):
                current = line[4:]
            elif line.startswith("event: "):
                got.append((current, line[7:]))
                if len(got) == count:
                    return got
    return got


async def test_the_event_stream_replays_what_a_page_missed(console: Console, http: aiohttp.ClientSession) -> None:
    replayed = await asyncio.wait_for(events_of(http, console, 2, **{"Last-Event-ID": "1"}), 5)
    assert replayed == [("2", "alert"), ("3", "alert")]
    async with http.get(f"{console.url}api/events?after=2") as response:
        chunk = await asyncio.wait_for(response.content.readuntil(b"event: alert\n"), 5)
    assert b"id: 3\n" in chunk and b"id: 2\n" not in chunk


async def test_a_streamed_alert_is_the_alert_as_the_api_lists_it(console: Console, http: aiohttp.ClientSession) -> None:
    """The stream splices each alert's payload in as archived (not encoded again): the same JSON value."""
    _status, _headers, listed = await get(http, console, "/api/alerts")
    async with http.get(f"{console.url}api/events", headers={"Last-Event-ID": "0"}) as response:
        chunk = await asyncio.wait_for(response.content.readuntil(b"id: 3\nevent: alert\ndata: "), 5)
        data = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
    assert b"id: 1\n" in chunk and b"id: 2\n" in chunk
    streamed = json.loads(data)
    assert "payload_json" not in streamed and "payload_json" not in listed["entries"][0]
    assert streamed == next(e for e in listed["entries"] if e["seq"] == 3)


async def test_a_stream_resumed_past_the_newest_seq_gets_the_next_live_alert(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    (tmp_path / "state").mkdir()
    console = Console(WebSettings(port=free_port()), tmp_path / "state")
    assert await console.start()
    try:  # a page that saw seq 1000 of an archive since reset: the next alert (seq 1) must still reach it
        async with http.get(f"{console.url}api/events", headers={"Last-Event-ID": "1000"}) as page:
            assert await asyncio.wait_for(page.content.readuntil(b": connected\n\n"), 5)
            await asyncio.to_thread(commit_one, tmp_path, EN)
            chunk = await asyncio.wait_for(page.content.readuntil(b"\n\n"), 5)
        assert chunk.startswith(b"id: 1\nevent: alert\n")
    finally:
        await console.stop()


async def test_a_bad_last_event_id_is_one_log_line_and_the_stream_goes_live(
    console: Console, http: aiohttp.ClientSession, logged: LogLines
) -> None:
    async with http.get(f"{console.url}api/events", headers={"Last-Event-ID": "²"}) as response:
        assert response.status == 200
        assert await asyncio.wait_for(response.content.readuntil(b": connected\n\n"), 5)
    [line] = [line for line in logged if line["event"] == events.WEB_BAD_REQUEST]
    assert "Last-Event-ID" in line["reason"]


async def test_the_feed_of_a_rule_is_atom_with_its_alerts(console: Console, http: aiohttp.ClientSession) -> None:
    status, headers, body = await get(http, console, "/feeds/russia-dprk-agreement.atom")
    assert status == 200 and headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(body)
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 3


async def test_a_story_and_an_article_are_served_and_unknown_ones_are_404(
    console: Console, http: aiohttp.ClientSession
) -> None:
    _s, _h, page = await get(http, console, "/api/alerts?q=fisheries")
    first = page["entries"][0]
    status, _h, story = await get(http, console, f"/api/stories/{first['story_id']}")
    assert status == 200 and story["articles"][0]["kind"] == "opening"
    status, _h, article = await get(http, console, f"/api/articles/{first['article_id']}")
    assert status == 200 and "fisheries agreement" in article["text"]
    assert (await get(http, console, "/stories/nope"))[0] == 200  # the page shell; its script says not found
    assert (await get(http, console, "/api/stories/nope"))[0] == 404


async def test_a_non_loopback_address_without_a_password_or_token_keeps_the_console_off(
    state: Path, logged: LogLines
) -> None:
    console = Console(WebSettings(host="0.0.0.0", port=free_port()), state)
    assert not await console.start()
    assert [line["event"] for line in logged if line["log_level"] == "error"] == [events.WEB_REFUSED]


async def test_a_taken_port_is_one_log_line_and_no_console(state: Path, logged: LogLines) -> None:
    first = Console(WebSettings(port=free_port()), state)
    assert await first.start()
    try:
        second = Console(WebSettings(port=first.settings.port), state)
        assert not await second.start()
    finally:
        await first.stop()
    [line] = [line for line in logged if line["log_level"] == "error"]
    assert line["event"] == events.WEB_UNAVAILABLE and "address already in use" in line["error"].lower()


@pytest.fixture
async def guarded(state: Path, tmp_path: Path) -> AsyncIterator[Console]:
    (tmp_path / "password").write_text("correct horse\n")
    (tmp_path / "token").write_text("tok-123\n")
    settings = WebSettings(port=free_port(), password_file=tmp_path / "password", token_file=tmp_path / "token")
    console = Console(settings, state)
    assert await console.start()
    yield console
    await console.stop()


async def test_with_a_password_the_console_needs_a_login_and_its_cookie_is_httponly_and_strict(
    guarded: Console, http: aiohttp.ClientSession
) -> None:
    status, headers, _body = await get(http, guarded, "/")
    assert (status, headers["Location"]) == (303, "/login")
    status, _headers, body = await get(http, guarded, "/api/alerts")
    assert status == 401 and "authentication required" in body["error"]
    login = f"{guarded.url}login"
    async with http.post(login, data={"password": "wrong"}, allow_redirects=False) as response:
        assert response.headers["Location"] == "/login?failed=1"
    async with http.post(login, data={"password": "correct horse"}, allow_redirects=False) as response:
        assert response.headers["Location"] == "/"
        cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("newsmon_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _headers, page = await get(http, guarded, "/api/alerts")
    assert status == 200 and page["total"] == 3


async def login(http: aiohttp.ClientSession, console: Console, password: str, **headers: str) -> tuple[int, Any]:
    async with http.post(
        f"{console.url}login", data={"password": password}, headers=headers, allow_redirects=False
    ) as r:
        return r.status, r.headers


async def test_the_login_form_passes_with_origin_null_only_when_the_browser_says_same_origin(
    guarded: Console, http: aiohttp.ClientSession
) -> None:
    status, _headers = await login(http, guarded, "correct horse", Origin="null")
    assert status == 403  # a null origin alone could be any sandboxed page
    status, _headers = await login(http, guarded, "correct horse", Origin="null", **{"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    status, headers = await login(http, guarded, "correct horse", Origin="null", **{"Sec-Fetch-Site": "same-origin"})
    assert (status, headers["Location"]) == (303, "/")
    status, body = await post(
        http, guarded, "/api/review", {"alert": "x"}, Origin="null", **{"Sec-Fetch-Site": "same-origin"}
    )
    assert (status, body["error"]) == (403, "cross-origin request refused")  # never for the API


async def test_five_failed_logins_in_a_minute_are_answered_429_with_one_log_line(
    guarded: Console, http: aiohttp.ClientSession, logged: LogLines
) -> None:
    for _ in range(5):
        assert (await login(http, guarded, "wrong"))[0] == 303
    status, _headers = await login(http, guarded, "correct horse")  # even the right password, for a minute
    assert status == 429
    assert (await login(http, guarded, "wrong"))[0] == 429
    assert [line["client"] for line in logged if line["event"] == events.WEB_LOGIN_THROTTLED] == ["127.0.0.1"]


@pytest.fixture
async def proxied(state: Path, tmp_path: Path) -> AsyncIterator[Console]:
    """A console behind a TLS proxy that says so in X-Forwarded-* headers."""
    (tmp_path / "password").write_text("correct horse\n")
    settings = WebSettings(port=free_port(), password_file=tmp_path / "password", trusted_proxy=True)
    console = Console(settings, state)
    assert await console.start()
    yield console
    await console.stop()


PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "news.example", "X-Forwarded-For": "203.0.113.7"}


async def test_behind_a_trusted_tls_proxy_the_browser_origin_passes_and_cookies_are_secure(
    proxied: Console, guarded: Console
) -> None:
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[URL(proxied.url or "")])  # as the proxy would
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        await behind_the_proxy(proxied, guarded, http)


async def behind_the_proxy(proxied: Console, guarded: Console, http: aiohttp.ClientSession) -> None:
    origin = {"Origin": "https://news.example", **PROXY}
    status, headers = await login(http, proxied, "correct horse", **origin)
    assert status == 303 and "Secure" in headers["Set-Cookie"]
    _s, _h, page = await get(http, proxied, "/api/alerts", headers=PROXY)
    alert_id = page["entries"][0]["alert_id"]
    assert (await post(http, proxied, "/api/review", {"alert": alert_id, "reviewed": False}, **origin))[0] == 200
    _s, _h, feed = await get(http, proxied, "/feeds/russia-dprk-agreement.atom", headers=PROXY)
    assert b'href="https://news.example/feeds/russia-dprk-agreement.atom"' in feed
    status, _headers = await login(http, guarded, "correct horse", **origin)  # no trusted_proxy: not believed
    assert status == 403


async def test_the_login_throttle_counts_the_address_the_trusted_proxy_names(
    proxied: Console, http: aiohttp.ClientSession
) -> None:
    for _ in range(5):
        assert (await login(http, proxied, "wrong", **PROXY))[0] == 303
    assert (await login(http, proxied, "correct horse", **PROXY))[0] == 429
    other = {**PROXY, "X-Forwarded-For": "198.51.100.9"}
    assert (await login(http, proxied, "correct horse", **other))[0] == 303


async def test_a_bearer_token_reads_and_reviews_without_a_session(
    guarded: Console, http: aiohttp.ClientSession
) -> None:
    bearer = {"Authorization": "Bearer tok-123"}
    status, _headers, page = await get(http, guarded, "/api/alerts", headers=bearer)
    assert status == 200
    alert_id = page["entries"][0]["alert_id"]
    async with http.post(f"{guarded.url}api/review", json={"alert": alert_id, "reviewed": False}, headers=bearer) as r:
        assert r.status == 200
    status, _headers, _body = await get(http, guarded, "/api/alerts", headers={"Authorization": "Bearer nope"})
    assert status == 401


async def test_a_retro_run_lists_what_fires_and_never_sends_an_alert_twice(
    console: Console, http: aiohttp.ClientSession
) -> None:
    status, found = await post(http, console, "/api/retro", {"since": "2000-01-01"})
    assert status == 200 and (found["articles"], found["fired"]) == (3, 3)
    assert {rule["rule"] for result in found["results"] for rule in result["rules"]} == {"russia-dprk-agreement"}
    status, sent = await post(http, console, "/api/retro", {"since": "2000-01-01", "publish": True})
    assert (status, sent["published"], sent["already_sent"]) == (200, 0, 3)  # all three went out live


async def test_a_retro_run_with_a_broken_watchlist_or_bad_days_is_a_400(
    console: Console, http: aiohttp.ClientSession
) -> None:
    status, body = await post(http, console, "/api/retro", {"since": "2000-01-01", "watchlist": "rules: [oops"})
    assert status == 400 and body["error"].startswith("watchlist: pasted watchlist")
    assert "retro.yaml" not in body["error"] and "/" not in body["error"]  # no server path in the answer
    bad_rule = "rules:\n  - id: x\n    title: X\n    severity: loud\n"
    status, body = await post(http, console, "/api/retro", {"since": "2000-01-01", "watchlist": bad_rule})
    assert status == 400 and body["error"].startswith("watchlist: pasted watchlist") and "/" not in body["error"]
    assert sorted(p.name for p in console.db_path.parent.iterdir() if p.name.startswith("retro-")) == []
    status, body = await post(http, console, "/api/retro", {"since": "2026-05-02", "until": "2026-05-01"})
    assert (status, body["error"]) == (400, "since: after until")
    status, body = await post(http, console, "/api/retro", {"until": "2026-05-01"})
    assert (status, body["error"]) == (400, "since: required (YYYY-MM-DD)")


def commit_one(workdir: Path, text: str, outlet: str = "", *, stories: bool = False) -> None:
    """One article through the daemon's batch steps (their own event loop: run on a thread of its own),
    from the ``outlet`` folder of the inbox if one is named."""
    with BatchRunner(workdir, load_engine([WATCHLISTS]), stories=stories) as runner:
        folder = runner.inbox / outlet
        folder.mkdir(exist_ok=True)
        (folder / "late.txt").write_text(text)
        runner.process([str(folder / "late.txt")])


async def test_an_alert_committed_while_pages_listen_reaches_every_page(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    (tmp_path / "state").mkdir()  # as the daemon leaves it before its console starts
    console = Console(WebSettings(port=free_port()), tmp_path / "state")
    assert await console.start()
    try:
        pages = [await http.get(f"{console.url}api/events") for _ in range(3)]
        for page in pages:
            assert await asyncio.wait_for(page.content.readuntil(b": connected\n\n"), 5)
        await asyncio.to_thread(commit_one, tmp_path, EN)
        for page in pages:
            chunk = await asyncio.wait_for(page.content.readuntil(b"\n\n"), 5)
            assert chunk.startswith(b"id: 1\nevent: alert\ndata: {")
            assert json.loads(chunk.split(b"data: ", 1)[1])["title"] == "Fisheries pact for Rason port"
            page.close()
    finally:
        await console.stop()


async def test_an_article_joining_a_story_silently_is_a_story_event_with_its_outlets(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    (tmp_path / "state").mkdir()
    console = Console(WebSettings(port=free_port()), tmp_path / "state")
    assert await console.start()
    try:
        async with http.get(f"{console.url}api/events") as page:
            assert await asyncio.wait_for(page.content.readuntil(b": connected\n\n"), 5)
            await asyncio.to_thread(commit_one, tmp_path, EN, "wire-a", stories=True)
            opened = await asyncio.wait_for(page.content.readuntil(b"\n\n"), 5)
            assert opened.startswith(b"id: 1\nevent: alert\n")
            story_id = json.loads(opened.split(b"data: ", 1)[1])["story_id"]
            copy = EN.replace("a new", "a new bilateral")  # a lightly edited copy from another outlet
            await asyncio.to_thread(commit_one, tmp_path, copy, "wire-b", stories=True)
            told = await asyncio.wait_for(page.content.readuntil(b"\n\n"), 5)
        assert told.startswith(b"event: story\ndata: ")  # no id: a page's place in the alert stream stays
        now = json.loads(told.split(b"data: ", 1)[1])
        assert (now["story_id"], now["articles"], now["outlets"]) == (story_id, 2, 2)
    finally:
        await console.stop()


async def test_the_feed_holds_back_what_mqtt_held_back_and_a_rule_not_fired_yet_has_a_feed_and_a_snooze(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    (tmp_path / "state").mkdir()
    await asyncio.to_thread(commit_one, tmp_path, EN)
    history = History(tmp_path / "state" / DB_NAME)
    history.snooze("russia-dprk-agreement", datetime.now(UTC) + timedelta(hours=1))
    history.close()
    await asyncio.to_thread(
        commit_one, tmp_path, REFERENCE.replace("Trade fair", "Port fair") + "A new pact was signed.\n"
    )
    engine_rules = load_engine([WATCHLISTS]).rule_ids
    console = Console(WebSettings(port=free_port()), tmp_path / "state", rules=lambda: engine_rules)
    assert await console.start()
    try:
        _s, _h, page = await get(http, console, "/api/alerts")
        assert sorted(e["delivery"] for e in page["entries"]) == ["sent", "snoozed"]
        _s, _h, body = await get(http, console, "/feeds/russia-dprk-agreement.atom")
        entries = ET.fromstring(body).findall(f"{ATOM}entry")
        assert [e.findtext(f"{ATOM}title") for e in entries] == ["[high] Fisheries pact for Rason port"]
        quiet = next(rule for rule in sorted(engine_rules) if rule not in {e["rule"] for e in page["entries"]})
        status, _h, body = await get(http, console, f"/feeds/{quiet}.atom")
        updated = datetime.fromisoformat(ET.fromstring(body).findtext(f"{ATOM}updated") or "")
        assert status == 200 and abs((datetime.now(UTC) - updated).total_seconds()) < 60
        status, answer = await post(http, console, "/api/snooze", {"rule": quiet, "hours": 1})
        assert (status, answer["rule"]) == (200, quiet)
    finally:
        await console.stop()
