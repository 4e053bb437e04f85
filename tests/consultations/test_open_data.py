"""Open-data files of consultations: what the ZIP holds (the API's fields, placeholders, the
pseudonyms, the data card and licence), who may build it, when the scheduler builds it, and the
stable URL that serves it."""

import csv
import hashlib
import io
import json
import threading
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Profile, StakeholderType, User
from consultations import open_data, services
from consultations.models import (
    Comment,
    Consultation,
    Licence,
    ModerationReason,
    Objective,
    OpenDataFile,
    Question,
)
from notifications.management.commands import send_digests

pytestmark = pytest.mark.django_db

TASK_PATH = "consultations.tasks.build_open_data"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def closed(make_consultation):
    consultation = make_consultation(state="closed", title="Returns review", slug="returns")
    Question.objects.create(consultation=consultation, number=1, text="What works?")
    Question.objects.create(consultation=consultation, number=2, text="What does not?")
    return consultation


def _question(consultation, number=1) -> Question:
    return consultation.questions.get(number=number)


def _post(question, author, body="<p>A comment.</p>", objectives=(), parent=None) -> Comment:
    # The consultation is closed: the service refuses new comments, so they are posted while it
    # is open and then it closes again.
    consultation = question.consultation
    closes_at = consultation.closes_at
    Consultation.objects.filter(pk=consultation.pk).update(closes_at=None)
    question.consultation.refresh_from_db()
    try:
        return services.comment_create(
            question=question,
            author=author,
            body=body,
            objectives=list(Objective.objects.filter(number__in=objectives)),
            parent=parent,
        )
    finally:
        Consultation.objects.filter(pk=consultation.pk).update(closes_at=closes_at)
        question.consultation.refresh_from_db()


def _unnamed(user: User, stakeholder_type=StakeholderType.ACADEMIA) -> User:
    Profile.objects.filter(user=user).update(
        byline=Profile.Byline.STAKEHOLDER_TYPE, stakeholder_type=stakeholder_type
    )
    return user


def _build(consultation, by, capture) -> OpenDataFile:
    # The tests' task backend runs the task at once, when the request commits.
    with capture(execute=True):
        open_data.request_build(consultation=consultation, by=by)
    return OpenDataFile.objects.get(consultation=consultation)


def _members(record: OpenDataFile) -> dict[str, bytes]:
    with default_storage.open(record.file.name, "rb") as handle:
        data = handle.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def _csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def people(make_user):
    return {
        "named": make_user(display_name="Amina Diallo", organisation="Sahel Migrant Network"),
        "first": _unnamed(
            make_user(display_name="Hidden Name One", organisation="Secret Org One"),
            StakeholderType.ACADEMIA,
        ),
        "second": _unnamed(
            make_user(display_name="Hidden Name Two", organisation="Secret Org Two"),
            StakeholderType.TRADE_UNION,
        ),
        "gone": make_user(display_name="Gone Person", organisation="Gone Org"),
    }


@pytest.fixture
def built(closed, people, moderator, staff_user, django_capture_on_commit_callbacks):
    """A closed consultation with named, unnamed and former participants' comments, a hidden
    reply and a comment its author deleted, built."""
    q1, q2 = _question(closed), _question(closed, 2)
    comments = {
        "named": _post(q1, people["named"], "<p>Named view.</p>", objectives=[4, 10]),
        "first_a": _post(q1, people["first"], "<p>First unnamed, first comment.</p>"),
        "second": _post(q2, people["second"], "<p>Second unnamed.</p>", objectives=[8]),
        "gone": _post(q2, people["gone"], "<p>Written before leaving.</p>"),
    }
    comments["first_b"] = _post(q1, people["first"], "<p>Again.</p>", parent=comments["named"])
    comments["hidden"] = _post(
        q1, people["named"], "<p>Rude words here.</p>", objectives=[9], parent=comments["first_a"]
    )
    comments["deleted"] = _post(q2, people["second"], "<p>Changed my mind.</p>")
    services.comment_hide(comment=comments["hidden"], by=moderator, reason=ModerationReason.SPAM)
    services.comment_delete(comment=comments["deleted"], by=people["second"])
    Profile.objects.filter(user=people["gone"]).update(byline=Profile.Byline.FORMER)
    record = _build(closed, staff_user, django_capture_on_commit_callbacks)
    return closed, comments, record


