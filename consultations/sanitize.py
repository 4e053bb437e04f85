"""The one place that turns user-written text into safe HTML (bleach), and HTML back into text."""

import re
import threading
from functools import partial
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter, build_url_re

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
)
# Consultation descriptions are written by moderators and may also carry headings.
DESCRIPTION_TAGS = ALLOWED_TAGS | {"h2", "h3"}
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Blocks that an author's HTML may hold at the top level; text outside them becomes paragraphs.
_BLOCK_TAGS = frozenset({"p", "ul", "ol", "li", "blockquote", "pre", "h2", "h3"})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# Only http(s) URLs and www. hosts become links; bleach's default would admit any scheme.
_URL_RE = build_url_re(protocols=["http", "https"])


def _safe_href(href: str) -> bool:
    # bleach has already dropped disallowed schemes (including entity-obfuscated ones); this
    # second look also covers links that linkify creates after sanitising. Protocol-relative
    # and scheme-less links are refused too: a comment links to whole addresses only.
    href = href.strip()
    return bool(href) and urlsplit(href).scheme.lower() in ALLOWED_PROTOCOLS


def _link_attributes(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not _safe_href(href):
        return None  # drops the <a>, keeps its text
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


def _text(data: str) -> dict:
    return {"type": "Characters", "data": data}


def _tag(kind: str, name: str) -> dict:
    return {"type": kind, "name": name, "namespace": None, "data": {}}


def _merge_text(tokens: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for token in tokens:
        if token["type"] in ("Characters", "SpaceCharacters"):
            if merged and merged[-1]["type"] == "Characters":
                merged[-1] = _text(merged[-1]["data"] + token["data"])
            else:
                merged.append(_text(token["data"]))
        else:
            merged.append(token)
    return merged


def _with_breaks(text: str) -> list[dict]:
    """Single newlines become <br> (kept as a newline after it, for readable source)."""
    lines = text.split("\n")
    tokens = [_text(lines[0])] if lines[0] else []
    for line in lines[1:]:
        tokens += [_tag("EmptyTag", "br"), _text("\n" + line)]
    return tokens


def _trim(tokens: list[dict]) -> list[dict]:
    tokens = list(tokens)
    while tokens and tokens[0]["type"] == "Characters" and not tokens[0]["data"].strip():
        tokens.pop(0)
    while tokens and tokens[-1]["type"] == "Characters" and not tokens[-1]["data"].strip():
        tokens.pop()
    if tokens and tokens[0]["type"] == "Characters":
        tokens[0] = _text(tokens[0]["data"].lstrip())
    if tokens and tokens[-1]["type"] == "Characters":
        tokens[-1] = _text(tokens[-1]["data"].rstrip())
    return tokens


def _paragraphs(run: list[dict]) -> list[list[dict]]:
    """Top-level text and inline markup as <p> blocks: split at blank lines, <br> at newlines."""
    run = _merge_text(run)
    if any(t["type"] == "StartTag" and t["name"] in _BLOCK_TAGS for t in run):
        # A block inside inline markup (<b>x<p>y</p></b>) cannot go in a <p>: keep it as it is.
        return [run] if _trim(run) else []
    paragraphs: list[list[dict]] = [[]]
    depth = 0  # inside inline elements, blank lines cannot end a paragraph
    for token in run:
        kind = token["type"]
        if kind == "Characters" and depth == 0:
            for index, part in enumerate(_PARAGRAPH_BREAK.split(token["data"])):
                if index:
                    paragraphs.append([])
                paragraphs[-1].append(_text(part))
            continue
        depth += {"StartTag": 1, "EndTag": -1}.get(kind, 0)
        paragraphs[-1].append(token)
    blocks = []
    for paragraph in map(_trim, paragraphs):
        if paragraph:
            blocks.append([_tag("StartTag", "p"), *_line_breaks(paragraph), _tag("EndTag", "p")])
    return blocks


def _line_breaks(tokens: list[dict]) -> list[dict]:
    """Newlines in text become <br>, except inside <code>, which keeps them."""
    result: list[dict] = []
    in_code = 0
    for token in tokens:
        if token["type"] == "Characters" and not in_code:
            result += _with_breaks(token["data"])
            continue
        if token.get("name") == "code":
            in_code += {"StartTag": 1, "EndTag": -1}.get(token["type"], 0)
        result.append(token)
    return result


class ParagraphFilter(Filter):
    """Plain-text line breaks become paragraphs and <br>, on parsed tokens (after sanitising).

    Working on tokens, not on the raw string, means attribute values and the author's own
    blocks (paragraphs, lists, quotes, <pre>) are never rewritten, and the output sanitises
    to itself again.
    """

    def __iter__(self):
        blocks: list[list[dict]] = []
        run: list[dict] = []
        block: list[dict] | None = None
        block_name, block_depth, inline_depth = "", 0, 0
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            if block is not None:
                block.append(token)
                if name == block_name and kind in ("StartTag", "EndTag"):
                    block_depth += 1 if kind == "StartTag" else -1
                    if block_depth == 0:
                        blocks.append(block)
                        block = None
                continue
            if kind == "StartTag" and name in _BLOCK_TAGS and inline_depth == 0:
                blocks += _paragraphs(run)
                run, block, block_name, block_depth = [], [token], name, 1
                continue
            if kind == "StartTag":
                inline_depth += 1
            elif kind == "EndTag":
                inline_depth -= 1
            run.append(token)
        if block is not None:
            blocks.append(block)
        blocks += _paragraphs(run)
        for index, tokens in enumerate(blocks):
            if index:
                yield _text("\n")
            yield from tokens


def _cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            ParagraphFilter,
            partial(
                LinkifyFilter,
                callbacks=[_link_attributes],
                url_re=_URL_RE,
                parse_email=True,
                skip_tags={"pre", "code"},
            ),
        ],
    )


