"""Download my data (accounts.my_data): the page, the request, the background build, the email
and its expiring link, the ZIP's contents, and who may download it."""

import io
import json
import re
import threading
import zipfile
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import my_data
from accounts.models import DataExport, Profile
from consultations import services
from consultations.models import Comment, CommentRevision, Objective, Report
from notifications.models import Follow

State = DataExport.State
PAGE = "/accounts/my-data/"
TASK = "accounts.tasks.build_data_export"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def files_of(content: bytes) -> dict[str, object]:
    """The ZIP's files: JSON ones parsed, README.txt as text."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        return {
            name: (
                archive.read(name).decode()
                if name.endswith(".txt")
                else json.loads(archive.read(name))
            )
            for name in archive.namelist()
        }


def download(client, export: DataExport):
    response = client.get(my_data.download_path(export))
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content), response


def built_export(user, django_capture_on_commit_callbacks, **fields) -> DataExport:
    """A request made through the service and built by the task (the tests' ImmediateBackend
    runs it when its transaction commits)."""
    with django_capture_on_commit_callbacks(execute=True):
        export, created = my_data.export_request(user=user, base_url="http://testserver/")
    assert created
    export.refresh_from_db()
    assert export.state == State.DONE, export.last_error
    if fields:
        DataExport.objects.filter(pk=export.pk).update(**fields)
        export.refresh_from_db()
    return export


@pytest.fixture
def participation(user, other_user, moderator, consultation, question, question2, post_comment):
    """The user's comments (one edited by them and by a moderator, one a reply to someone else,
    one with a file, one hidden, one in another consultation), a report of theirs and follows;
    with other people's data around them that must stay out of the file."""
    others = post_comment(question=question, author=other_user, body="Jonas's own words here.")
    first = post_comment(
        question=question, author=user, body="<p>First version</p>", objectives=[4]
    )
    services.comment_edit(
        comment=first,
        by=user,
        body="<p>Second version</p>",
        objectives=Objective.objects.filter(number=8),
    )
    services.comment_edit(
        comment=first, by=moderator, body="<p>Third version</p>", objectives=[], note="Secret note"
    )
    reply = post_comment(question=question, author=user, body="Agreed with you.", parent=others)
    with_file = services.comment_create(
        question=question2,
        author=user,
        body="See the attached study.",
        attachments=[SimpleUploadedFile("study.pdf", PDF, content_type="application/pdf")],
    )
    hidden = post_comment(question=question2, author=user, body="A comment moderators hid.")
    services.comment_hide(
        comment=hidden, by=moderator, reason="off_topic", note="Moderator-only note"
    )
    report = services.comment_report(
        comment=others, reporter=user, reason="spam", details="Looks like an advert."
    )
    services.report_dismiss(report=report, by=moderator, note="Dismissal note")
    # Someone else's report and follow: not the user's.
    Report.objects.create(comment=first, reporter=other_user, reason="offensive", details="Theirs")
    Follow.objects.get_or_create(user=other_user, question=question)
    Follow.objects.create(user=user, consultation=consultation)
    return {
        "first": first,
        "reply": reply,
        "with_file": with_file,
        "hidden": hidden,
        "others": others,
    }


# --- The page ----------------------------------------------------------------------------------


def test_the_profile_page_links_to_the_data_page(client, user):
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Your data" in page and f'href="{PAGE}"' in page


def test_the_page_says_what_the_file_holds_and_offers_to_prepare_it(client, user):
    client.force_login(user)
    response = client.get(PAGE)
    page = response.content.decode()
    assert response.status_code == 200
    for name in ("profile.json", "comments.json", "reports.json", "notifications.json"):
        assert name in page
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page and "Prepare my data" in page
    assert "7 days" in page