def test_the_zip_holds_the_data_files_the_data_card_and_the_licence(built):
    _consultation, _comments, record = built
    assert record.state == OpenDataFile.State.DONE
    assert set(_members(record)) == {
        "comments.csv",
        "comments.json",
        "questions.csv",
        "questions.json",
        "objectives.csv",
        "objectives.json",
        "README.md",
        "LICENSE.txt",
    }


def test_the_comments_csv_has_the_apis_fields_as_columns(built):
    _consultation, comments, record = built
    rows = _csv(_members(record)["comments.csv"])
    assert rows[0] == [
        "id",
        "question",
        "parent",
        "depth",
        "thread",
        "status",
        "body_html",
        "body_text",
        "objectives",
        "author_display_name",
        "author_organisation",
        "author_stakeholder_type",
        "created_at",
        "edited_at",
        "updated_at",
        "url",
    ]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    named = by_id[str(comments["named"].pk)]
    assert named["author_display_name"] == "Amina Diallo"
    assert named["author_organisation"] == "Sahel Migrant Network"
    assert named["objectives"] == "4;10" and named["body_text"] == "Named view."
    assert named["parent"] == "" and named["depth"] == "0"
    reply = by_id[str(comments["first_b"].pk)]
    assert reply["parent"] == str(comments["named"].pk) and reply["depth"] == "1"
    assert len(rows) == 1 + len(comments)


def test_the_comments_json_equals_the_api_for_the_same_comments(
    built, client, settings, django_capture_on_commit_callbacks, staff_user
):
    consultation, comments, _record = built
    # The file's links start with SITE_URL, the API's with the request's host.
    settings.SITE_URL = "http://testserver"
    record = _build(consultation, staff_user, django_capture_on_commit_callbacks)
    in_file = {c["id"]: c for c in json.loads(_members(record)["comments.json"])}
    response = client.get("/api/v1/comments/", {"consultation": consultation.slug})
    from_api = {c["id"]: c for c in response.json()["results"]}
    assert set(in_file) == set(from_api) == {c.pk for c in comments.values()}
    for pk, comment in in_file.items():
        assert list(comment) == list(from_api[pk])
        if from_api[pk]["author"] is not None and comment["author"]["organisation"] == "":
            # Participants not named (and former ones) differ on purpose: see the pseudonyms.
            assert {k: v for k, v in comment.items() if k != "author"} == {
                k: v for k, v in from_api[pk].items() if k != "author"
            }
        else:
            assert comment == from_api[pk]
    assert in_file[comments["named"].pk] == from_api[comments["named"].pk]


def test_hidden_and_deleted_comments_are_placeholders_without_text_or_author(built):
    _consultation, comments, record = built
    members = _members(record)
    in_file = {c["id"]: c for c in json.loads(members["comments.json"])}
    for key, status in (("hidden", "hidden"), ("deleted", "deleted")):
        placeholder = in_file[comments[key].pk]
        assert placeholder["status"] == status
        assert placeholder["body_html"] is None and placeholder["body_text"] is None
        assert placeholder["author"] is None and placeholder["objectives"] == []
        assert placeholder["thread"] == comments[key].tree_id
    # The reply under the hidden comment's author keeps its place; no hidden text anywhere.
    assert in_file[comments["hidden"].pk]["parent"] == comments["first_a"].pk
    everything = b"".join(members.values())
    assert b"Rude words" not in everything and b"Changed my mind" not in everything
    rows = _csv(members["comments.csv"])
    hidden_row = next(row for row in rows if row[0] == str(comments["hidden"].pk))
    assert hidden_row[6:12] == ["", "", "", "", "", ""]


