"""The one place that turns user-written text into safe HTML (bleach), and HTML back into text."""

import re
import threading
from dataclasses import dataclass
from functools import partial
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import BleachHTMLParser, Filter
from bleach.linkifier import TLDS, LinkifyFilter
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
# bleach's linkify patterns, changed in two ways: only http(s) URLs and www. hosts become links
# (bleach's default would admit any scheme), and a match may start only where a host or an
# address can begin, not inside a run of the characters they are made of. bleach's own patterns
# try every position of such a run and scan to its end from each, so a 20,000-character "word"
# ("aaaa...", "a-.a-.", "((((") cost seconds; these scan each run once. Possessive quantifiers
# are used only where giving characters back can never lead to a match.
_TLD_ALTERNATIVES = "|".join(sorted(TLDS))  # as bleach: "co" is retried as "com" before \b
_URL_RE = re.compile(
    r"(?<!\()\(*+"  # opening parentheses, from the first of a run (stripped again by bleach)
    # A host begins a run of host characters, or follows a hyphen that begins one ("-www.");
    # after any other hyphen, only a scheme may begin ("x-https://").
    r"\b(?:(?<![@.\w-])|(?<=-)(?<![@.\w-]-)|(?<=-)(?=https?:))"
    r"(?:(?:https?):/{0,3}(?:(?:\w+:)?\w+@)?)?"  # http://user:password@
    r"(?:[\w-]+\.)+(?:" + _TLD_ALTERNATIVES + r")(?::[0-9]+)?(?!\.\w)\b"  # host.tld:port
    r"(?:[/?][^\s{}|\\^`<>\"]*)?",  # path and query, up to a space or an unsafe character
    re.IGNORECASE,
)
_EMAIL_CHAR = r"[-!#$%&'*+/=?^_`{}|~0-9A-Z]"
_EMAIL_RE = re.compile(
    r"(?<!//)(?<!" + _EMAIL_CHAR + r")(?<!" + _EMAIL_CHAR + r"\.)"  # where a local part begins
    r"(?:" + _EMAIL_CHAR + r"++(?:\." + _EMAIL_CHAR + r"++)*+"  # dot-atom
    r'|^"(?:[\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*+"'
    r")@(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+(?:" + "|".join(TLDS) + r")",  # "com" first
    re.IGNORECASE | re.MULTILINE,
)


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


class _QuietParser(BleachHTMLParser):
    """bleach's parser without its list of parse errors, which nobody reads.

    html5lib works out the line and column of every parse error by counting the newlines before
    it in the current 10,240-character chunk, so a body of stray "<" or "&#x" spent most of its
    time on that bookkeeping.
    """

    def parseError(self, errorcode="XXX-undefined-error", datavars=None):  # noqa: N802
        pass


def _cleaner(tags: frozenset[str]) -> bleach.Cleaner:
    cleaner = bleach.Cleaner(
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
                email_re=_EMAIL_RE,
                parse_email=True,
                skip_tags={"pre", "code"},
            ),
        ],
    )
    # The arguments bleach.Cleaner gives its own parser (bleach 6).
    cleaner.parser = _QuietParser(
        tags=cleaner.tags, strip=True, consume_entities=False, namespaceHTMLElements=False
    )
    return cleaner


# A Cleaner's parser keeps state while it works (bleach: "not thread-safe"), and a server may
# run several threads: each thread builds its own cleaners on first use.
_cleaners = threading.local()


def _comment_cleaner() -> bleach.Cleaner:
    if not hasattr(_cleaners, "comment"):
        _cleaners.comment = _cleaner(ALLOWED_TAGS)
    return _cleaners.comment


def _description_cleaner() -> bleach.Cleaner:
    if not hasattr(_cleaners, "description"):
        _cleaners.description = _cleaner(DESCRIPTION_TAGS)
    return _cleaners.description


def _normalise_newlines(text: str) -> str:
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()