def test_anonymous_visitors_are_sent_to_log_in_and_their_post_asks_for_nothing(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not DataExport.objects.exists()


def test_the_service_refuses_anonymous_users(db):
    with pytest.raises(PermissionDenied):
        my_data.export_request(user=AnonymousUser(), base_url="http://testserver/")
    with pytest.raises(PermissionDenied):
        my_data.export_for_download(user=AnonymousUser(), value="anything")


def test_the_post_needs_the_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(PAGE).status_code == 403
    assert not DataExport.objects.exists()


# --- Asking: one task, once ------------------------------------------------------------------


def test_the_post_records_a_request_and_enqueues_one_task_after_the_commit(
    client, user, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(PAGE, follow=True)
    export = DataExport.objects.get()
    assert export.user == user and export.state == State.QUEUED
    assert export.base_url == "http://testserver/"
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.get(task_path=TASK)
    assert queued.args_kwargs["args"] == [export.pk]
    page = response.content.decode()
    assert "We are preparing your data" in page and "is being prepared" in page


def test_a_second_post_while_one_is_on_its_way_queues_nothing(
    client, user, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(PAGE, follow=True)
    assert (
        DataExport.objects.count() == 1 and DBTaskResult.objects.filter(task_path=TASK).count() == 1
    )
    assert callbacks == []
    assert "already being prepared" in response.content.decode()
    # Being built counts as on its way too.
    DataExport.objects.update(state=State.BUILDING)
    export, created = my_data.export_request(user=user, base_url="http://testserver/")
    assert not created and DataExport.objects.count() == 1


def test_the_database_allows_one_request_on_its_way_per_user(user, other_user):
    DataExport.objects.create(user=user, base_url="/", state=State.BUILDING)
    DataExport.objects.create(user=other_user, base_url="/")  # another user's: fine
    DataExport.objects.create(user=user, base_url="/", state=State.DONE)  # not on its way: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        DataExport.objects.create(user=user, base_url="/")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_requests_at_once_make_one(make_user, settings):
    """Two clicks at the same moment, in two connections: one request, one task."""
    settings.TASKS = DATABASE_QUEUE
    user = make_user()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def ask():
        try:
            barrier.wait(timeout=10)
            results.append(my_data.export_request(user=user, base_url="http://testserver/")[1])
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False, True]
    assert DataExport.objects.filter(user=user).count() == 1
    assert DBTaskResult.objects.filter(task_path=TASK).count() == 1


def test_a_few_files_a_day_then_a_clear_message(client, user, settings):
    settings.DATA_EXPORTS_PER_DAY = 2
    now = timezone.now()
    for hours in (20, 3):
        DataExport.objects.create(
            user=user, base_url="/", state=State.EXPIRED, created_at=now - timedelta(hours=hours)
        )
    # Older than a day, or failed (the site's fault): not counted.
    DataExport.objects.create(
        user=user, base_url="/", state=State.EXPIRED, created_at=now - timedelta(hours=25)
    )
    DataExport.objects.create(user=user, base_url="/", state=State.FAILED)
    client.force_login(user)
    response = client.post(PAGE)
    assert response.status_code == 429
    page = response.content.decode()
    assert (
        "You can ask for your data 2 times in 24 hours" in page and "You can ask again from" in page
    )
    assert DataExport.objects.count() == 4
    with pytest.raises(my_data.TooManyExports) as limit:
        my_data.export_request(user=user, base_url="/", now=now)
    # The oldest counted one, 20 hours ago, leaves the window in 4 hours.
    assert abs(limit.value.retry_at - (now + timedelta(hours=4))) < timedelta(seconds=5)


def test_a_request_lost_on_its_way_may_be_made_again(user, settings):
    settings.TASKS = DATABASE_QUEUE
    lost = DataExport.objects.create(
        user=user, base_url="/", created_at=timezone.now() - timedelta(hours=7)
    )
    export, created = my_data.export_request(user=user, base_url="/")
    lost.refresh_from_db()
    assert created and export.pk != lost.pk and lost.state == State.FAILED


# --- Building, the email and the link ---------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_queue_and_its_worker_build_the_file_and_email_the_link(
    client, settings, make_user, mailoutbox
):
    """The production path: the POST records the request and enqueues the task after the
    commit; `manage.py db_worker` builds the file and emails the link, which downloads it."""
    settings.TASKS = DATABASE_QUEUE
    user = make_user(display_name="Amina Diallo")
    client.force_login(user)
    client.post(PAGE)
    export = DataExport.objects.get(user=user)
    assert export.state == State.QUEUED and mailoutbox == []
    assert DBTaskResult.objects.get(task_path=TASK).args_kwargs["args"] == [export.pk]
    call_command("db_worker", batch=True, no_startup_delay=True, stdout=io.StringIO())
    export.refresh_from_db()
    assert export.state == State.DONE and export.size > 0
    assert export.expires_at - export.built_at == timedelta(days=7)
    # A random name, which says nothing of whose file it is.
    assert re.fullmatch(r"data-exports/[0-9a-f]{32}\.zip", export.file.name)
    assert default_storage.exists(export.file.name)
    [email] = mailoutbox
    assert email.to == [user.email]
    link = next(word for word in email.body.split() if "/accounts/my-data/download/" in word)
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    files = files_of(b"".join(response.streaming_content))
    assert files["profile.json"]["display_name"] == "Amina Diallo"


def test_the_email_is_in_the_participants_language_in_text_and_html_without_unsubscribe(
    user, django_capture_on_commit_callbacks, mailoutbox
):
    Profile.objects.filter(user=user).update(language="fr")
    user.refresh_from_db()
    export = built_export(user, django_capture_on_commit_callbacks)
    [email] = mailoutbox
    assert email.to == [user.email]
    assert email.extra_headers["Content-Language"] == "fr"
    assert "List-Unsubscribe" not in email.extra_headers
    url = "http://testserver" + my_data.download_path(export)
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert url.split("/download/")[0] + "/download/" in email.body and "/download/" in html
    assert "Amina Diallo" in email.body and "Amina Diallo" in html


def test_no_email_to_an_unverified_address_but_the_page_offers_the_file(
    client, unverified_user, django_capture_on_commit_callbacks, mailoutbox
):
    export = built_export(unverified_user, django_capture_on_commit_callbacks)
    assert mailoutbox == []
    client.force_login(unverified_user)
    page = client.get(PAGE).content.decode()
    assert "Your file is ready" in page and "/accounts/my-data/download/" in page
    content, _response = download(client, export)
    assert files_of(content)["profile.json"]["email"] == unverified_user.email


def test_the_link_downloads_the_zip_as_an_attachment(
    client, user, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    client.force_login(user)
    content, response = download(client, export)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "my-data-" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    assert set(files_of(content)) == {
        "README.txt",
        "profile.json",
        "comments.json",
        "reports.json",
        "notifications.json",
    }


def test_anonymous_holders_of_the_link_are_sent_to_log_in(
    client, user, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    path = my_data.download_path(export)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") and "next=" in response["Location"]


def test_another_participant_cannot_use_the_link(
    client, user, other_user, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    client.force_login(other_user)
    assert client.get(my_data.download_path(export)).status_code == 404
    # Nor a link signed for them that names this export, nor an altered one.
    forged = my_data.token(DataExport(pk=export.pk, user_id=other_user.pk))
    assert client.get(reverse("accounts:my_data_download", args=[forged])).status_code == 404
    altered = my_data.token(export)[:-2] + "xx"
    client.force_login(user)
    assert client.get(reverse("accounts:my_data_download", args=[altered])).status_code == 404
    # The service says the same to a caller other than the view.
    with pytest.raises(Http404):
        my_data.export_for_download(user=other_user, value=my_data.token(export))
    # The other participant's page does not offer it.
    client.force_login(other_user)
    assert "/accounts/my-data/download/" not in client.get(PAGE).content.decode()


def test_an_expired_link_says_so_and_offers_a_new_file(
    client, user, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    path = my_data.download_path(export)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 410
    page = response.content.decode()
    assert "This download link no longer works" in page and f'href="{PAGE}"' in page
    assert "Your file is ready" not in client.get(PAGE).content.decode()


def test_a_link_past_its_signed_age_no_longer_works(
    client, user, settings, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    path = my_data.download_path(export)
    settings.DATA_EXPORT_DAYS = 0  # every signature is now older than allowed
    client.force_login(user)
    assert client.get(path).status_code == 410


def test_the_cleanup_deletes_expired_files_and_their_links_stop(
    client, user, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    name = export.file.name
    path = my_data.download_path(export)
    out = io.StringIO()
    call_command("delete_expired_data_exports", stdout=out)
    assert "Deleted 0 expired" in out.getvalue() and default_storage.exists(name)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    call_command("delete_expired_data_exports", stdout=out)
    assert "Deleted 1 expired" in out.getvalue()
    export.refresh_from_db()
    assert export.state == State.EXPIRED and not export.file and not default_storage.exists(name)
    client.force_login(user)
    assert client.get(path).status_code == 410
    assert "has expired" in client.get(PAGE).content.decode()


def test_the_scheduler_deletes_expired_files_too(user, django_capture_on_commit_callbacks):
    export = built_export(
        user, django_capture_on_commit_callbacks, expires_at=timezone.now() - timedelta(hours=1)
    )
    out = io.StringIO()
    call_command("run_scheduler", interval=0, iterations=1, stdout=out)
    assert "Deleted 1 expired data export files" in out.getvalue()
    export.refresh_from_db()
    assert export.state == State.EXPIRED


def test_a_newer_file_replaces_the_older_one(client, user, django_capture_on_commit_callbacks):
    older = built_export(user, django_capture_on_commit_callbacks)
    older_path, older_name = my_data.download_path(older), older.file.name
    newer = built_export(user, django_capture_on_commit_callbacks)
    older.refresh_from_db()
    assert older.state == State.EXPIRED and not default_storage.exists(older_name)
    client.force_login(user)
    assert client.get(older_path).status_code == 410
    download(client, newer)


def test_a_build_that_fails_is_marked_failed_and_may_be_asked_again(
    client, user, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(my_data, "collect", broken)
    with django_capture_on_commit_callbacks(execute=True):
        export, _created = my_data.export_request(user=user, base_url="/")
    export.refresh_from_db()
    assert export.state == State.FAILED and "disk full" in export.last_error and mailoutbox == []
    client.force_login(user)
    assert "failed" in client.get(PAGE).content.decode()
    monkeypatch.undo()
    assert built_export(user, django_capture_on_commit_callbacks).state == State.DONE


def test_a_task_run_twice_builds_once(user, settings, django_capture_on_commit_callbacks):
    export = built_export(user, django_capture_on_commit_callbacks)
    assert my_data.build(export.pk).startswith("not queued")


# --- What the file holds -----------------------------------------------------------------------


def test_the_file_holds_the_profile_comments_reports_and_settings(
    client, user, participation, django_capture_on_commit_callbacks, consultation
):
    EmailAddress.objects.create(user=user, email="amina@work.example.org", verified=False)
    Profile.objects.filter(user=user).update(
        byline=Profile.Byline.STAKEHOLDER_TYPE, language="es", email_digest="weekly"
    )
    user.refresh_from_db()
    export = built_export(user, django_capture_on_commit_callbacks)
    client.force_login(user)
    files = files_of(download(client, export)[0])

    profile = files["profile.json"]
    assert profile["display_name"] == "Amina Diallo"
    assert profile["organisation"] == "Sahel Migrant Network"
    assert profile["stakeholder_type"]["code"] == "civil_society"
    assert profile["byline"]["code"] == "stakeholder_type" and profile["language"] == "es"
    assert {row["email"] for row in profile["email_addresses"]} == {
        user.email,
        "amina@work.example.org",
    }
    assert profile["date_joined"] and "last_login" in profile

    comments = {row["id"]: row for row in files["comments.json"]}
    mine = Comment.objects.filter(author=user)
    assert set(comments) == set(mine.values_list("pk", flat=True)) and len(comments) == 4
    first = comments[participation["first"].pk]
    assert first["body_html"] == "<p>Third version</p>" and first["body_text"] == "Third version"
    assert first["consultation"]["title"] == "Safe borders review"
    assert first["question"] == {"number": 1, "text": "What are the key priorities?"}
    assert first["permalink"] == "http://testserver" + participation["first"].get_absolute_url()
    assert first["edited_at"] and first["created_at"] and first["status"]["code"] == "published"
    assert [revision["body_html"] for revision in first["revisions"]] == [
        "<p>Second version</p>",
        "<p>First version</p>",
    ]
    assert [revision["edited_by"] for revision in first["revisions"]] == ["a moderator", "you"]
    assert first["revisions"][1]["objectives"] == [4]
    assert CommentRevision.objects.filter(comment=participation["first"]).count() == 2
    reply = comments[participation["reply"].pk]
    assert reply["in_reply_to"] == participation["others"].pk
    [attachment] = comments[participation["with_file"].pk]["attachments"]
    assert attachment["name"] == "study.pdf" and attachment["size"] == len(PDF)
    hidden = comments[participation["hidden"].pk]
    assert hidden["status"]["code"] == "hidden" and hidden["hidden_reason"] == "off_topic"

    [report] = files["reports.json"]
    assert report["comment_id"] == participation["others"].pk
    assert report["reason"]["code"] == "spam" and report["details"] == "Looks like an advert."
    assert report["created_at"] and set(report) == {
        "comment_id",
        "comment_permalink",
        "reason",
        "details",
        "created_at",
    }

    notifications = files["notifications.json"]
    assert notifications["settings"]["email_digest"]["code"] == "weekly"
    assert notifications["settings"]["email_replies"] is True
    follows = notifications["follows"]
    assert {
        (row["consultation"]["title"], (row["question"] or {}).get("number")) for row in follows
    } == {
        ("Safe borders review", None),
        ("Safe borders review", 1),
        ("Safe borders review", 2),
    }
    for name in ("profile.json", "comments.json", "reports.json", "notifications.json"):
        assert name in files["README.txt"]


def test_the_file_holds_nothing_about_anyone_else(
    client, user, other_user, moderator, participation, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    client.force_login(user)
    content = download(client, export)[0]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = "\n".join(archive.read(name).decode() for name in archive.namelist())
    for someone_else in (other_user, moderator):
        assert someone_else.email not in text
        assert someone_else.profile.display_name not in text
        assert someone_else.username not in text
    assert "Nordic Cities Forum" not in text and "Jonas's own words" not in text
    # Nor the moderators' notes, decisions, or other people's reports.
    for secret in ("Secret note", "Moderator-only note", "Dismissal note", "dismissed", "Theirs"):
        assert secret not in text


# --- Queries -----------------------------------------------------------------------------------


def _add_comments(user, question, count: int, moderator) -> None:
    for n in range(count):
        comment = services.comment_create(
            question=question,
            author=user,
            body=f"Comment number {n} on the priorities.",
            objectives=Objective.objects.filter(number__in=[4, 8]),
            attachments=[SimpleUploadedFile(f"file{n}.pdf", PDF, content_type="application/pdf")],
        )
        services.comment_edit(comment=comment, by=user, body=f"Edited {n}.", objectives=[])
        services.comment_edit(comment=comment, by=moderator, body=f"Moderated {n}.", objectives=[])
        if n % 2:
            services.comment_report(comment=comment, reporter=moderator, reason="spam")


def test_collecting_reads_a_fixed_number_of_queries(
    user, other_user, moderator, question, question2, django_assert_num_queries
):
    _add_comments(user, question, 1, moderator)
    Follow.objects.create(user=user, question=question2)
    services.comment_report(
        comment=services.comment_create(question=question, author=other_user, body="Other."),
        reporter=user,
        reason="spam",
    )
    with django_assert_num_queries(7) as one:
        files = my_data.collect(user, base_url="http://testserver/")
    assert len(files["comments.json"]) == 1
    _add_comments(user, question2, 12, moderator)
    with django_assert_num_queries(len(one)):
        files = my_data.collect(user, base_url="http://testserver/")
    assert len(files["comments.json"]) == 13
    assert sum(len(row["revisions"]) for row in files["comments.json"]) == 26


def test_building_reads_a_fixed_number_of_queries(
    user, moderator, question, django_assert_max_num_queries, django_assert_num_queries
):
    def build() -> None:
        export = DataExport.objects.create(user=user, base_url="http://testserver/")
        assert my_data.build(export.pk) == "built and emailed"

    # Each build also deletes the file before it (one UPDATE each): one is there both times.
    build()
    _add_comments(user, question, 1, moderator)
    with django_assert_max_num_queries(15) as one:
        build()
    _add_comments(user, question, 12, moderator)
    with django_assert_num_queries(len(one)):
        build()


def test_deleting_an_account_s_exports_removes_their_files(
    user, django_capture_on_commit_callbacks
):
    export = built_export(user, django_capture_on_commit_callbacks)
    name = export.file.name
    assert my_data.delete_for_user(user=user) == 1
    assert not DataExport.objects.exists() and not default_storage.exists(name)


def test_deleting_the_account_deletes_its_files(user, django_capture_on_commit_callbacks):
    from accounts.services import account_delete

    export = built_export(user, django_capture_on_commit_callbacks)
    storage, name = export.file.storage, export.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=user, password="correct horse battery staple")
    assert not storage.exists(name) and not DataExport.objects.filter(user=user).exists()