def test_unnamed_participants_are_numbered_stably_and_distinctly(built):
    _consultation, comments, record = built
    members = _members(record)
    in_file = {c["id"]: c for c in json.loads(members["comments.json"])}
    first_a, first_b = in_file[comments["first_a"].pk], in_file[comments["first_b"].pk]
    second = in_file[comments["second"].pk]
    # Numbered by their first comment in the file (oldest first).
    assert first_a["author"] == {
        "display_name": "Participant 1",
        "organisation": "",
        "stakeholder_type": "academia",
    }
    assert first_b["author"] == first_a["author"]
    assert second["author"] == {
        "display_name": "Participant 2",
        "organisation": "",
        "stakeholder_type": "trade_union",
    }
    everything = b"".join(members.values())
    for secret in (b"Hidden Name", b"Secret Org"):
        assert secret not in everything


def test_a_deleted_account_is_a_former_participant(built):
    _consultation, comments, record = built
    members = _members(record)
    in_file = {c["id"]: c for c in json.loads(members["comments.json"])}
    assert in_file[comments["gone"].pk]["author"] == {
        "display_name": "Former participant",
        "organisation": "",
        "stakeholder_type": "",
    }
    assert in_file[comments["gone"].pk]["body_text"] == "Written before leaving."
    everything = b"".join(members.values())
    assert b"Gone Person" not in everything and b"Gone Org" not in everything


def test_no_email_user_id_or_moderation_record_is_in_the_file(built, people, moderator):
    _consultation, _comments, record = built
    with default_storage.open(record.file.name, "rb") as handle:
        raw = handle.read()
    everything = raw + b"".join(_members(record).values())
    for user in [*people.values(), moderator]:
        assert user.email.encode() not in everything
        assert user.username.encode() not in everything
    assert b"@example.org" not in everything
    assert b"Mira Moderator" not in everything  # who hid the comment
    assert b"spam" not in everything.lower()  # why


def test_the_data_card_gives_the_period_counts_and_rules(built):
    consultation, _comments, record = built
    card = _members(record)["README.md"].decode()
    assert card.startswith("# Returns review: open data")
    assert "- Questions: 2" in card
    assert "- Comments and replies (rows of comments.csv): 7" in card
    assert "  - published: 5" in card
    assert "  - hidden by the moderators: 1" in card
    assert "  - deleted by their authors: 1" in card
    assert "- Participants with published comments: 4" in card
    assert "  - not named (“Participant N”): 2" in card
    assert "  - former participants (account deleted): 1" in card
    assert consultation.closes_at.strftime("%Y-%m-%dT%H:%M:%S") in card
    for field in open_data.COMMENT_COLUMNS:
        assert field in card
    assert "Participant N" in card and "Former participant" in card
    assert "CC BY 4.0" in card and "https://creativecommons.org/licenses/by/4.0/" in card
    assert "## How to cite" in card
    assert record.comment_count == 7 and record.published_count == 5
    assert record.placeholder_count == 2 and record.participant_count == 4


def test_the_questions_and_objectives_files_match_the_api(built, client):
    consultation, _comments, record = built
    members = _members(record)
    questions = json.loads(members["questions.json"])
    api = client.get("/api/v1/questions/", {"consultation": consultation.slug}).json()
    assert questions == sorted(api, key=lambda q: q["number"])
    objectives = json.loads(members["objectives.json"])
    api_objectives = client.get("/api/v1/objectives/").json()
    assert [{k: v for k, v in o.items() if k != "in_focus"} for o in objectives] == api_objectives
    assert [o["number"] for o in objectives if o["in_focus"]] == [4, 8, 9, 10, 11, 13, 21]
    assert _csv(members["questions.csv"])[0] == open_data.QUESTION_FIELDS
    assert len(_csv(members["objectives.csv"])) == 24


