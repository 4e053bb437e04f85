"""The staff CSV export: columns, order, filters, CSV safety, the web download and the command."""

import csv
import inspect
import io
import re
import tracemalloc
from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.signals import pre_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from consultations import export, services
from consultations.export import (
    COLUMNS,
    ExportFilterError,
    ExportFilters,
    csv_filename,
    iter_csv,
    write_csv,
)
from consultations.management.benchmarking import populate_bulk
from consultations.models import Attachment, Comment, Question

pytestmark = pytest.mark.django_db

BASE_URL = "https://forum.example.org"
BOM = "\ufeff"


def export_text(consultation, **filters) -> str:
    return "".join(iter_csv(consultation, ExportFilters(**filters), base_url=BASE_URL))


def export_rows(consultation, **filters) -> list[dict[str, str]]:
    text = export_text(consultation, **filters)
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))


def ids(rows) -> list[int]:
    return [int(row["id"]) for row in rows]


def command_output(*args, **options) -> str:
    out = io.StringIO()
    call_command("export_comments", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def attach_rows():
    """Attachment rows as the service leaves them (the export reads rows, never the files)."""

    def _attach(comments, count=1):
        return Attachment.objects.bulk_create(
            Attachment(
                comment=comment,
                file=f"attachments/{comment.pk}-{n}",
                original_name=f"file-{n}.pdf",
                content_type="application/pdf",
                size=1234,
            )
            for comment in comments
            for n in range(count)
        )

    return _attach


# The file itself


def test_header_row_is_the_fixed_column_list(consultation):
    text = export_text(consultation)

    assert text == BOM + ",".join(COLUMNS) + "\r\n"
    assert COLUMNS == [
        "id",
        "consultation",
        "question_number",
        "question",
        "parent_id",
        "depth",
        "author",
        "organisation",
        "stakeholder_type",
        "posted_at_utc",
        "objectives",
        "status",
        "hidden_reason",
        "text",
        "url",
        "attachments",
        "codes",
        "key_quote",
        "duplicate_group",
    ]


def test_file_starts_with_a_utf8_byte_order_mark(question, user, post_comment, tmp_path):
    post_comment(question=question, author=user, body="Grüße aus Genève")
    path = tmp_path / "export.csv"

    with open(path, "w", encoding="utf-8", newline="") as stream:
        write_csv(stream, question.consultation, base_url=BASE_URL)

    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,consultation,")
    assert "Grüße aus Genève".encode() in data


def test_top_level_comment_row_holds_every_column(question, user, post_comment):
    body = (
        "<p>Three priorities.</p>\n"
        "<ul><li>Legal identity</li><li>Ending trafficking</li></ul>\n"
        '<p>See <a href="https://example.org/report">the report</a>.</p>'
    )
    comment = post_comment(question=question, author=user, body=body, objectives=[10, 4])
    # 10:15 in Geneva in winter is 09:15 UTC.
    Comment.objects.filter(pk=comment.pk).update(
        created_at=datetime(2026, 1, 31, 10, 15, tzinfo=ZoneInfo("Europe/Zurich"))
    )

    [row] = export_rows(question.consultation)

    assert row == {
        "id": str(comment.pk),
        "consultation": "Safe borders review",
        "question_number": "1",
        "question": "What are the key priorities?",
        "parent_id": "",
        "depth": "0",
        "author": "Amina Diallo",
        "organisation": "Sahel Migrant Network",
        "stakeholder_type": "Civil society",
        "posted_at_utc": "2026-01-31 09:15:00",
        "objectives": "4;10",
        "status": "published",
        "hidden_reason": "",
        "text": (
            "Three priorities.\n\n- Legal identity\n- Ending trafficking\n\n"
            "See the report (https://example.org/report)."
        ),
        "url": f"{BASE_URL}/consultations/c/{comment.pk}/",
        "attachments": "",
        "codes": "",
        "key_quote": "",
        "duplicate_group": "",
    }
    assert row["url"] == BASE_URL + comment.get_absolute_url()


def test_reply_rows_name_their_parent_and_depth(question, user, make_user, post_comment):
    officer = make_user(
        display_name="Kofi Mensah",
        organisation="Ministry of Interior",
        stakeholder_type="member_state",
    )
    top = post_comment(question=question, author=user)
    reply = post_comment(question=question, author=officer, parent=top, body="A reply.")
    nested = post_comment(question=question, author=user, parent=reply, body="Nested.")

    rows = {int(row["id"]): row for row in export_rows(question.consultation)}

    assert rows[reply.pk]["parent_id"] == str(top.pk)
    assert rows[reply.pk]["depth"] == "1"
    assert rows[reply.pk]["author"] == "Kofi Mensah"
    assert rows[reply.pk]["organisation"] == "Ministry of Interior"
    assert rows[reply.pk]["stakeholder_type"] == "Member State"
    assert rows[reply.pk]["objectives"] == ""
    assert rows[reply.pk]["url"].endswith(f"/c/{reply.pk}/")
    assert rows[nested.pk]["parent_id"] == str(reply.pk)
    assert rows[nested.pk]["depth"] == "2"
    assert rows[nested.pk]["text"] == "Nested."


def test_rows_follow_thread_order_not_posting_order(
    question, question2, user, other_user, post_comment
):
    # Posted interleaved, so ordering by id would mix threads and questions.
    a = post_comment(question=question2, author=user)
    b = post_comment(question=question, author=other_user)
    a1 = post_comment(question=question2, author=other_user, parent=a)
    c = post_comment(question=question, author=user)
    b1 = post_comment(question=question, author=user, parent=b)
    a1a = post_comment(question=question2, author=user, parent=a1)
    a2 = post_comment(question=question2, author=user, parent=a)

    rows = export_rows(question.consultation)

    assert ids(rows) == [b.pk, b1.pk, c.pk, a.pk, a1.pk, a1a.pk, a2.pk]
    assert ids(rows) != sorted(ids(rows))
    assert [row["question_number"] for row in rows] == ["1", "1", "1", "2", "2", "2", "2"]


def test_question_filter_keeps_only_that_question(question, question2, user, post_comment):
    on_first = post_comment(question=question, author=user)
    on_second = post_comment(question=question2, author=user)
    reply_on_second = post_comment(question=question2, author=user, parent=on_second)

    rows = export_rows(question.consultation, question=2)

    assert ids(rows) == [on_second.pk, reply_on_second.pk]
    assert on_first.pk not in ids(rows)


def test_objective_filter_keeps_only_tagged_comments(question, question2, user, post_comment):
    tagged = post_comment(question=question, author=user, objectives=[4, 10])
    post_comment(question=question, author=user, objectives=[4])
    untagged = post_comment(question=question2, author=user)
    tagged_reply = post_comment(question=question2, author=user, parent=untagged, objectives=[10])

    rows = export_rows(question.consultation, objective=10)

    assert ids(rows) == [tagged.pk, tagged_reply.pk]
    # A tagged comment still lists all of its objectives.
    assert rows[0]["objectives"] == "4;10"


def test_question_and_objective_filters_combine(question, question2, user, post_comment):
    post_comment(question=question, author=user, objectives=[10])
    wanted = post_comment(question=question2, author=user, objectives=[10])
    post_comment(question=question2, author=user, objectives=[4])

    rows = export_rows(question.consultation, question=2, objective=10)

    assert ids(rows) == [wanted.pk]


def test_hidden_comment_is_exported_with_status_hidden(question, user, moderator, post_comment):
    shown = post_comment(question=question, author=user)
    hidden = post_comment(question=question, author=user, body="Off-topic.")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")

    rows = {int(row["id"]): row for row in export_rows(question.consultation)}

    assert rows[shown.pk]["status"] == "published"
    assert rows[hidden.pk]["status"] == "hidden"
    assert rows[hidden.pk]["text"] == "Off-topic."


@pytest.mark.parametrize(
    ("reason", "label"),
    [("spam", "Spam"), ("offensive", "Offensive"), ("off_topic", "Off-topic"), ("other", "Other")],
)
def test_hidden_reason_column_holds_the_reasons_english_label(
    question, user, moderator, post_comment, reason, label
):
    shown = post_comment(question=question, author=user)
    hidden = post_comment(question=question, author=user)
    services.comment_hide(comment=hidden, by=moderator, reason=reason)

    # Whatever the interface language of whoever downloads the file.
    with translation.override("fr"):
        rows = {int(row["id"]): row for row in export_rows(question.consultation)}

    assert rows[hidden.pk]["hidden_reason"] == label
    assert rows[shown.pk]["hidden_reason"] == ""


def test_hidden_reason_is_empty_once_the_comment_is_restored_or_deleted(
    question, user, moderator, post_comment
):
    restored = post_comment(question=question, author=user)
    services.comment_hide(comment=restored, by=moderator, reason="spam")
    services.comment_restore(comment=restored, by=moderator)
    deleted = post_comment(question=question, author=user)
    # A reason left on a row that is no longer hidden is not reported.
    Comment.objects.filter(pk=deleted.pk).update(
        status=Comment.Status.DELETED, hidden_reason="offensive"
    )

    rows = {int(row["id"]): row for row in export_rows(question.consultation)}

    assert rows[restored.pk]["status"] == "published"
    assert rows[restored.pk]["hidden_reason"] == ""
    assert rows[deleted.pk]["hidden_reason"] == ""


def test_posted_at_is_utc_in_the_form_spreadsheets_read_as_a_date(question, user, post_comment):
    comment = post_comment(question=question, author=user)
    # Late evening in New York is already the next day in UTC; the microseconds are dropped.
    Comment.objects.filter(pk=comment.pk).update(
        created_at=datetime(2026, 3, 4, 21, 30, 5, 987654, tzinfo=ZoneInfo("America/New_York"))
    )

    [row] = export_rows(question.consultation)

    assert row["posted_at_utc"] == "2026-03-05 02:30:05"
    parsed = datetime.strptime(row["posted_at_utc"], "%Y-%m-%d %H:%M:%S")
    assert parsed.replace(tzinfo=UTC) == datetime(2026, 3, 5, 2, 30, 5, tzinfo=UTC)


def test_commas_quotes_and_newlines_are_quoted_per_rfc_4180(question, make_user, post_comment):
    author = make_user(display_name='Dr "Ana" Ruiz, PhD', organisation="Smith, Jones & Co")
    post_comment(question=question, author=author, body='Line one, "quoted"\nLine two')

    text = export_text(question.consultation)
    [header, row] = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))

    assert '"Dr ""Ana"" Ruiz, PhD"' in text
    assert '"Smith, Jones & Co"' in text
    assert '"Line one, ""quoted""\nLine two"' in text
    assert text.endswith("\r\n")
    assert header == COLUMNS
    assert row[COLUMNS.index("author")] == 'Dr "Ana" Ruiz, PhD'
    assert row[COLUMNS.index("organisation")] == "Smith, Jones & Co"
    assert row[COLUMNS.index("text")] == 'Line one, "quoted"\nLine two'


