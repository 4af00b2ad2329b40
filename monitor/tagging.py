"""``monitor tag``: read each file named, tag it and print the result, the explanation or JSON; a
file that is not an article is reported and the others go on. With stories on, ``--json`` groups the files
into stories as the daemon would, in the articles' date order (ties by name), and prints them in the order
given."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.articles import Article, ArticleError, parse_article
from monitor.engine import Engine
from monitor.engine.result import TagResult
from monitor.reading import read_file
from monitor.report import explanation_json, render_explanation, render_result, result_json
from monitor.stories import Placement, StoryBook
from monitor.story_features import article_time, story_article
from monitor.terminal import console, json_line, safe_text


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
    tagged: list[tuple[str, Article, TagResult] | tuple[str, ArticleError]] = []
    for name in names:
        try:
            # no containment (the files are named on the command line), but the size and FIFO guards hold
            article = parse_article(name, read_file(Path(name), None, max_bytes))
        except ArticleError as exc:
            tagged.append((name, exc))
            continue
        if explain:
            tagged.append((name, article, TagResult()))
        else:
            tagged.append((name, article, engine.tag(article.text)))
    placements = _placements(tagged, stories) if as_json and not explain else {}
    for entry in tagged:
        if len(entry) == 2:
            name, problem = entry
            if as_json:
                print(json_line({"path": name, "error": problem.message}))
            else:
                print(safe_text(f"{name}: error: {problem.message}", one_line=True), file=sys.stderr)
            status = 1
            continue
        name, article, result = entry
        if explain:
            explanation = engine.explain(article.text)
            if as_json:
                print(json_line(explanation_json(article, explanation, engine.version)))
            else:
                out.print(render_explanation(name, article.text, explanation))
        elif as_json:
            doc = result_json(article, result, engine.version)
            if stories is not None:
                doc["story"] = _story_json(placements.get(name))
            print(json_line(doc))
        else:
            out.print(render_result(name, article.text, result))
    return status


def _placements(
    tagged: Sequence[tuple[str, Article, TagResult] | tuple[str, ArticleError]], stories: StoryBook | None
) -> dict[str, Placement | None]:
    """Each article's story, placed in date order (ties by name) as a feed would bring them."""
    if stories is None:
        return {}
    now = datetime.now(UTC)
    features = [
        story_article(entry[1], entry[2], article_time(entry[1], None, now)) for entry in tagged if len(entry) == 3
    ]
    names = [entry[0] for entry in tagged if len(entry) == 3]
    order = sorted(range(len(features)), key=lambda i: (features[i].at, names[i]))
    return {names[i]: stories.place(features[i]) for i in order}


def _story_json(placement: Placement | None) -> dict[str, Any] | None:
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
