"""``monitor tag``: read each file named, tag it and print the result, the explanation or JSON; a
file that is not an article is reported and the others go on. With stories on, ``--json`` groups the files
into stories as the daemon would, in the articles' date order (ties by name), and prints them in the order
given."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.articles import Article, ArticleError, parse_article
from monitor.dating import ArticleTime, article_time
from monitor.engine import Engine
from monitor.engine.result import TagResult
from monitor.reading import read_file_timed
from monitor.report import explanation_json, render_explanation, render_result, result_json
from monitor.stories import StoryBook
from monitor.story_features import story_article
from monitor.story_model import Placement
from monitor.terminal import console, json_line, safe_text


@dataclass(frozen=True, slots=True)
class _Tagged:
    name: str
    article: Article
    dated: ArticleTime | None
    #: empty for --explain (the explanation is made when printed)
    result: TagResult


def tag_files(
    engine: Engine,
    names: Sequence[str],
    *,
    max_bytes: int,
    as_json: bool,
    explain: bool,
    stories: StoryBook | None = None,
) -> int:
    """Exit code 0, or 1 when a file could not be read as an article."""
    out = console()
    status = 0
    tagged: list[_Tagged | tuple[str, ArticleError]] = []
    for name in names:
        try:
            # no containment (the files are named on the command line), but the size and FIFO guards hold
            data, mtime = read_file_timed(Path(name), None, max_bytes)
            article = parse_article(name, data)
        except ArticleError as exc:
            tagged.append((name, exc))
            continue
        dated = article_time(article, mtime)
        result = TagResult() if explain else engine.tag(article.text, published=_day(dated))
        tagged.append(_Tagged(name, article, dated, result))
    placements = _placements(tagged, stories) if as_json and not explain else {}
    for index, entry in enumerate(tagged):
        if isinstance(entry, tuple):
            name, problem = entry
            if as_json:
                print(json_line({"path": name, "error": problem.message}))
            else:
                print(safe_text(f"{name}: error: {problem.message}", one_line=True), file=sys.stderr)
            status = 1
            continue
        article = entry.article
        if explain:
            explanation = engine.explain(article.text, published=_day(entry.dated))
            if as_json:
                print(json_line(explanation_json(article, explanation, engine.version)))
            else:
                out.print(render_explanation(entry.name, article.text, explanation))
        elif as_json:
            doc = result_json(article, entry.result, engine.version)
            doc["story"] = story_json(placements.get(index))  # null with stories off: the contract holds
            print(json_line(doc))
        else:
            out.print(render_result(entry.name, article.text, entry.result))
    return status


def _day(dated: ArticleTime | None) -> dt.date | None:
    return None if dated is None else dated.day


def _placements(
    tagged: Sequence[_Tagged | tuple[str, ArticleError]], stories: StoryBook | None
) -> dict[int, Placement | None]:
    """Each article's story by its position in ``tagged`` (a file named twice is two articles), placed in
    date order (ties by name) as a feed would bring them."""
    if stories is None:
        return {}
    now = datetime.now(UTC)
    articles = [(index, entry) for index, entry in enumerate(tagged) if not isinstance(entry, tuple)]
    features = [
        story_article(entry.article, entry.result, entry.dated.when if entry.dated else now) for _, entry in articles
    ]
    order = sorted(range(len(features)), key=lambda i: (features[i].at, articles[i][1].name, i))
    return {articles[i][0]: stories.place(features[i]) for i in order}


def story_json(placement: Placement | None) -> dict[str, Any] | None:
    """An article's story as `monitor tag --json` prints it (null: no story)."""
    if placement is None:
        return None
    story = placement.story
    return {
        "id": story.id,
        "kind": placement.kind,
        "how": placement.how,
        "opened_at": story.opened_at.isoformat(),
        "articles": story.articles,
        "outlets": sorted(story.outlets),
        "adds": list(placement.adds),
    }
