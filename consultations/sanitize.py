"""The one place that turns user-written text into safe HTML (bleach), and HTML back into text."""

import re
from functools import partial
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import LinkifyFilter, build_url_re

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
)
# Consultation descriptions are written by moderators and may also carry headings.
DESCRIPTION_TAGS = ALLOWED_TAGS | {"h2", "h3"}
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# Blocks that need no <p> around them when the author wrote them as HTML.
_BLOCK_START = re.compile(r"^\s*<(p|ul|ol|blockquote|pre|h2|h3)[\s>]", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_PRE_BLOCK = re.compile(r"<pre[\s>].*?(?:</pre\s*>|\Z)", re.IGNORECASE | re.DOTALL)
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


def _cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            partial(
                LinkifyFilter,
                callbacks=[_link_attributes],
                url_re=_URL_RE,
                parse_email=True,
                skip_tags={"pre", "code"},
            )
        ],
    )


_COMMENT_CLEANER = _cleaner(ALLOWED_TAGS)
_DESCRIPTION_CLEANER = _cleaner(DESCRIPTION_TAGS)


def _paragraphs(text: str) -> str:
    """Plain-text line breaks become paragraphs (blank lines) and <br> (single newlines)."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    # <pre> keeps its own line breaks: set those blocks aside while splitting paragraphs.
    preformatted: list[str] = []

    def set_aside(match: re.Match) -> str:
        preformatted.append(match.group(0))
        return f"\n\n\x00{len(preformatted) - 1}\x00\n\n"

    text = _PRE_BLOCK.sub(set_aside, text)
    blocks = []
    for block in _PARAGRAPH_BREAK.split(text):
        block = block.strip()
        if not block:
            continue
        if block.startswith("\x00") and block.endswith("\x00"):
            blocks.append(preformatted[int(block.strip("\x00"))])
        elif _BLOCK_START.match(block):
            blocks.append(block)
        else:
            blocks.append("<p>" + block.replace("\n", "<br>\n") + "</p>")
    return "\n".join(blocks)


def sanitize_comment(text: str) -> str:
    """Safe HTML for a comment body, from what the author typed (text or a little HTML)."""
    return _COMMENT_CLEANER.clean(_paragraphs(text))


def sanitize_description(text: str) -> str:
    """Safe HTML for a consultation description (moderators' rich text)."""
    return _DESCRIPTION_CLEANER.clean(_paragraphs(text))


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