@pytest.mark.parametrize(
    "display_name",
    ["=1+1", "+33 1 23 45", "-2+3", "@evil", "\tTabbed", "\rReturned"],
)
def test_cells_that_start_like_a_formula_get_an_apostrophe(
    question, make_user, post_comment, display_name
):
    author = make_user(display_name=display_name, organisation="Safe = harmless")
    post_comment(question=question, author=author)

    [row] = export_rows(question.consultation)

    assert row["author"] == "'" + display_name
    assert row["organisation"] == "Safe = harmless"


def test_a_formula_in_the_body_is_neutralised(question, user, post_comment):
    post_comment(question=question, author=user, body='=HYPERLINK("http://evil.example","x")')

    [row] = export_rows(question.consultation)

    assert row["text"].startswith("'=HYPERLINK(")


def test_filename_names_the_consultation_filters_and_date(consultation):
    today = timezone.localdate().isoformat()

    def name(**filters):
        return csv_filename(consultation, ExportFilters(**filters))

    assert csv_filename(consultation) == f"safe-borders-comments-{today}.csv"
    assert name(question=2, objective=10) == (f"safe-borders-q2-obj10-comments-{today}.csv")
    assert name(objective=7) == f"safe-borders-obj7-comments-{today}.csv"


# Streaming and queries


