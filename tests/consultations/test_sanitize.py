"""The comment sanitiser: an XSS corpus against its output and the rendered page, plus formatting.

The allow-list below is written out from the product's spec on purpose rather than imported from
consultations.sanitize, so a change to the sanitiser's allow-list has to be made here as well.
Outputs are parsed twice: with html5lib (vendored by bleach; it follows the HTML5 parsing
algorithm, namespaces included, as browsers do) and with the standard library's HTMLParser (a
different tokeniser), and every element, attribute and URL either parser sees must be allowed.
"""

import html
import re
from html.parser import HTMLParser

import pytest
from bleach._vendor import html5lib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from consultations.models import Comment
from consultations.sanitize import html_to_text, sanitize_comment
from consultations.services import DuplicateComment

from .xss_corpus import XSS_VECTORS, Vector

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
)
LINK_ATTRIBUTES = frozenset({"href", "title", "rel"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
DANGEROUS_SCHEMES = frozenset({"javascript", "data", "vbscript"})
LINK_REL = "nofollow ugc noopener"

# Characters a browser ignores or strips in a URL before reading its scheme, and a few that
# sanitisers have been fooled by (zero-width and line separators, the BOM).
_URL_IGNORED = re.compile(
    r"[\x00-\x20\x7f-\xa0\u1680\u180e\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_BODY_ID = re.compile(r"comment-(\d+)-body")

Element = tuple[str, list[tuple[str, str | None]]]


def corpus_params():
    return [pytest.param(v.payload, id=v.id) for v in XSS_VECTORS]


def url_scheme(url: str) -> str:
    """The scheme a browser would act on, however the URL is dressed up ('' when none)."""
    # Unescape once more than the parser did: double-encoded schemes count as the real thing.
    normalized = _URL_IGNORED.sub("", html.unescape(url)).lower()
    match = _SCHEME.match(normalized)
    return match.group(1) if match else ""


class _Collector(HTMLParser):
    """Start tags with attributes, comments and declarations, as the stdlib tokeniser sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.other: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs) -> None:
        self.elements.append((tag, attrs))

    def handle_comment(self, data) -> None:
        self.other.append(f"comment {data!r}")

    def handle_decl(self, decl) -> None:
        self.other.append(f"declaration {decl!r}")

    def unknown_decl(self, data) -> None:
        self.other.append(f"declaration {data!r}")

    def handle_pi(self, data) -> None:
        self.other.append(f"processing instruction {data!r}")


def stdlib_parse(fragment: str) -> tuple[list[Element], list[str]]:
    collector = _Collector()
    collector.feed(fragment)
    collector.close()
    return collector.elements, collector.other


def html5_fragment(fragment: str):
    """The fragment as a browser builds it inside the <div> that holds a comment body."""
    return html5lib.parseFragment(fragment, container="div", namespaceHTMLElements=False)


def html5_elements(root) -> tuple[list[Element], list[str]]:
    """Elements under root (root excluded); svg and math elements keep their {namespace}."""
    elements, other = [], []
    for node in root.iter():
        if node is root:
            continue
        if not isinstance(node.tag, str):
            other.append(f"comment {node.text!r}")
        else:
            elements.append((node.tag, list(node.attrib.items())))
    return elements, other


def element_problems(elements: list[Element]) -> list[str]:
    problems = []
    for tag, attrs in elements:
        if tag not in ALLOWED_TAGS:
            problems.append(f"element <{tag}>")
            continue
        allowed = LINK_ATTRIBUTES if tag == "a" else frozenset()
        names = {name for name, _ in attrs}
        for name, value in attrs:
            if name not in allowed:
                problems.append(f"attribute {name}={value!r} on <{tag}>")
        if tag != "a":
            continue
        values = dict(attrs)
        href = values.get("href")
        if href is None:
            problems.append("<a> without href")
        elif url_scheme(href) not in SAFE_SCHEMES:
            problems.append(f"href {href!r} (scheme {url_scheme(href)!r})")
        if values.get("rel") != LINK_REL:
            problems.append(f"rel {values.get('rel')!r} on <a> (attributes {sorted(names)})")
    return problems


def sanitised_html_problems(fragment: str) -> list[str]:
    """Everything in a sanitised fragment that the spec does not allow, from both parsers."""
    problems = ["HTML comment opener <!--"] if "<!--" in fragment else []
    for parse in (lambda f: html5_elements(html5_fragment(f)), stdlib_parse):
        elements, other = parse(fragment)
        problems += other + element_problems(elements)
    return problems


def reserialised(fragment: str) -> str:
    """Parse as a browser would and write the tree back out: where mutation XSS shows up."""
    return html5lib.serialize(html5_fragment(fragment), tree="etree")


# --- a: the sanitiser's output for every vector ---------------------------------------------


def test_corpus_is_large_and_ids_are_unique():
    ids = [v.id for v in XSS_VECTORS]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("payload", corpus_params())
def test_vector_output_holds_only_allowed_elements_attributes_and_urls(payload):
    output = sanitize_comment(payload)

    assert sanitised_html_problems(output) == []


@pytest.mark.parametrize("payload", corpus_params())
def test_vector_output_stays_safe_when_a_browser_reparses_it(payload):
    output = sanitize_comment(payload)

    assert sanitised_html_problems(reserialised(output)) == []


@pytest.mark.parametrize("payload", corpus_params())
def test_sanitising_vector_output_again_changes_nothing(payload):
    output = sanitize_comment(payload)

    assert sanitize_comment(output) == output


# --- b: the whole corpus posted through the service and rendered on the page ----------------


def post_corpus(*, question, author, post_comment) -> dict[int, tuple[Vector, str]]:
    """Post every vector: {comment id: (vector, body as posted)}.

    A vector that sanitises to nothing is refused as an empty comment, and one that sanitises
    to the same text as an earlier vector is refused as a duplicate; either is posted again
    after a label paragraph, so that every vector reaches the page.
    """
    posted = {}
    for vector in XSS_VECTORS:
        body = vector.payload
        try:
            comment = post_comment(question=question, author=author, body=body)
        except DuplicateComment:
            body = f"Vector {vector.id}:\n\n{vector.payload}"
            comment = post_comment(question=question, author=author, body=body)
        except ValidationError:
            assert html_to_text(sanitize_comment(body)) == "", vector.id
            body = f"Vector {vector.id}:\n\n{vector.payload}"
            comment = post_comment(question=question, author=author, body=body)
        posted[comment.pk] = (vector, body)
    return posted


def page_wide_problems(document) -> list[str]:
    """Script-capable markup anywhere on a page, not only in comment bodies."""
    problems = []
    for node in document.iter():
        if not isinstance(node.tag, str):
            continue
        for name, value in node.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"event handler {name}={value!r} on <{node.tag}>")
            if url_scheme(value) in DANGEROUS_SCHEMES:
                problems.append(f"{url_scheme(value)}: URL in {name}={value!r} on <{node.tag}>")
        if node.tag == "script" and (
            not node.get("src", "").startswith(settings.STATIC_URL) or (node.text or "").strip()
        ):
            problems.append(f"script element {node.attrib} {node.text!r}")
        if node.tag in {"iframe", "object", "embed", "base"} or not node.tag.isalnum():
            problems.append(f"element <{node.tag}>")
    return problems


def test_corpus_posted_as_comments_renders_no_script_on_the_consultation_page(
    client, settings, consultation, question, user, post_comment
):
    settings.CONSULTATION_ONE_PAGE_MAX = 10_000  # every comment on the one page
    posted = post_corpus(question=question, author=user, post_comment=post_comment)

    response = client.get(consultation.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    document = html5lib.parse(page, namespaceHTMLElements=False)
    bodies = {
        int(match.group(1)): node
        for node in document.iter("div")
        if (match := _BODY_ID.fullmatch(node.get("id", "")))
    }
    assert set(bodies) == set(posted)
    stored = dict(Comment.objects.filter(pk__in=posted).values_list("pk", "body"))
    problems = {}
    for pk, (vector, body) in posted.items():
        # Sanitised once on write, and the page shows exactly what was stored.
        assert stored[pk] == sanitize_comment(body), vector.id
        assert re.search(f'id="comment-{pk}-body"[^>]*>{re.escape(stored[pk])}</div>', page), (
            vector.id
        )
        elements, other = html5_elements(bodies[pk])
        if found := other + element_problems(elements):
            problems[vector.id] = found
    assert problems == {}
    assert page_wide_problems(document) == []


def test_corpus_quoted_on_the_reply_form_renders_no_script(
    client, consultation, question, user, post_comment
):
    posted = post_corpus(question=question, author=user, post_comment=post_comment)
    client.force_login(user)
    url = reverse("consultations:comment", args=[consultation.slug, question.number])

    problems = {}
    for pk, (vector, _) in posted.items():
        response = client.get(url, {"parent": pk})
        assert response.status_code == 200, vector.id
        document = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
        quotes = [q for q in document.iter("blockquote") if "prose" in q.get("class", "")]
        assert len(quotes) == 1, vector.id
        elements, other = html5_elements(quotes[0])
        if found := other + element_problems(elements) + page_wide_problems(document):
            problems[vector.id] = found
    assert problems == {}


# --- c: what the sanitiser keeps and how it formats plain text -----------------------------


def test_inline_formatting_survives():
    body = "<strong>strong</strong> <em>em</em> <b>b</b> <i>i</i> <code>x = 1</code>"

    assert sanitize_comment(body) == f"<p>{body}</p>"


def test_lists_and_blockquotes_survive():
    body = (
        "<ul><li>one</li><li>two</li></ul>\n<ol><li>first</li></ol>\n"
        "<blockquote>quoted</blockquote>"
    )

    assert sanitize_comment(body) == body


def test_pre_keeps_its_line_breaks_and_blank_lines():
    body = "<pre>line 1\n  line 2\n\nline 4</pre>"

    assert sanitize_comment(body) == body


def test_bare_url_becomes_a_link_with_rel():
    output = sanitize_comment("See https://example.org/report?id=3 for details.")

    assert output == (
        '<p>See <a href="https://example.org/report?id=3" rel="nofollow ugc noopener">'
        "https://example.org/report?id=3</a> for details.</p>"
    )


def test_www_host_becomes_an_http_link():
    output = sanitize_comment("www.example.org")

    assert 'href="http://www.example.org"' in output
    assert f'rel="{LINK_REL}"' in output


def test_url_in_code_or_pre_is_not_linked():
    output = sanitize_comment("<code>https://example.org</code>\n\n<pre>https://example.org</pre>")

    assert "<a" not in output
    assert output.count("https://example.org") == 2


def test_mailto_link_is_kept_with_rel():
    output = sanitize_comment('<a href="mailto:office@example.org">Write to us</a>')

    assert output == (
        f'<p><a href="mailto:office@example.org" rel="{LINK_REL}">Write to us</a></p>'
    )


def test_link_loses_target_and_own_rel_and_gains_ours():
    output = sanitize_comment('<a href="https://x.example" target="_blank" rel="opener">x</a>')

    assert output == f'<p><a href="https://x.example" rel="{LINK_REL}">x</a></p>'


def test_link_title_is_kept():
    output = sanitize_comment('<a href="https://x.example" title="The report">x</a>')

    assert 'title="The report"' in output


def test_javascript_text_is_not_turned_into_a_link():
    output = sanitize_comment("Try javascript:alert(1) or [x](javascript:alert(1))")

    assert "<a" not in output
    assert "javascript:alert(1)" in html_to_text(output)


def test_blank_line_makes_a_paragraph_and_newline_a_br():
    assert sanitize_comment("a\nb\n\nc") == "<p>a<br>\nb</p>\n<p>c</p>"


def test_windows_and_old_mac_line_endings_format_the_same():
    assert sanitize_comment("a\r\nb\r\n\r\nc") == sanitize_comment("a\rb\r\rc")
    assert sanitize_comment("a\r\nb\r\n\r\nc") == sanitize_comment("a\nb\n\nc")


def test_less_than_and_ampersand_are_escaped_not_dropped():
    output = sanitize_comment("5 < 6 & 7 > 4")

    assert output == "<p>5 &lt; 6 &amp; 7 &gt; 4</p>"
    assert html_to_text(output) == "5 < 6 & 7 > 4"


def test_html_comment_disappears():
    output = sanitize_comment("before <!-- a note to self --> after")

    assert output == "<p>before  after</p>"


def test_disallowed_tag_is_removed_but_its_text_kept():
    output = sanitize_comment("<span>kept</span> <h1>title</h1>")

    assert "<span" not in output
    assert "<h1" not in output
    # bleach turns a stripped block tag into a line break, as a browser would show it.
    assert html_to_text(output) == "kept\ntitle"


def test_html_to_text_separates_paragraphs_with_a_blank_line():
    assert html_to_text("<p>one<br>\ntwo</p>\n<p>three</p>") == "one\ntwo\n\nthree"


def test_html_to_text_puts_list_items_on_their_own_lines():
    text = html_to_text("<p>Points:</p><ul><li>first</li><li>second</li></ul><p>End</p>")

    assert text == "Points:\n\n- first\n- second\n\nEnd"


def test_html_to_text_shows_link_target_when_it_differs_from_the_label():
    html_body = (
        f'<p><a href="https://example.org/report" rel="{LINK_REL}">the report</a> and '
        f'<a href="https://example.org/" rel="{LINK_REL}">https://example.org/</a> and '
        f'<a href="mailto:a@example.org" rel="{LINK_REL}">a@example.org</a></p>'
    )

    assert html_to_text(html_body) == (
        "the report (https://example.org/report) and https://example.org/ and a@example.org"
    )


def test_html_to_text_keeps_preformatted_line_breaks():
    assert html_to_text("<p>Code:</p><pre>a = 1\nb = 2</pre>") == "Code:\n\na = 1\nb = 2"


# --- d: sanitised on write; only the body is marked safe -----------------------------------


def test_body_is_stored_sanitised(question, user, post_comment):
    raw = (
        '<p onclick="alert(1)">Hello <script>alert(2)</script>'
        '<a href="javascript:alert(3)">there</a> <strong>friend</strong></p>'
    )

    comment = post_comment(question=question, author=user, body=raw)

    stored = Comment.objects.get(pk=comment.pk).body
    assert stored == sanitize_comment(raw)
    assert stored == "<p>Hello alert(2)there <strong>friend</strong></p>"


def test_body_that_sanitises_to_nothing_is_refused(question, user, post_comment):
    with pytest.raises(ValidationError):
        post_comment(question=question, author=user, body="<img src=x onerror=alert(1)>")

    assert not Comment.objects.exists()


def test_author_name_and_organisation_are_escaped_on_the_page(
    client, consultation, question, user, make_user, post_comment
):
    author = make_user(
        display_name="<script>alert(1)</script>", organisation="<img src=x onerror=alert(2)>"
    )
    comment = post_comment(question=question, author=author, body="Hello")
    post_comment(question=question, author=user, body="A reply", parent=comment)

    page = client.get(consultation.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "<img src=x onerror=alert(2)>" not in page
    assert '<bdi class="comment__author">&lt;script&gt;alert(1)&lt;/script&gt;</bdi>' in page
    assert '<bdi class="comment__org">&lt;img src=x onerror=alert(2)&gt;</bdi>' in page
    assert "In reply to &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page_wide_problems(html5lib.parse(page, namespaceHTMLElements=False)) == []


def test_parent_author_is_escaped_on_the_reply_form(
    client, consultation, question, user, make_user, post_comment
):
    author = make_user(
        display_name="<script>alert(1)</script>", organisation="<img src=x onerror=alert(2)>"
    )
    comment = post_comment(question=question, author=author, body="Hello")
    client.force_login(user)
    url = reverse("consultations:comment", args=[consultation.slug, question.number])

    page = client.get(url, {"parent": comment.pk}).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "<img src=x onerror=alert(2)>" not in page
    assert "Reply to &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page_wide_problems(html5lib.parse(page, namespaceHTMLElements=False)) == []


# --- the checker itself: it must catch what it is meant to catch ----------------------------


@pytest.mark.parametrize(
    "unsafe",
    [
        '<img src="x">',
        '<p onclick="x">a</p>',
        '<a href="javascript:alert(1)" rel="nofollow ugc noopener">x</a>',
        '<a href="java&#x09;script:alert(1)" rel="nofollow ugc noopener">x</a>',
        '<a href="&#x20;data:text/html,x" rel="nofollow ugc noopener">x</a>',
        '<a href="//evil.example" rel="nofollow ugc noopener">x</a>',
        '<a href="https://ok.example">no rel</a>',
        '<a href="https://ok.example" rel="nofollow ugc noopener" target="_blank">x</a>',
        "<svg><a>x</a></svg>",
        "<p>a<!-- b --></p>",
        "<noscript><p>x</p></noscript>",
    ],
)
def test_checker_reports_unsafe_markup(unsafe):
    assert sanitised_html_problems(unsafe) != []


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("https://example.org", "https"),
        (" JaVa\tScRiPt:alert(1)", "javascript"),
        ("&#x6A;avascript&colon;x", "javascript"),
        ("java\u200bscript:x", "javascript"),
        ("\x01data:text/html,x", "data"),
        ("//evil.example", ""),
        ("/relative/path", ""),
    ],
)
def test_url_scheme_sees_through_obfuscation(url, scheme):
    assert url_scheme(url) == scheme


def test_line_break_inside_a_tag_is_not_turned_into_markup():
    # The plain-text paragraph pass must only touch text, never a tag or an attribute value.
    output = sanitize_comment('<a href="https://x.example/" title="first line\nsecond line">x</a>')

    links = list(html5_fragment(output).iter("a"))
    assert [link.get("title") for link in links] == ["first line\nsecond line"]
