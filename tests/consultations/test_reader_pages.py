"""What a new participant meets on a consultation page: bylines, questions, links and messages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import StakeholderType
from consultations.models import Question, Report

pytestmark = pytest.mark.django_db


def _html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _landing(client, url):
    """The page a comment's permalink redirects to."""
    response = client.get(url, follow=True)
    assert response.status_code == 200 and response.redirect_chain
    return response.content.decode()


def _article(html: str, comment) -> str:
    start = html.index(f'id="comment-{comment.pk}"')
    return html[start : html.index("</article>", start)]


def test_thread_byline_shows_the_short_stakeholder_type_with_the_full_one_for_readers(
    client, consultation, question, make_user, post_comment
):
    igo = make_user(organisation="IOM", stakeholder_type=StakeholderType.INTERGOVERNMENTAL)
    ngo = make_user(stakeholder_type=StakeholderType.CIVIL_SOCIETY)
    by_igo = post_comment(question=question, author=igo)
    by_ngo = post_comment(question=question, author=ngo)

    html = _html(client, consultation.get_absolute_url())

    byline = _article(html, by_igo).split("</p>")[0]
    assert 'title="Intergovernmental organisation"' in byline
    assert '<span aria-hidden="true">IGO</span>' in byline
    assert '<span class="visually-hidden">Intergovernmental organisation</span>' in byline
    assert byline.index("IOM") < byline.index("IGO")  # beside the organisation
    # Where short and full labels are the same, the label appears once.
    assert re.search(r'title="Civil society">Civil society</span>', _article(html, by_ngo))


def test_every_stakeholder_type_has_a_short_label():
    assert {t.short_label for t in StakeholderType} >= {"UN", "IGO", "Migrant/diaspora"}
    assert all(t.short_label for t in StakeholderType)


def test_stakeholder_types_add_no_query_per_comment(
    client, consultation, question, make_user, post_comment
):
    url = consultation.get_absolute_url()
    types = list(StakeholderType)
    post_comment(question=question, author=make_user(stakeholder_type=types[0]))
    with CaptureQueriesContext(connection) as few:
        _html(client, url)
    for kind in types[1:]:
        author = make_user(stakeholder_type=kind)
        for _ in range(3):
            post_comment(question=question, author=author)
    with CaptureQueriesContext(connection) as many:
        html = _html(client, url)
    assert len(many) == len(few)
    assert all(f'title="{kind.label}"' in html for kind in types)


def test_comment_quote_and_moderation_queue_show_the_stakeholder_type(
    client, question, make_user, moderator, post_comment
):
    author = make_user(
        organisation="City of Lyon", stakeholder_type=StakeholderType.LOCAL_GOVERNMENT
    )
    reporter = make_user()
    comment = post_comment(question=question, author=author)
    Report.objects.create(comment=comment, reporter=reporter, reason="spam")
    client.force_login(moderator)

    moderate = _html(client, f"/consultations/comments/{comment.pk}/moderate/")
    queue = _html(client, "/consultations/moderation/")

    assert "<bdi>City of Lyon</bdi> (Local or regional government) wrote on" in moderate
    assert "City of Lyon" in queue and "Local or regional government</span>" in queue


def test_posting_confirmation_shows_once_inside_the_new_comment(
    client, consultation, question, user
):
    client.force_login(user)

    response = client.post(
        f"/consultations/{consultation.slug}/questions/{question.number}/comment/",
        {"body": "Firewalls between services and immigration enforcement."},
    )
    comment = question.comments.get()
    assert response.status_code == 302
    assert response["Location"] == comment.get_absolute_url()

    html = _landing(client, response["Location"])
    assert html.count("Your comment has been posted.") == 1
    assert "Your comment has been posted." in _article(html, comment)
    # Seen once: a reload shows it no more.
    assert "Your comment has been posted." not in _html(client, consultation.get_absolute_url())


def test_edit_confirmation_shows_inside_the_edited_comment(
    client, consultation, question, user, post_comment
):
    comment = post_comment(question=question, author=user, body="First version")
    client.force_login(user)

    response = client.post(f"/consultations/comments/{comment.pk}/edit/", {"body": "Second"})
    assert response["Location"] == comment.get_absolute_url()

    html = _landing(client, response["Location"])
    assert html.count("Your changes have been saved.") == 1
    assert "Your changes have been saved." in _article(html, comment)


def test_other_messages_still_show_at_the_top_of_the_consultation_page(
    client, consultation, question, user, post_comment
):
    comment = post_comment(question=question, author=user)
    client.force_login(user)

    response = client.post(f"/consultations/comments/{comment.pk}/delete/")

    html = _landing(client, response["Location"])
    assert html.count("Your comment has been deleted.") == 1
    assert html.index("Your comment has been deleted.") < html.index(f'id="comment-{comment.pk}"')


def test_question_heading_links_to_its_comment_form(
    client, consultation, question, user, other_user, post_comment
):
    post_comment(question=question, author=other_user)  # the form is after a thread, folded
    client.force_login(user)

    html = _html(client, consultation.get_absolute_url())

    section = html[html.index('id="question-1"') :]
    link = '<a class="question__compose-link" href="#question-1-form">Comment on question 1</a>'
    assert link in section
    assert section.index(link) < section.index('class="thread"')
    assert 'id="question-1-form"' in section


def test_anonymous_reader_gets_a_log_in_link_beside_each_question(client, consultation, question):
    html = _html(client, consultation.get_absolute_url())

    login = (
        f'href="/accounts/login/?next={consultation.get_absolute_url()}%23question-1">'
        "Log in to comment on question 1</a>"
    )
    assert login in html
    assert "Log in to post a comment" in html  # the notice under the question stays


def test_question_shows_who_posed_it_and_when(client, consultation, question, question2, moderator):
    question.created_by = moderator
    question.save()

    html = _html(client, consultation.get_absolute_url())

    first = html[html.index('id="question-1"') : html.index('id="question-2"')]
    second = html[html.index('id="question-2"') :]
    when = question.created_at.strftime("%Y")
    assert "Posed by Mira Moderator on" in first and when in first
    assert f'<time datetime="{question.created_at.isoformat()}' in first
    assert "Posed on" in second and "Posed by" not in second


def test_question_authors_add_no_query_per_question(
    client, consultation, question, make_user, moderator
):
    question.created_by = moderator
    question.save()
    url = consultation.get_absolute_url()
    with CaptureQueriesContext(connection) as few:
        _html(client, url)
    for number in range(2, 8):
        Question.objects.create(
            consultation=consultation, number=number, text="Q?", created_by=make_user()
        )
    with CaptureQueriesContext(connection) as many:
        _html(client, url)
    assert len(many) == len(few)