def test_iter_csv_is_a_lazy_generator(question, user, post_comment, django_assert_num_queries):
    post_comment(question=question, author=user)

    with django_assert_num_queries(0):
        lines = iter_csv(question.consultation, base_url=BASE_URL)

    assert inspect.isgenerator(lines)
    assert next(lines) == BOM
    assert next(lines) == ",".join(COLUMNS) + "\r\n"


def _export_query_count(consultation) -> int:
    with CaptureQueriesContext(connection) as queries:
        rows = export_rows(consultation)
    assert rows
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_comments(
    consultation, make_user, post_comment
):
    small = Question.objects.create(consultation=consultation, number=1, text="Small?")
    large = Question.objects.create(consultation=consultation, number=2, text="Large?")
    authors = [make_user() for _ in range(3)]

    def post_many(question, count):
        parent = None
        for n in range(count):
            # Every third comment starts a new thread; the others reply, so depth varies.
            comment = post_comment(
                question=question,
                author=authors[n % 3],
                objectives=[n % 23 + 1, 4],
                parent=None if n % 3 == 0 else parent,
            )
            parent = comment

    post_many(small, 5)
    queries_for_5 = _export_query_count(consultation)
    post_many(large, 55)
    assert Comment.objects.filter(question__consultation=consultation).count() == 60
    queries_for_60 = _export_query_count(consultation)

    assert queries_for_60 == queries_for_5
    # The comments (with question, author, profile, key quote and campaign group joined), one
    # objectives query, one codes query and one attachments query (when some have files).
    assert queries_for_5 <= 4


