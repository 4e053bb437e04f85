"""The sanitiser's bounded work: pathological bodies are refused or cost what text does.

Nothing here measures time (manage.py benchmark_sanitizer does): the tests check the counts
that bound the work, and that the faster patterns give the same results as bleach's.
"""

import re
import threading

import pytest
from bleach.linkifier import EMAIL_RE, build_url_re
from django.core.exceptions import ValidationError

from consultations import demo_data
from consultations.management.commands.benchmark_sanitizer import (
    normal_comment,
    pathological_bodies,
)
from consultations.models import Comment
from consultations.sanitize import (
    _EMAIL_RE,
    _URL_RE,
    MAX_ATTRIBUTES,
    MAX_NESTING,
    MAX_SPECIAL_CHARACTERS,
    MAX_TAGS,
    _comment_cleaner,
    check_markup_budget,
    count_markup,
    editable_text,
    html_to_text,
    sanitize_comment,
)

from .test_sanitize import sanitised_html_problems


def within_budget(text: str) -> bool:
    counted = count_markup(text)
    return (
        max(text.count("<"), text.count("&")) <= MAX_SPECIAL_CHARACTERS
        and counted.tags <= MAX_TAGS
        and counted.nesting <= MAX_NESTING
        and counted.attributes <= MAX_ATTRIBUTES
    )


@pytest.mark.parametrize("name", list(pathological_bodies()))
def test_pathological_body_is_refused_or_stored_safely(name):
    body = pathological_bodies()[name]
    try:
        html = sanitize_comment(body)
    except ValidationError as exc:
        assert exc.code == "markup"
        assert not within_budget(body)
        return
    assert within_budget(body)
    assert sanitised_html_problems(html) == []
    assert sanitize_comment(html) == html
    assert sanitize_comment(editable_text(html)) == html
    html_to_text(html)


def test_deep_nesting_stops_the_count_at_the_first_tag_over_the_limit():
    # The count itself is bounded: 5,000 nested tags are not all looked at.
    counted = count_markup("<ol>" * 5000)

    assert counted.nesting == MAX_NESTING + 1
    assert counted.tags == MAX_NESTING + 1


def test_many_attributes_stop_the_count_at_the_first_one_over_the_limit():
    counted = count_markup("<b " + " ".join(f"a{i}=1" for i in range(4000)) + ">")

    assert counted.attributes == MAX_ATTRIBUTES + 1


def test_many_tags_stop_the_count_at_the_first_one_over_the_limit():
    counted = count_markup("<b>x</b> " * 5000)

    assert counted.tags == MAX_TAGS + 1
    assert counted.nesting == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<ol>" * 500, "tags nested more than 20 deep"),
        ("<b>bold</b> " * 600, "more than 1,000 tags"),
        ("<b " + "x " * 30 + ">bold</b>", "a tag with more than 20 attributes"),
    ],
)
def test_over_budget_comment_comes_back_with_what_to_change(client, question, user, body, message):
    client.force_login(user)
    url = f"/consultations/{question.consultation.slug}/questions/{question.number}/comment/"

    response = client.post(url, {"body": body, "parent": ""})

    html = response.content.decode()
    assert response.status_code == 400  # the form again, as for any refused post
    assert "&lt;b" in html or "&lt;ol&gt;" in html  # with what they wrote
    assert f"Your comment has too much formatting ({message})" in html
    assert "Simplify it or paste it as plain text." in html
    assert Comment.objects.count() == 0


def demo_bodies() -> list[str]:
    def walk(posts):
        for post in posts:
            yield post.body
            yield from walk(post.replies)

    threads = [posts for spec in demo_data.CONSULTATIONS for posts in spec.threads.values()]
    return [body for posts in threads for body in walk(posts)]


@pytest.mark.parametrize("character", ["<", "&"])
def test_thousands_of_lt_or_amp_signs_are_refused_and_the_text_comes_back(
    client, question, user, character
):
    # html5lib's slowest path: 20,000 bare "&" cost 86 ms to sanitise, 45 times a normal
    # comment; within the budget the worst accepted body costs about as much as 450 links.
    client.force_login(user)
    url = f"/consultations/{question.consultation.slug}/questions/{question.number}/comment/"
    body = "R&D <-> " + (character + " ") * MAX_SPECIAL_CHARACTERS

    response = client.post(url, {"body": body, "parent": ""})

    html = response.content.decode()
    assert response.status_code == 400
    assert "too many “&lt;” or “&amp;” characters (more than 2,000)" in html
    assert "R&amp;D &lt;-&gt;" in html  # what they typed, in the form
    assert Comment.objects.count() == 0
    check_markup_budget((character + " ") * MAX_SPECIAL_CHARACTERS)  # the limit itself passes


