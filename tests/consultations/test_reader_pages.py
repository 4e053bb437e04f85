"""What a new participant meets on a consultation page: bylines, questions, links and messages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import StakeholderType
from consultations.models import Report

pytestmark = pytest.mark.django_db


def _html(client, url):
    response = client.get(url)
    assert response.status_code == 200
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

    assert "City of Lyon (Local or regional government) wrote on" in moderate
    assert "City of Lyon" in queue and "Local or regional government</span>" in queue
