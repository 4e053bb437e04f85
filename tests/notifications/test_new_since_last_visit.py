"""The "New since your last visit" marks on consultation and question pages: comments by
others published after the end of the reader's previous visit, marked around the stored
fragment at render time, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consultations.models import Comment, CommentFragment
from notifications import visits
from notifications.models import ConsultationVisit

pytestmark = pytest.mark.django_db

MARK = '<p class="comment__new"><span class="badge badge--new">New</span>'


def _end_the_visit(user, consultation, settings):
    """As if the reader left VISIT_GAP_SECONDS and more ago."""
    ago = timezone.now() - timedelta(seconds=settings.VISIT_GAP_SECONDS + 60)
    ConsultationVisit.objects.filter(user=user, consultation=consultation).update(last_seen_at=ago)
    # Comments already on the page came before the reader's last look.
    Comment.objects.update(created_at=ago - timedelta(minutes=1))
    return ago


def _marked(html: str) -> set[int]:
    found = set()
    for part in html.split('id="comment-')[1:]:
        pk, rest = part.split('"', 1)
        if (
            pk.isdigit()
            and rest.lstrip().startswith('aria-labelledby="comment-')
            and (rest.split(">", 1)[1].startswith(MARK))
        ):
            found.add(int(pk))
    return found


def test_the_first_visit_marks_nothing_and_a_later_one_marks_what_came_since(
    client, question, user, other_user, post_comment, settings
):
    consultation = question.consultation
    old = post_comment(question=question, author=other_user, body="Before my visit.")
    client.force_login(user)
    page = consultation.get_absolute_url()
    assert _marked(client.get(page).content.decode()) == set()
    visit = ConsultationVisit.objects.get(user=user, consultation=consultation)
    assert visit.new_since is None

    _end_the_visit(user, consultation, settings)
    new = post_comment(question=question, author=other_user, body="After my visit.")
    mine = post_comment(question=question, author=user, body="Mine, after my visit.")
    reply = post_comment(question=question, author=other_user, parent=old, body="A new reply.")

    html = client.get(page).content.decode()
    assert _marked(html) == {new.pk, reply.pk}
    assert "since your last visit" in html and mine.pk not in _marked(html)
    # Within the same visit, on the question page too, the same marks.
    question_html = client.get(page + "questions/1/").content.decode()
    assert _marked(question_html) == {new.pk, reply.pk}
    # The stored fragments carry no mark: it is the reader's, not everyone's.
    assert not CommentFragment.objects.filter(html__contains="badge--new").exists()
    # Another reader, on their first visit, sees none.
    client.force_login(other_user)
    assert _marked(client.get(page).content.decode()) == set()


def test_the_anonymous_see_no_marks_and_record_no_visit(client, question, other_user, post_comment):
    post_comment(question=question, author=other_user)
    html = client.get(question.consultation.get_absolute_url()).content.decode()
    assert "badge--new" not in html
    assert not ConsultationVisit.objects.exists()


def test_a_visit_ends_after_the_gap(question, user, settings):
    consultation = question.consultation
    start = timezone.now()
    gap = timedelta(seconds=settings.VISIT_GAP_SECONDS)
    assert visits.record(user, consultation, now=start) is None
    assert visits.record(user, consultation, now=start + gap / 2) is None
    # Views closer than the gap keep the visit going, however long it lasts.
    assert visits.record(user, consultation, now=start + gap) is None
    later = start + gap * 3
    assert visits.record(user, consultation, now=later) == start + gap
    assert visits.record(user, consultation, now=later + gap / 2) == start + gap
    assert visits.record(user, consultation, now=later + gap * 2) == later + gap / 2


def test_the_marks_cost_two_queries_whatever_the_number_of_comments(
    client, question, user, other_user, post_comment, settings
):
    consultation = question.consultation
    post_comment(question=question, author=other_user)
    client.force_login(user)
    urls = [consultation.get_absolute_url(), consultation.get_absolute_url() + "questions/1/"]

    def queries(url):
        client.get(url)  # stores fragments
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        return [q["sql"] for q in captured.captured_queries], html

    few = [queries(url) for url in urls]
    _end_the_visit(user, consultation, settings)
    for _ in range(8):
        post_comment(question=question, author=other_user)
    many = [queries(url) for url in urls]
    for (few_sql, few_html), (many_sql, many_html) in zip(few, many, strict=True):
        assert "badge--new" not in few_html and len(_marked(many_html)) == 8
        assert len(few_sql) == len(many_sql)
        assert len([q for q in many_sql if "notifications_consultationvisit" in q]) == 2