@pytest.mark.parametrize("licence", Licence.values)
def test_the_licence_file_is_the_consultations_choice(
    licence, closed, people, staff_user, django_capture_on_commit_callbacks
):
    Consultation.objects.filter(pk=closed.pk).update(licence=licence)
    closed.refresh_from_db()
    _post(_question(closed), people["named"])
    record = _build(closed, staff_user, django_capture_on_commit_callbacks)
    choice = Licence(licence)
    text = _members(record)["LICENSE.txt"].decode()
    assert choice.full_name in text and choice.url in text and choice.label in text
    others = [other for other in Licence if other != choice]
    assert not any(other.url in text for other in others)
    assert record.licence == licence
    assert choice.url in _members(record)["README.md"].decode()


def test_formulas_are_neutralised_in_the_csv_and_kept_in_the_json(
    closed, people, staff_user, django_capture_on_commit_callbacks
):
    comment = _post(_question(closed), people["named"], '<p>=HYPERLINK("x")</p>')
    Profile.objects.filter(user=people["named"]).update(organisation="@Org")
    members = _members(_build(closed, staff_user, django_capture_on_commit_callbacks))
    row = next(r for r in _csv(members["comments.csv"]) if r[0] == str(comment.pk))
    assert row[7] == '\'=HYPERLINK("x")' and row[10] == "'@Org"
    (record,) = json.loads(members["comments.json"])
    assert record["body_text"] == '=HYPERLINK("x")'


def test_the_file_is_written_in_a_fixed_number_of_queries(
    closed, people, django_assert_num_queries
):
    def write() -> open_data.Summary:
        return open_data.write_zip(
            io.BytesIO(), closed, built_at=timezone.now(), base_url="https://x.example"
        )

    authors = list(people.values())
    for n in range(3):
        _post(_question(closed, 1 + n % 2), authors[n % 4], f"<p>Small {n}</p>", [n + 1])
    with django_assert_num_queries(5) as small:
        assert write().comments == 3
    for n in range(20):
        _post(_question(closed, 1 + n % 2), authors[n % 4], f"<p>More {n}</p>", [n % 23 + 1, 23])
    with django_assert_num_queries(len(small)):
        assert write().comments == 23


# --- Who may build it, and when it is built ---------------------------------------------------


def test_only_staff_may_ask_for_a_build(closed, user, staff_user, client, settings):
    settings.TASKS = DATABASE_QUEUE
    url = reverse("consultations:open_data_manage", args=[closed.slug])
    with pytest.raises(PermissionDenied):
        open_data.request_build(consultation=closed, by=user)
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(user)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert not OpenDataFile.objects.exists()
    assert not DBTaskResult.objects.filter(task_path=TASK_PATH).exists()


def test_staff_build_it_from_their_page(
    closed, people, staff_user, client, django_capture_on_commit_callbacks
):
    _post(_question(closed), people["named"])
    client.force_login(staff_user)
    url = reverse("consultations:open_data_manage", args=[closed.slug])
    page = client.get(url).content.decode()
    assert "Never built." in page and 'method="post"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == url
    record = OpenDataFile.objects.get(consultation=closed)
    assert record.state == OpenDataFile.State.DONE and record.requested_by == staff_user
    page = client.get(url).content.decode()
    assert "The open-data file is being built." in page
    assert record.sha256 in page and "Build it again now" in page