# The markup budget of one comment (see check_markup_budget).
MAX_TAGS = 1000
MAX_NESTING = 20
MAX_ATTRIBUTES = 20
# "<" and "&" each: html5lib's slowest path is one such character after another (a bare "&" or
# "<" costs it about five times an ordinary character, and comes out as a five-character
# entity). A comment quoting code or a few query strings uses dozens; tags count here too.
MAX_SPECIAL_CHARACTERS = 2000

# Where html5lib's tokeniser starts a tag, and one attribute of a tag (name, optional value),
# with HTML's own whitespace and quoting rules: a tag is seen here where html5lib sees one, so
# markup cannot hide from the count inside something html5lib would read differently.
_TAG_START = re.compile(r"<(/?)([A-Za-z][^\t\n\f />]*)")
_ATTRIBUTE = re.compile(
    r"[\t\n\f /]*"
    r"(?:([^\t\n\f />][^\t\n\f />=]*)"
    r"""(?:[\t\n\f ]*=[\t\n\f ]*(?:"[^"]*"?|'[^']*'?|[^\t\n\f >]*))?)?"""
)
_VOID_TAGS = frozenset({"br"})
_FORMATTING_TAGS = frozenset({"a", "b", "i", "em", "strong", "code"})  # html5lib reopens these


@dataclass(frozen=True)
class MarkupCount:
    """What count_markup found: allowed tags, deepest nesting, most attributes on one tag."""

    tags: int
    nesting: int
    attributes: int


def _close(open_tags: list[str], name: str) -> None:
    """Close the innermost open `name` and what is open inside it. Formatting elements inside
    it stay open, because html5lib reopens them (misnested <b><i></b> still counts the <i>)."""
    index = len(open_tags) - 1 - open_tags[::-1].index(name)
    reopened = [tag for tag in open_tags[index + 1 :] if tag in _FORMATTING_TAGS]
    del open_tags[index:]
    open_tags += reopened


def _in_current_list(open_tags: list[str], name: str) -> bool:
    for tag in reversed(open_tags):
        if tag == name:
            return True
        if tag in ("ul", "ol"):
            return False
    return False


def count_markup(text: str, tags: frozenset[str] = ALLOWED_TAGS) -> MarkupCount:
    """Count tags, nesting and attributes as html5lib would meet them, without parsing.

    Nesting follows HTML's implied end tags for what comments use (a block ends an open <p>,
    <li> ends the previous item, a link ends an open link), so "<p>one<p>two" or a list without
    </li> is not deep. Stops as soon as a limit is passed, so its own work is bounded as well:
    one pass over the text and at most MAX_NESTING steps per tag.
    """
    open_tags: list[str] = []
    count = deepest = most_attributes = 0
    position = 0
    while (match := _TAG_START.search(text, position)) is not None:
        position = match.end()
        attributes = 0
        while (attribute := _ATTRIBUTE.match(text, position)).group(1) is not None:
            position = attribute.end()
            attributes += 1
            if attributes > MAX_ATTRIBUTES:
                break
        position = attribute.end() + 1  # past the ">"
        most_attributes = max(most_attributes, attributes)
        name = match.group(2).lower()
        if name in tags:
            count += 1
            if match.group(1):  # an end tag closes its element if it is open, else nothing
                if name in open_tags:
                    _close(open_tags, name)
            elif name not in _VOID_TAGS:
                if name in _BLOCK_TAGS and "p" in open_tags:
                    _close(open_tags, "p")
                if name == "li" and _in_current_list(open_tags, "li"):
                    _close(open_tags, "li")
                if name == "a" and "a" in open_tags:
                    _close(open_tags, "a")
                open_tags.append(name)
                deepest = max(deepest, len(open_tags))
        if count > MAX_TAGS or deepest > MAX_NESTING or most_attributes > MAX_ATTRIBUTES:
            break
    return MarkupCount(tags=count, nesting=deepest, attributes=most_attributes)


