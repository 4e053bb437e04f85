"""The permission rules in one place: services refuse, pages show each comment's flags."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consultations import permissions, services
from consultations.models import Comment, CommentRevision, ModerationAction, Objective, Report

pytestmark = pytest.mark.django_db


def actions_of(page: str, comment: Comment) -> str:
    """The comment's action links, as the thread shows them."""
    start = page.index(f'id="comment-{comment.pk}"')
    end = page.index("</article>", start)
    article = page[start:end]
    return article[article.index('class="comment__actions"') :]


def test_a_comment_the_viewer_reported_shows_reported_instead_of_a_report_link(
    client, consultation, question, user, other_user, post_comment
):
    reported = post_comment(question=question, author=other_user, body="Reported one")
    not_reported = post_comment(question=question, author=other_user, body="Another one")
    services.comment_report(comment=reported, reporter=user, reason="spam")
    client.force_login(user)

    page = client.get(consultation.get_absolute_url()).content.decode()

    assert "Reported" in actions_of(page, reported)
    assert f"/comments/{reported.pk}/report/" not in page
    assert f"/comments/{not_reported.pk}/report/" in actions_of(page, not_reported)


def test_authors_see_edit_and_delete_on_their_own_comments_and_no_report(
    client, consultation, question, user, other_user, post_comment
):
    own = post_comment(question=question, author=user, body="Mine")
    theirs = post_comment(question=question, author=other_user, body="Theirs")
    client.force_login(user)

    page = client.get(consultation.get_absolute_url()).content.decode()

    mine = actions_of(page, own)
    assert f"/comments/{own.pk}/edit/" in mine and f"/comments/{own.pk}/delete/" in mine
    assert "/report/" not in mine
    other = actions_of(page, theirs)
    assert "/edit/" not in other and "/delete/" not in other and "/report/" in other


def test_moderators_see_edit_and_moderate_on_every_comment(
    client, consultation, question, user, moderator, post_comment
):
    comments = [post_comment(question=question, author=user) for _ in range(5)]
    client.force_login(moderator)

    page = client.get(consultation.get_absolute_url()).content.decode()

    for comment in comments:
        links = actions_of(page, comment)
        assert f"/comments/{comment.pk}/edit/" in links
        assert f"/comments/{comment.pk}/moderate/" in links
        assert f"/comments/{comment.pk}/delete/" not in links  # only authors withdraw
    assert 'href="/consultations/moderation/"' in page  # the header's link, from the same rule


def test_after_the_consultation_closes_authors_can_no_longer_edit_but_can_delete(
    client, consultation, question, user, post_comment
):
    own = post_comment(question=question, author=user, body="Mine")
    consultation.opens_at = timezone.now() - timedelta(days=10)
    consultation.closes_at = timezone.now() - timedelta(days=1)
    consultation.save()
    client.force_login(user)

    links = actions_of(client.get(consultation.get_absolute_url()).content.decode(), own)

    assert "/edit/" not in links and f"/comments/{own.pk}/delete/" in links
    assert not permissions.can_edit(user, Comment.objects.get(pk=own.pk))


def test_the_services_refuse_what_the_rules_refuse_whoever_calls_them(
    question, user, other_user, unverified_user, post_comment
):
    comment = post_comment(question=question, author=user, body="Mine")
    with pytest.raises(PermissionDenied):
        services.comment_edit(comment=comment, by=other_user, body="Hijacked", objectives=[])
    with pytest.raises(PermissionDenied):
        services.comment_delete(comment=comment, by=other_user)
    with pytest.raises(PermissionDenied):
        services.comment_report(comment=comment, reporter=user, reason="spam")
    with pytest.raises(services.EmailNotVerified):
        services.comment_create(question=question, author=unverified_user, body="Hello")
    with pytest.raises(PermissionDenied):
        services.comment_set_objectives(comment=comment, by=other_user, objectives=[])
    comment.refresh_from_db()
    assert comment.body == "<p>Mine</p>" and comment.status == Comment.Status.PUBLISHED
    assert not Report.objects.exists()