def test_export_builds_no_model_instance_per_row(question, user, post_comment, attach_rows):
    for n in range(6):
        post_comment(question=question, author=user, objectives=[n + 1])
    attach_rows(Comment.objects.all())
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    pre_init.connect(count)
    try:
        rows = export_rows(question.consultation)
    finally:
        pre_init.disconnect(count)

    assert len(rows) == 6 and all(row["attachments"] for row in rows)
    assert built == []


def test_objectives_and_files_stay_with_their_rows_across_chunks(
    question, question2, user, post_comment, attach_rows, monkeypatch
):
    monkeypatch.setattr(export, "CHUNK_SIZE", 2)
    expected = {}
    for n in range(7):
        comment = post_comment(
            question=(question, question2)[n % 2], author=user, objectives=[n + 1, 23 - n]
        )
        expected[comment.pk] = f"{min(n + 1, 23 - n)};{max(n + 1, 23 - n)}"
    with_files = Comment.objects.filter(pk__in=list(expected)[1::3])
    files = {c.pk: [a.pk for a in attach_rows([c], count=2)] for c in with_files}

    rows = export_rows(question.consultation)

    assert len(rows) == 7
    for row in rows:
        pk = int(row["id"])
        assert row["objectives"] == expected[pk]
        urls = [f"{BASE_URL}/consultations/comments/attachments/{a}/" for a in files.get(pk, [])]
        assert row["attachments"] == " ".join(urls)


def test_peak_memory_does_not_grow_with_the_number_of_comments(consultation, monkeypatch):
    monkeypatch.setattr(export, "CHUNK_SIZE", 100)

    def peak(count):
        exported = populate_bulk(count)
        tracemalloc.start()
        try:
            for _ in iter_csv(exported, base_url=BASE_URL):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(300), peak(3000)

    assert large < 1.5 * small


# The management command


def test_command_writes_to_standard_output(question, user, post_comment, settings):
    settings.SITE_URL = BASE_URL
    comment = post_comment(question=question, author=user)

    output = command_output("safe-borders")

    assert output == export_text(question.consultation)
    assert f"{BASE_URL}/consultations/c/{comment.pk}/" in output


def test_command_writes_the_output_file_with_filters(
    question, question2, user, post_comment, settings, tmp_path
):
    settings.SITE_URL = BASE_URL
    post_comment(question=question, author=user, objectives=[10])
    wanted = post_comment(question=question2, author=user, objectives=[10])
    path = tmp_path / "comments.csv"

    stdout = command_output("safe-borders", question=2, objective=10, output=str(path))

    assert stdout == ""
    data = path.read_bytes()
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8")
    assert text == export_text(question.consultation, question=2, objective=10)
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert ids(rows) == [wanted.pk]


