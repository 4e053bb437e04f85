"""Moderation workflow: reports, the queue, hiding with a reason, restoring, and the log."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied

from consultations import services
from consultations.models import Comment, ModerationAction, Report

pytestmark = pytest.mark.django_db


def report_url(comment):
    return f"/consultations/comments/{comment.pk}/report/"


def moderate_url(comment):
    return f"/consultations/comments/{comment.pk}/moderate/"


def test_logged_in_user_reports_a_comment_once_with_a_reason(
    client, question, user, other_user, post_comment
):
    comment = post_comment(question=question, author=other_user)
    client.force_login(user)

    response = client.post(report_url(comment), {"reason": "spam", "details": "Advert"})
    again = client.post(report_url(comment), {"reason": "offensive", "details": "Twice"})

    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.reporter, report.reason, report.details) == (user, "spam", "Advert")
    assert again.status_code == 400
    assert "already reported" in again.content.decode()
    assert "Twice</textarea>" in again.content.decode()  # the typed details are kept
    assert Report.objects.count() == 1


def test_report_needs_a_reason_and_keeps_the_details(
    client, question, user, other_user, post_comment
):
    comment = post_comment(question=question, author=other_user)
    client.force_login(user)
    response = client.post(report_url(comment), {"reason": "", "details": "Kept details"})
    assert response.status_code == 400
    assert "Choose a reason." in response.content.decode()
    assert "Kept details</textarea>" in response.content.decode()
    assert Report.objects.count() == 0


def test_anonymous_report_leads_to_login_and_saves_nothing(
    client, question, other_user, post_comment
):
    comment = post_comment(question=question, author=other_user)
    response = client.post(report_url(comment), {"reason": "spam"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Report.objects.count() == 0


def test_own_comment_cannot_be_reported(client, question, user, post_comment):
    comment = post_comment(question=question, author=user)
    client.force_login(user)
    assert client.post(report_url(comment), {"reason": "spam"}).status_code == 403
    # The service refuses it too, whoever calls it (the rule lives in permissions.py).
    with pytest.raises(PermissionDenied):
        services.comment_report(comment=comment, reporter=user, reason="spam")
    assert Report.objects.count() == 0


def test_queue_lists_reported_comments_newest_reports_first_with_counts(
    client, question, make_user, moderator, post_comment
):
    author = make_user(display_name="Author Person")
    older = post_comment(question=question, author=author, body="Older reported text")
    newer = post_comment(question=question, author=author, body="Newer reported text")
    quiet = post_comment(question=question, author=author, body="Never reported text")
    for reason in ("spam", "spam", "offensive"):
        services.comment_report(comment=older, reporter=make_user(), reason=reason)
    services.comment_report(comment=newer, reporter=make_user(), reason="off_topic")

    client.force_login(moderator)
    html = client.get("/consultations/moderation/").content.decode()

    assert html.index("Newer reported text") < html.index("Older reported text")
    assert "Never reported text" not in html
    assert "3 open reports" in html and "1 open report" in html
    assert "Spam: 2" in html and "Offensive: 1" in html and "Off-topic: 1" in html
    assert quiet.status == Comment.Status.PUBLISHED


@pytest.mark.parametrize("who", ["anonymous", "user", "staff_user"])
def test_queue_is_for_moderators_only(client, who, request):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get("/consultations/moderation/")
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403


def test_moderator_hides_with_a_reason_placeholder_shows_replies_stay_author_is_emailed(
    client,
    consultation,
    question,
    user,
    other_user,
    moderator,
    post_comment,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    root = post_comment(question=question, author=user, body="Buy cheap watches")
    reply = post_comment(question=question, author=other_user, body="Reply stays", parent=root)
    services.comment_report(comment=root, reporter=other_user, reason="spam")
    client.force_login(moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            moderate_url(root), {"action": "hide", "reason": "off_topic", "note": "Advert"}
        )

    assert response.status_code == 302
    root.refresh_from_db()
    assert (root.status, root.hidden_reason) == (Comment.Status.HIDDEN, "off_topic")
    assert Report.objects.get().resolution == Report.Resolution.HIDDEN
    action = ModerationAction.objects.get()
    assert (action.actor, action.kind, action.reason, action.note) == (
        moderator,
        "hide",
        "off_topic",
        "Advert",
    )
    (mail,) = mailoutbox
    assert mail.to == [user.email]
    assert "hidden" in mail.subject and "Off-topic" in mail.body
    assert "Advert" not in mail.body  # the note is for the log, not the author

    page = client.get(consultation.get_absolute_url()).content.decode()
    assert "Hidden by a moderator: off-topic" in page
    assert "Buy cheap watches" not in page
    assert "Reply stays" in page and f'id="comment-{reply.pk}"' in page


def test_moderator_restores_a_hidden_comment(
    client, consultation, question, user, moderator, post_comment
):
    comment = post_comment(question=question, author=user, body="Back again")
    services.comment_hide(comment=comment, by=moderator, reason="spam")
    client.force_login(moderator)

    client.post(moderate_url(comment), {"action": "restore", "note": "Mistake"})

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED and comment.hidden_reason == ""
    kinds = list(ModerationAction.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["hide", "restore"]
    assert "Back again" in client.get(consultation.get_absolute_url()).content.decode()


def test_hide_without_a_reason_is_refused_and_changes_nothing(
    client, question, user, moderator, post_comment
):
    comment = post_comment(question=question, author=user)
    client.force_login(moderator)
    response = client.post(moderate_url(comment), {"action": "hide", "reason": ""})
    assert response.status_code == 400
    assert "Choose why the comment is hidden." in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert not ModerationAction.objects.exists()


def test_moderator_dismisses_a_report(client, question, user, other_user, moderator, post_comment):
    comment = post_comment(question=question, author=user)
    report = services.comment_report(comment=comment, reporter=other_user, reason="offensive")
    client.force_login(moderator)

    client.post(moderate_url(comment), {"action": "dismiss", "report": report.pk})

    report.refresh_from_db()
    assert report.resolution == Report.Resolution.DISMISSED and report.resolved_by == moderator
    assert ModerationAction.objects.get().kind == "dismiss_report"
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert (
        "No reported comment is waiting"
        in client.get("/consultations/moderation/").content.decode()
    )


def test_moderation_page_is_refused_to_others(client, question, user, other_user, post_comment):
    comment = post_comment(question=question, author=user)
    client.force_login(other_user)
    assert (
        client.post(moderate_url(comment), {"action": "hide", "reason": "spam"}).status_code == 403
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED


@pytest.mark.parametrize(
    "call",
    [
        lambda c, u, r: services.comment_hide(comment=c, by=u, reason="spam"),
        lambda c, u, r: services.comment_restore(comment=c, by=u),
        lambda c, u, r: services.report_dismiss(report=r, by=u),
    ],
    ids=["hide", "restore", "dismiss"],
)
def test_services_refuse_moderation_by_non_moderators(
    question, user, other_user, post_comment, call
):
    comment = post_comment(question=question, author=user)
    report = services.comment_report(comment=comment, reporter=other_user, reason="spam")
    with pytest.raises(PermissionDenied):
        call(comment, other_user, report)
    assert not ModerationAction.objects.exists()


def test_moderation_log_csv_lists_every_action(
    client, question, user, other_user, moderator, post_comment
):
    comment = post_comment(question=question, author=user)
    report = services.comment_report(comment=comment, reporter=other_user, reason="spam")
    services.report_dismiss(report=report, by=moderator, note="=not spam")
    services.comment_hide(comment=comment, by=moderator, reason="offensive", note="Insult")
    services.comment_restore(comment=comment, by=moderator)
    client.force_login(moderator)

    response = client.get("/consultations/moderation/log.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["action"] for r in rows] == ["Restore", "Hide", "Dismiss report"]
    assert rows[1]["reason"] == "Offensive" and rows[1]["note"] == "Insult"
    assert rows[2]["note"] == "'=not spam"  # formula injection neutralised
    assert all(
        r["moderator"] == "Mira Moderator" and r["comment_id"] == str(comment.pk) for r in rows
    )
    assert rows[0]["url"].endswith(f"/c/{comment.pk}/")


def test_moderation_log_is_visible_in_the_admin(client, question, user, moderator, post_comment):
    comment = post_comment(question=question, author=user)
    services.comment_hide(comment=comment, by=moderator, reason="spam", note="Link farm")
    client.force_login(moderator)
    html = client.get("/admin/consultations/moderationaction/").content.decode()
    assert "Link farm" in html and "Download the log as CSV" in html


def test_staff_export_marks_hidden_comments_and_can_leave_them_out(
    client, consultation, question, user, staff_user, moderator, post_comment
):
    shown = post_comment(question=question, author=user, body="Shown")
    hidden = post_comment(question=question, author=user, body="Hidden one")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")
    client.force_login(staff_user)

    def ids_and_status(url):
        text = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
        return [(r["id"], r["status"]) for r in csv.DictReader(io.StringIO(text))]

    url = f"/consultations/{consultation.slug}/export.csv"
    assert ids_and_status(url) == [(str(shown.pk), "published"), (str(hidden.pk), "hidden")]
    assert ids_and_status(url + "?hidden=0") == [(str(shown.pk), "published")]


def test_export_command_can_leave_hidden_comments_out(
    consultation, question, user, moderator, post_comment
):
    from django.core.management import call_command

    shown = post_comment(question=question, author=user, body="Shown")
    hidden = post_comment(question=question, author=user, body="Hidden one")
    services.comment_hide(comment=hidden, by=moderator, reason="spam")

    def exported_ids(*flags):
        out = io.StringIO()
        call_command("export_comments", consultation.slug, *flags, stdout=out)
        return [r["id"] for r in csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")))]

    assert exported_ids() == [str(shown.pk), str(hidden.pk)]
    assert exported_ids("--exclude-hidden") == [str(shown.pk)]


def test_deleted_comment_keeps_its_row_but_not_its_text_in_the_export(
    client, consultation, question, user, other_user, staff_user, post_comment
):
    root = post_comment(question=question, author=user, body="Withdrawn")
    reply = post_comment(question=question, author=other_user, body="Reply", parent=root)
    services.comment_delete(comment=root, by=user)
    client.force_login(staff_user)
    text = b"".join(
        client.get(f"/consultations/{consultation.slug}/export.csv").streaming_content
    ).decode("utf-8-sig")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows[str(root.pk)]["status"] == "deleted" and rows[str(root.pk)]["text"] == ""
    assert rows[str(reply.pk)]["parent_id"] == str(root.pk)