def test_the_page_asks_the_same_number_of_queries_for_a_reader_with_many_reports(
    client, consultation, question, user, make_user, post_comment
):
    client.force_login(user)
    authors = [make_user() for _ in range(3)]
    comments = [post_comment(question=question, author=authors[n % 3]) for n in range(6)]
    client.get(consultation.get_absolute_url())  # stores the comments' HTML
    with CaptureQueriesContext(connection) as few:
        client.get(consultation.get_absolute_url())
    for comment in comments:
        services.comment_report(comment=comment, reporter=user, reason="spam")
    with CaptureQueriesContext(connection) as many:
        client.get(consultation.get_absolute_url())
    assert len(few.captured_queries) == len(many.captured_queries)


# --- Writes that go through services ----------------------------------------------------------


def test_hiding_restoring_and_deleting_move_updated_at(question, user, moderator, post_comment):
    comment = post_comment(question=question, author=user)
    long_ago = timezone.now() - timedelta(days=3)

    for change in (
        lambda: services.comment_hide(comment=comment, by=moderator, reason="spam"),
        lambda: services.comment_restore(comment=comment, by=moderator),
        lambda: services.comment_delete(comment=comment, by=user),
    ):
        Comment.objects.filter(pk=comment.pk).update(updated_at=long_ago)
        change()
        assert Comment.objects.get(pk=comment.pk).updated_at > long_ago


def test_changing_a_comments_objectives_in_the_admin_keeps_a_revision_and_a_log_entry(
    client, question, user, moderator, post_comment
):
    comment = post_comment(question=question, author=user, body="Tag me", objectives=[4])
    client.force_login(moderator)
    tags = [str(o.pk) for o in Objective.objects.filter(number__in=[10, 11])]

    response = client.post(
        f"/admin/consultations/comment/{comment.pk}/change/", {"objectives": tags}
    )

    assert response.status_code == 302
    comment.refresh_from_db()
    assert sorted(comment.objectives.values_list("number", flat=True)) == [10, 11]
    revision = CommentRevision.objects.get(comment=comment)
    assert (revision.objectives, revision.edited_by) == ("4", moderator)
    assert revision.body == comment.body == "<p>Tag me</p>"
    action = ModerationAction.objects.get(comment=comment)
    assert (action.kind, action.actor) == (ModerationAction.Kind.EDIT, moderator)
    assert comment.edited_at is None  # the author's words did not change


def test_the_hidden_comment_email_links_to_the_host_the_moderator_used(
    client,
    consultation,
    question,
    user,
    moderator,
    post_comment,
    mailoutbox,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.SITE_URL = "https://consult.example.org"
    comment = post_comment(question=question, author=user, body="Hide me")
    client.force_login(moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/consultations/comments/{comment.pk}/moderate/",
            {"action": "hide", "reason": "spam"},
            HTTP_HOST="localhost:8301",
        )

    assert response.status_code == 302
    (mail,) = mailoutbox
    assert f"http://localhost:8301/consultations/c/{comment.pk}/" in mail.body


def test_the_hidden_comment_email_waits_for_the_commit_and_uses_site_url_outside_a_request(
    question,
    user,
    moderator,
    post_comment,
    mailoutbox,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = "https://consult.example.org"
    comment = post_comment(question=question, author=user, body="Hide me")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.comment_hide(comment=comment, by=moderator, reason="spam")
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    (mail,) = mailoutbox
    assert "https://consult.example.org/consultations/c/" in mail.body


def test_the_hidden_comment_email_is_in_the_authors_language(
    question, user, moderator, post_comment, mailoutbox, django_capture_on_commit_callbacks
):
    user.profile.language = "fr"
    user.profile.save()
    comment = post_comment(question=question, author=user, body="Cachez-moi")

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_hide(comment=comment, by=moderator, reason="spam")

    (mail,) = mailoutbox
    assert mail.subject == "[Consultations du PMM] Votre commentaire a été masqué par un modérateur"
    assert "Motif\xa0: Spam" in mail.body
    assert "Bonjour Amina Diallo," in mail.body