def test_command_exports_an_unpublished_consultation(make_consultation, user, post_comment):
    draft = make_consultation(slug="draft-review")
    question = Question.objects.create(consultation=draft, number=1, text="Draft question?")
    comment = post_comment(question=question, author=user)
    draft.is_published = False
    draft.save()

    rows = list(csv.DictReader(io.StringIO(command_output("draft-review").removeprefix(BOM))))

    assert ids(rows) == [comment.pk]


def test_command_rejects_an_unknown_slug(db):
    with pytest.raises(CommandError, match="no-such-consultation"):
        call_command("export_comments", "no-such-consultation", stdout=io.StringIO())


def test_command_rejects_a_question_number_the_consultation_lacks(question):
    with pytest.raises(CommandError, match="no question 7"):
        call_command("export_comments", "safe-borders", "--question", "7", stdout=io.StringIO())


@pytest.mark.parametrize("number", ["0", "24"])
def test_command_rejects_an_objective_outside_1_to_23(consultation, number):
    with pytest.raises(CommandError, match=f"no objective {number}"):
        call_command("export_comments", "safe-borders", "--objective", number, stdout=io.StringIO())


# The web download


def export_url(slug="safe-borders", query=""):
    return reverse("consultations:export", kwargs={"slug": slug}) + query


def test_anonymous_download_redirects_to_login(client, consultation):
    response = client.get(export_url(query="?question=1"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert "export.csv" in response["Location"]


def test_participant_without_staff_status_gets_403(client, user, consultation):
    client.force_login(user)

    response = client.get(export_url())

    assert response.status_code == 403


def test_staff_download_streams_what_the_command_writes(
    client, staff_user, question, question2, user, other_user, moderator, post_comment, settings
):
    settings.SITE_URL = "http://testserver"
    top = post_comment(question=question2, author=user, objectives=[4, 10])
    post_comment(question=question, author=other_user, body='Costs, "fees" and =risks')
    hidden = post_comment(question=question2, author=other_user, parent=top)
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    client.force_login(staff_user)

    response = client.get(export_url())

    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="safe-borders-comments-{today}.csv"'
    )
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content == command_output("safe-borders")
    assert content.count("\r\n") == 4  # header and three comments


def test_staff_download_applies_filters_and_names_them(
    client, staff_user, question, question2, user, post_comment
):
    post_comment(question=question, author=user, objectives=[10])
    wanted = post_comment(question=question2, author=user, objectives=[10])
    client.force_login(staff_user)

    response = client.get(export_url(query="?question=2&objective=10"))

    assert response.status_code == 200
    assert "safe-borders-q2-obj10-comments-" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8").removeprefix(BOM)
    assert ids(csv.DictReader(io.StringIO(content, newline=""))) == [wanted.pk]


def test_staff_can_download_an_unpublished_consultation(client, staff_user, make_consultation):
    make_consultation(slug="draft-review", is_published=False)
    client.force_login(staff_user)

    response = client.get(export_url("draft-review"))

    assert response.status_code == 200


def test_download_of_an_unknown_consultation_is_404(client, staff_user):
    client.force_login(staff_user)

    response = client.get(export_url("no-such-consultation"))

    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    ["?question=two", "?question=9", "?objective=24", "?objective=0", "?objective=x", "?hidden=no"],
)
def test_bad_filter_is_a_400_page_in_the_site_layout_with_the_reason(
    client, staff_user, question, query
):
    client.force_login(staff_user)

    response = client.get(export_url(query=query))

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert '<header class="site-header">' in html
    assert "<h1>The export cannot be made</h1>" in html
    reason = html[html.index('role="alert"') :]
    assert query.partition("=")[2] in reason[: reason.index("</div>")]