# A Cleaner keeps its parser's state between calls and is not thread-safe (bleach: "Create a
# separate cleaner per thread"): gunicorn's threads (gunicorn.conf.py) each build their own.
_cleaners = threading.local()


def _thread_cleaner(kind: str, tags: frozenset[str]) -> bleach.Cleaner:
    cleaner = getattr(_cleaners, kind, None)
    if cleaner is None:
        cleaner = _cleaner(tags)
        setattr(_cleaners, kind, cleaner)
    return cleaner


def _normalise_newlines(text: str) -> str:
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def sanitize_comment(text: str) -> str:
    """Safe HTML for a comment body, from what the author typed (text or a little HTML)."""
    return _thread_cleaner("comment", ALLOWED_TAGS).clean(_normalise_newlines(text))


def sanitize_description(text: str) -> str:
    """Safe HTML for a consultation description (moderators' rich text)."""
    return _thread_cleaner("description", DESCRIPTION_TAGS).clean(_normalise_newlines(text))


class _TextExtractor(HTMLParser):
    _BREAKS_BEFORE = {"p", "ul", "ol", "blockquote", "pre", "h2", "h3"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href_stack: list[str] = []
        self._link_start = 0
        self._in_pre = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "pre":
            self._in_pre += 1
        if tag in self._BREAKS_BEFORE:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "a":
            self._href_stack.append(dict(attrs).get("href") or "")
            self._link_start = len(self.parts)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_pre = max(0, self._in_pre - 1)
        elif tag == "a" and self._href_stack:
            href = self._href_stack.pop()
            label = "".join(self.parts[self._link_start :]).strip().rstrip("/")
            bare = href.removeprefix("mailto:").split("://", 1)[-1].rstrip("/")
            if href and label not in {href.rstrip("/"), bare}:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        # Outside <pre>, source line breaks are just spaces, as a browser shows them.
        self.parts.append(data if self._in_pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Plain text of stored (already sanitised) HTML: paragraphs, list items, link targets."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


_AUTOLINK = re.compile(r'<a href="(?:mailto:)?([^"]+)" rel="[^"]*">\1</a>')
_REL = re.compile(r' rel="[^"]*"')
# "<" that cannot start a tag is safe to show as itself.
_LONE_LT = re.compile(r"&lt;(?![A-Za-z/!?])")


def editable_text(html: str) -> str:
    """What an author would type to get this stored body back: for the edit form.

    Paragraphs become blank lines and <br> newlines; links that linkify made become bare URLs
    again; other markup stays as written. Sanitising the result gives the same body.
    """
    text = _AUTOLINK.sub(lambda m: unescape(m.group(1)), html)
    text = re.sub(r"<br>\n?", "\n", text)
    text = re.sub(r"\s*</p>\s*", "\n\n", text)
    text = re.sub(r"\s*<p>\s*", "\n\n", text)
    # Entities go back to the characters typed, except "&lt;" that would start a tag.
    text = _REL.sub("", text)
    text = _LONE_LT.sub("<", text).replace("&gt;", ">")
    text = text.replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
