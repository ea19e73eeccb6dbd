"""Helpers shared by the tests."""

import html
import re


def page_text(response) -> str:
    """A page's visible text as a person reads it: tags and scripts gone, entities decoded,
    whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip())