def test_every_bad_filter_is_named_at_once(client, staff_user, question):
    client.force_login(staff_user)

    response = client.get(export_url(query="?question=9&objective=x"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "Consultation “safe-borders” has no question 9." in html
    assert "The objective filter must be a number, not “x”." in html


def test_hidden_0_in_the_query_leaves_out_hidden_comments(
    client, staff_user, question, user, moderator, post_comment
):
    shown = post_comment(question=question, author=user)
    hidden = post_comment(question=question, author=user)
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    client.force_login(staff_user)

    def downloaded(query):
        response = client.get(export_url(query=query))
        content = b"".join(response.streaming_content).decode("utf-8").removeprefix(BOM)
        return ids(csv.DictReader(io.StringIO(content, newline="")))

    assert downloaded("?hidden=0") == [shown.pk]
    assert downloaded("?hidden=1") == downloaded("") == [shown.pk, hidden.pk]


# One parser for both paths


@pytest.mark.parametrize(
    ("query", "options"),
    [
        ({}, {}),
        ({"question": "2"}, {"question": "2"}),
        ({"question": " 2 ", "objective": "10"}, {"question": 2, "objective": 10}),
        ({"objective": "10", "hidden": "0"}, {"objective": "10", "exclude_hidden": True}),
        ({"hidden": "1"}, {"exclude_hidden": False}),
    ],
)
def test_query_and_command_options_give_the_same_filters(question, question2, query, options):
    from_query = export.filters_from_query(question.consultation, query)

    assert from_query == export.filters_from_options(question.consultation, options)
    assert from_query.question == (2 if "question" in query else None)
    assert from_query.objective == (10 if "objective" in query else None)
    assert from_query.include_hidden is (query.get("hidden") != "0")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("question", "two", "The question filter must be a number, not “two”."),
        ("question", "-1", "The question filter must be a number, not “-1”."),
        ("question", "9", "Consultation “safe-borders” has no question 9."),
        ("question", "99999999999999999999", "has no question 99999999999999999999."),
        ("objective", "x", "The objective filter must be a number, not “x”."),
        ("objective", "1.5", "The objective filter must be a number, not “1.5”."),
        ("objective", "0", "There is no objective 0: objectives are numbered 1 to 23."),
        ("objective", "24", "There is no objective 24: objectives are numbered 1 to 23."),
    ],
)
def test_web_and_command_refuse_a_bad_filter_with_the_same_message(
    client, staff_user, question, name, value, message
):
    with pytest.raises(ExportFilterError) as parsed:
        export.filters_from_query(question.consultation, {name: value})
    client.force_login(staff_user)

    response = client.get(export_url(query=f"?{name}={value}"))
    with pytest.raises(CommandError) as command:
        call_command("export_comments", "safe-borders", f"--{name}", value, stdout=io.StringIO())

    assert message in parsed.value.messages[0]
    assert response.status_code == 400
    assert parsed.value.messages[0] in response.content.decode()
    assert str(command.value) == parsed.value.messages[0]


def _download_link(html: str) -> str:
    [href] = re.findall(r'<a [^>]*href="([^"]*)"[^>]*>Download comments \(CSV\)</a>', html)
    return unescape(href)


@pytest.mark.parametrize(
    ("page_query", "expected"), [("?objective=10", "tagged"), ("", "all"), ("?objective=99", "all")]
)
def test_download_link_on_a_filtered_page_exports_what_the_page_shows(
    client, staff_user, question, question2, user, post_comment, page_query, expected
):
    tagged = [
        post_comment(question=question, author=user, objectives=[10, 4]),
        post_comment(question=question2, author=user, objectives=[10]),
    ]
    untagged = post_comment(question=question, author=user, objectives=[4])
    client.force_login(staff_user)

    page = client.get(question.consultation.get_absolute_url() + page_query)
    link = _download_link(page.content.decode())
    response = client.get(link)

    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8").removeprefix(BOM)
    exported = ids(csv.DictReader(io.StringIO(content, newline="")))
    if expected == "tagged":
        assert link == export_url(query="?objective=10")
        assert exported == [tagged[0].pk, tagged[1].pk]
    else:
        # No filter, or one the page ignored as invalid: the whole consultation.
        assert link == export_url()
        assert sorted(exported) == sorted([*(c.pk for c in tagged), untagged.pk])


def test_download_refuses_post(client, staff_user, consultation):
    client.force_login(staff_user)

    response = client.post(export_url())

    assert response.status_code == 405
