"""``monitor tag``: read each file named, tag it and print the result, the explanation or JSON; a
file that is not an article is reported and the others go on."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from monitor.articles import ArticleError, parse_article
from monitor.dating import article_time
from monitor.engine import Engine
from monitor.reading import read_file_timed
from monitor.report import explanation_json, render_explanation, render_result, result_json
from monitor.terminal import console, json_line, safe_text


def tag_files(engine: Engine, names: Sequence[str], *, max_bytes: int, as_json: bool, explain: bool) -> int:
    """Exit code 0, or 1 when a file could not be read as an article."""
    out = console()
    status = 0
    for name in names:
        try:
            # no containment (the files are named on the command line), but the size and FIFO guards hold
            data, mtime = read_file_timed(Path(name), None, max_bytes)
            article = parse_article(name, data)
        except ArticleError as exc:
            if as_json:
                print(json_line({"path": name, "error": exc.message}))
            else:
                print(safe_text(f"{name}: error: {exc.message}", one_line=True), file=sys.stderr)
            status = 1
            continue
        dated = article_time(article, mtime)
        published = None if dated is None else dated.day
        if explain:
            explanation = engine.explain(article.text, published=published)
            if as_json:
                print(json_line(explanation_json(article, explanation, engine.version)))
            else:
                out.print(render_explanation(name, article.text, explanation))
            continue
        result = engine.tag(article.text, published=published)
        if as_json:
            print(json_line(result_json(article, result, engine.version)))
        else:
            out.print(render_result(name, article.text, result))
    return status