def check_markup_budget(text: str) -> None:
    """Refuse a body whose markup would cost the sanitiser far more than its length suggests.

    html5lib's work grows with nesting (each tag looks through the open elements, and each
    misnested formatting element is rebuilt before every later piece of text) and with the
    attributes of one tag (each is compared with all those before it): 5,000 nested <ol> took
    over a second, one tag with 4,000 attributes half a second. What a person writes in a
    comment uses a few dozen tags, nests a handful deep and puts two attributes on a link; the
    limits leave ten times that room, and keep the worst body to tens of milliseconds. So does
    the cap on "<" and "&" characters, which html5lib handles slowest of all.

    Such a body is refused, not trimmed or shown as escaped text: the author gets the form back
    with everything they wrote and a message saying what to change, whereas trimming would
    publish something other than what they wrote, without telling them.

    Raises ValidationError (code "markup"). sanitize_comment calls it first; a caller may call
    it earlier to refuse before doing anything else.
    """
    text = _normalise_newlines(text)
    special = max(text.count("<"), text.count("&"))
    if special > MAX_SPECIAL_CHARACTERS:
        raise ValidationError(
            _(
                "Your comment has too many “<” or “&” characters (more than %(limit)s). "
                "Simplify it or paste it as plain text."
            ),
            code="markup",
            params={"limit": f"{MAX_SPECIAL_CHARACTERS:,}"},
        )
    counted = count_markup(text)
    # Counting stops at the first tag over a limit, so the messages say "more than".
    if counted.nesting > MAX_NESTING:
        message = _(
            "Your comment has too much formatting (tags nested more than %(limit)s deep). "
            "Simplify it or paste it as plain text."
        )
        limit = MAX_NESTING
    elif counted.tags > MAX_TAGS:
        message = _(
            "Your comment has too much formatting (more than %(limit)s tags). "
            "Simplify it or paste it as plain text."
        )
        limit = MAX_TAGS
    elif counted.attributes > MAX_ATTRIBUTES:
        message = _(
            "Your comment has too much formatting (a tag with more than %(limit)s "
            "attributes). Simplify it or paste it as plain text."
        )
        limit = MAX_ATTRIBUTES
    else:
        return
    raise ValidationError(message, code="markup", params={"limit": f"{limit:,}"})


def sanitize_comment(text: str) -> str:
    """Safe HTML for a comment body, from what the author typed (text or a little HTML).

    Raises ValidationError when its markup is over budget (check_markup_budget).
    """
    text = _normalise_newlines(text)
    check_markup_budget(text)
    return _comment_cleaner().clean(text)


def sanitize_description(text: str) -> str:
    """Safe HTML for a consultation description (moderators' rich text).

    Not budgeted: moderators are trusted, and a description is written once.
    """
    return _description_cleaner().clean(_normalise_newlines(text))


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


def _join_stripped(text: str, separator: str, replacement: str, chars: str | None = None) -> str:
    r"""Replace each separator and the whitespace (`chars`) on both sides of it.

    What re.sub(r"\s*</p>\s*", ...) does, in linear time: the pattern is tried from every
    space of a run, and scans to the end of the run each time, so a <pre> of 20,000 spaces
    took seconds.
    """
    first, *rest = text.split(separator)
    if not rest:
        return text
    *middle, last = rest
    pieces = [first.rstrip(chars), *(piece.strip(chars) for piece in middle), last.lstrip(chars)]
    return replacement.join(pieces)


def html_to_text(html: str) -> str:
    """Plain text of stored (already sanitised) HTML: paragraphs, list items, link targets."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = _join_stripped(text, "\n", "\n", " \t")
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
    text = _join_stripped(text, "</p>", "\n\n")
    text = _join_stripped(text, "<p>", "\n\n")
    # Entities go back to the characters typed, except "&lt;" that would start a tag.
    text = _REL.sub("", text)
    text = _LONE_LT.sub("<", text).replace("&gt;", ">")
    text = text.replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