def test_demo_comments_and_ordinary_formatting_are_within_budget():
    bodies = demo_bodies() + [
        normal_comment(20_000),
        "<p>one<p>two<p>three",  # paragraphs without </p>
        "<ul>" + "<li>item" * 200 + "</ul>",  # items without </li>
        "<b><i>misnested</b></i> " * 100,  # a common slip, repaired by the parser
        '<a href="https://a.org/">one<a href="https://b.org/">two</a>',  # a link in a link
        "<blockquote>" * MAX_NESTING + "deep" + "</blockquote>" * MAX_NESTING,
    ]
    for body in bodies:
        assert within_budget(body), body[:80]
        check_markup_budget(body)


def test_one_level_more_than_the_limit_is_refused():
    with pytest.raises(ValidationError):
        check_markup_budget("<blockquote>" * (MAX_NESTING + 1) + "deep")


def test_tags_inside_an_attribute_value_are_not_tags():
    # html5lib reads them as the title's text, and so does the count.
    title = "<b>" * 100
    counted = count_markup(f'<a href="https://a.org/" title="{title}">x</a>')

    assert (counted.tags, counted.nesting, counted.attributes) == (2, 1, 2)


def test_quotes_in_an_attribute_name_do_not_hide_the_attributes_after_them():
    # html5lib reads '"' as part of a name here, not as the start of a quoted value.
    counted = count_markup('<b "' + " a=1" * 30 + ' ">x</b>')

    assert counted.attributes > MAX_ATTRIBUTES


def test_disallowed_tags_do_not_count_but_their_attributes_do():
    # bleach drops them while tokenising (cheap), but html5lib still compares their attributes.
    assert count_markup("<span>x</span>" * 2000).tags == 0
    assert count_markup("<span " + "a " * 30 + ">").attributes > MAX_ATTRIBUTES


LINK_TEXTS = [
    "See https://www.iom.int/gcm and www.un.org/migration.",
    "Write to migration@example.org, or to a.b-c@x.co.uk.",
    "(https://example.com/a_(b)) and example.com... then -www.example.org",
    "x-https://example.org/path?q=1&r=2#frag, http://user:pw@example.org:8080/",
    "Trailing dots: example.com. Ellipsis: example.org...",
    "A list:\n- www.example.org\n- https://example.net/x.\n- someone@example.com",
    "Two addresses a@example.org;b@example.org and mail:c@example.org",
    "Not links: file.txt, v1.2.3, e.g., i.e., a.b, mailto:, @handle, 3.14",
    "“https://example.org/quoted” and «www.example.fr»",
    "Unicode host www.exämple.com and path https://example.org/ünï",
]


@pytest.mark.parametrize("text", LINK_TEXTS)
def test_link_patterns_find_what_bleachs_own_find_in_ordinary_text(text):
    bleach_url_re = build_url_re(protocols=["http", "https"])

    def found(pattern: re.Pattern) -> list[tuple[int, str]]:
        return [(match.start(), match.group()) for match in pattern.finditer(text)]

    assert found(_URL_RE) == found(bleach_url_re)
    assert found(_EMAIL_RE) == found(EMAIL_RE)


@pytest.mark.parametrize("word", ["a", "-", "a.", "a-.", "a-", "(", "www.", "a.b/"])
def test_a_long_word_is_scanned_from_its_start_only(word):
    # bleach's patterns try a match from every position of such a run, each scanning to its
    # end; ours may start only where a run starts (or after a hyphen that starts one).
    text = word * 5000
    starts = [i for i in range(1, len(text)) if _URL_RE.match(text, i) or _EMAIL_RE.match(text, i)]

    assert starts == []


def test_reading_back_keeps_whitespace_runs():
    html = sanitize_comment("<pre>a" + " " * 5000 + "b\n" + "\t" * 5000 + "c</pre>")

    assert html_to_text(html) == "a" + " " * 5000 + "b\nc"
    assert sanitize_comment(editable_text(html)) == html


def test_each_thread_sanitises_with_its_own_cleaner():
    cleaners = []
    thread = threading.Thread(target=lambda: cleaners.append(_comment_cleaner()))
    thread.start()
    thread.join()

    assert cleaners[0] is not _comment_cleaner()
    assert _comment_cleaner() is _comment_cleaner()