def test_asking_again_while_a_build_waits_queues_nothing_more(
    closed, staff_user, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    with django_capture_on_commit_callbacks(execute=True):
        _record, first = open_data.request_build(consultation=closed, by=staff_user)
        _record, second = open_data.request_build(consultation=closed, by=staff_user)
    assert first and not second
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1


def test_the_scheduler_builds_a_closed_consultation_once(
    closed, make_consultation, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    make_consultation(state="open")
    make_consultation(state="closed", is_published=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert open_data.schedule_closed() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert open_data.schedule_closed() == 0
        call_command("run_scheduler", iterations=1, interval=0, stdout=io.StringIO())
    queued = DBTaskResult.objects.filter(task_path=TASK_PATH)
    assert queued.count() == 1 and queued.get().args_kwargs["args"] == [closed.pk]
    record = OpenDataFile.objects.get()
    assert record.consultation == closed and record.requested_by is None


def test_the_scheduler_waits_for_the_close_and_leaves_a_built_file_alone(
    make_consultation, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_QUEUE
    consultation = make_consultation(state="open")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("run_scheduler", iterations=1, interval=0, stdout=out)
    assert "0 open-data builds" in out.getvalue()
    assert not DBTaskResult.objects.filter(task_path=TASK_PATH).exists()
    # After the close (send_digests, the cron form of the scheduler, says so too).
    Consultation.objects.filter(pk=consultation.pk).update(
        closes_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 open-data builds" in send_digests.run()
        assert "0 open-data builds" in send_digests.run()
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1
    # Built since the close: nothing more to do, however often the scheduler runs.
    assert open_data.build(consultation.pk) == OpenDataFile.State.DONE
    with django_capture_on_commit_callbacks(execute=True):
        assert open_data.schedule_closed(timezone.now() + timedelta(hours=2)) == 0
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1


def test_a_file_built_before_the_close_is_built_again_after_it(
    closed, staff_user, django_capture_on_commit_callbacks
):
    before = _build(closed, staff_user, django_capture_on_commit_callbacks)
    OpenDataFile.objects.filter(pk=before.pk).update(built_at=closed.closes_at - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert open_data.schedule_closed() == 1
    after = OpenDataFile.objects.get(pk=before.pk)
    assert after.built_at > closed.closes_at and after.file.name != before.file.name
    assert not default_storage.exists(before.file.name)


def test_a_failed_build_says_so_and_keeps_the_previous_file(
    closed, staff_user, django_capture_on_commit_callbacks, monkeypatch
):
    first = _build(closed, staff_user, django_capture_on_commit_callbacks)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(open_data, "write_zip", broken)
    second = _build(closed, staff_user, django_capture_on_commit_callbacks)
    assert second.state == OpenDataFile.State.FAILED and "OSError" in second.message
    assert second.file.name == first.file.name and default_storage.exists(first.file.name)


# --- The stable URL and the consultation's page -----------------------------------------------


def test_the_stable_url_serves_the_file_as_a_download_with_an_etag(
    built, client, staff_user, moderator, django_capture_on_commit_callbacks
):
    consultation, comments, record = built
    url = f"/consultations/{consultation.slug}/open-data.zip"
    assert reverse("consultations:open_data", args=[consultation.slug]) == url
    response = client.get(url)
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="returns-open-data.zip"'
    assert response["ETag"] == f'"{record.sha256}"'
    assert hashlib.sha256(body).hexdigest() == record.sha256 and len(body) == record.size
    assert client.get(url, headers={"if-none-match": response["ETag"]}).status_code == 304
    head = client.head(url)
    assert head.status_code == 200 and head["ETag"] == response["ETag"]
    # Moderation since: built again, the same URL serves the new file (a new ETag).
    services.comment_hide(comment=comments["named"], by=moderator, reason=ModerationReason.OTHER)
    rebuilt = _build(consultation, staff_user, django_capture_on_commit_callbacks)
    again = client.get(url, headers={"if-none-match": response["ETag"]})
    assert again.status_code == 200 and again["ETag"] == f'"{rebuilt.sha256}"'
    assert b"Named view" not in b"".join(_members(rebuilt).values())
    assert not default_storage.exists(record.file.name)
    assert client.post(url).status_code == 405


def test_without_a_file_the_url_says_it_is_not_built_yet(closed, client):
    response = client.get(reverse("consultations:open_data", args=[closed.slug]))
    assert response.status_code == 404
    assert "No open-data file yet" in response.content.decode()


def test_an_unpublished_consultation_serves_no_file(
    closed, staff_user, client, django_capture_on_commit_callbacks
):
    _build(closed, staff_user, django_capture_on_commit_callbacks)
    Consultation.objects.filter(pk=closed.pk).update(is_published=False)
    client.force_login(staff_user)
    response = client.get(reverse("consultations:open_data", args=[closed.slug]))
    assert response.status_code == 404
    assert "No open-data file yet" not in response.content.decode()


def test_the_closed_consultations_page_links_the_file(built, client):
    consultation, _comments, record = built
    html = client.get(consultation.get_absolute_url()).content.decode()
    assert 'id="open-data"' in html
    assert f'href="/consultations/{consultation.slug}/open-data.zip"' in html
    assert record.size_label in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in html
    assert f'built on <time datetime="{timezone.localtime(record.built_at).isoformat()}">' in html


def test_a_closed_consultation_without_a_file_says_it_is_coming(closed, client):
    html = client.get(closed.get_absolute_url()).content.decode()
    assert 'id="open-data"' in html and "open-data.zip" not in html


def test_an_open_consultations_page_has_no_open_data_section(consultation, client):
    html = client.get(consultation.get_absolute_url()).content.decode()
    assert 'id="open-data"' not in html and "Open data" not in html


def test_the_licence_is_chosen_in_the_admin(closed, make_user, client):
    admin_user = make_user(display_name="Site Admin", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    page = client.get(reverse("admin:consultations_consultation_change", args=[closed.pk]))
    html = page.content.decode()
    assert 'name="licence"' in html and "CC BY-SA 4.0" in html
    assert reverse("consultations:open_data_manage", args=[closed.slug]) in html
    assert Consultation._meta.get_field("licence").default == Licence.CC_BY_4


# --- The production path: the database queue and its worker -----------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_queue_and_its_worker_build_the_file(settings, make_consultation, make_user):
    settings.TASKS = DATABASE_QUEUE
    staff_user = make_user(display_name="Staff Member", is_staff=True)
    author = make_user(display_name="Amina Diallo")
    consultation = make_consultation(state="open")
    question = Question.objects.create(consultation=consultation, number=1, text="Which?")
    services.comment_create(question=question, author=author, body="<p>Hi.</p>", objectives=[])
    record, queued = open_data.request_build(consultation=consultation, by=staff_user)
    task = DBTaskResult.objects.get(task_path=TASK_PATH)
    assert queued and task.args_kwargs["args"] == [consultation.pk]
    assert OpenDataFile.objects.get().state == OpenDataFile.State.QUEUED
    call_command("db_worker", batch=True, no_startup_delay=True, stdout=io.StringIO())
    record = OpenDataFile.objects.get()
    assert record.state == OpenDataFile.State.DONE and record.comment_count == 1
    assert default_storage.exists(record.file.name)
    assert json.loads(_members(record)["comments.json"])[0]["body_text"] == "Hi."


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises all writers, so there is no race to test",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_schedulers_and_staff_at_once_queue_one_build(settings, make_consultation, make_user):
    """Eight schedulers and staff asking at the same moment: the consultation's row lock lets
    one of them queue the build; the others find it queued."""
    settings.TASKS = DATABASE_QUEUE
    consultation = make_consultation(state="closed")
    staff_user = make_user(display_name="Staff Member", is_staff=True)
    start = threading.Barrier(8)
    outcomes: list = []

    def ask(n: int) -> None:
        try:
            start.wait(timeout=30)
            if n % 2:
                outcomes.append(open_data.schedule_closed())
            else:
                outcomes.append(
                    int(open_data.request_build(consultation=consultation, by=staff_user)[1])
                )
        except BaseException as error:  # reported below
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [0] * 7 + [1]
    assert DBTaskResult.objects.filter(task_path=TASK_PATH).count() == 1
    assert OpenDataFile.objects.filter(consultation=consultation).count() == 1


def test_deleting_a_consultation_in_the_admin_deletes_its_file(
    closed, staff_user, make_user, client, django_capture_on_commit_callbacks
):
    record = _build(closed, staff_user, django_capture_on_commit_callbacks)
    assert default_storage.exists(record.file.name)
    client.force_login(make_user(display_name="Site Admin", is_staff=True, is_superuser=True))
    url = reverse("admin:consultations_consultation_delete", args=[closed.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"post": "yes"})
    assert response.status_code == 302 and not Consultation.objects.filter(pk=closed.pk).exists()
    assert not default_storage.exists(record.file.name)
