"""Every URL the project defines, for every role: a new URL fails here until given an expectation.

The URLs come from the resolver (ours, allauth's, the admin's), so new ones are covered as soon
as they exist. Each pattern gets one GET per role (and a POST where it says something about
access, e.g. an anonymous POST must go to the login page and save nothing).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import my_data
from accounts.models import DataExport
from consultations.models import (
    Attachment,
    Comment,
    CommentRevision,
    ModerationAction,
    Objective,
    Report,
)
from insights.models import Code, CodeAssignment, CodingAction, KeyQuote, ThemeRun, ThemeSuggestion
from notifications import unsubscribe
from notifications.models import Notification

ROLES = (
    "anonymous",
    "unverified",  # logged in, email address not confirmed
    "verified",  # logged in, confirmed, no comment of their own here
    "author",  # wrote the comment the comment URLs are about
    "other",  # wrote a reply to it
    "moderator",  # staff in the Moderators group
    "staff",  # is_staff, no group, no permission
    "superuser",
)


@dataclass(frozen=True)
class Redirect:
    """A 301/302 whose Location has this path (any query string); {url} is the requested one."""

    path: str

    def __str__(self) -> str:
        return f"redirect to {self.path}"


LOGIN = Redirect("/accounts/login/")
ADMIN_LOGIN = Redirect("/admin/login/")  # which hands over to LOGIN (see test_security)
HOME = Redirect("/")

Expected = int | Redirect


def by_role(default: Expected, **overrides: Expected) -> dict[str, Expected]:
    assert set(overrides) <= set(ROLES), set(overrides) - set(ROLES)
    return {role: overrides.get(role, default) for role in ROLES}


STAFF = ("moderator", "staff", "superuser")
PUBLIC = by_role(200)
LOGGED_IN = by_role(200, anonymous=LOGIN)
LOGGED_OUT = by_role(HOME, anonymous=200)  # allauth sends a logged-in user on
MODERATORS = by_role(403, anonymous=LOGIN, moderator=200, superuser=200)
STAFF_ONLY = by_role(403, anonymous=LOGIN, **dict.fromkeys(STAFF, 200))
ADMIN_STAFF = by_role(ADMIN_LOGIN, **dict.fromkeys(STAFF, 200))


def admin_staff(status: Expected, **overrides: Expected) -> dict[str, Expected]:
    """Non-staff are sent to the login; staff roles get `status` unless overridden."""
    return by_role(ADMIN_LOGIN, **{**dict.fromkeys(STAFF, status), **overrides})


@dataclass(frozen=True)
class Case:
    get: dict[str, Expected]
    kwargs: Callable[[SimpleNamespace], dict] = lambda w: {}
    # Unnamed patterns cannot be reversed: their concrete path.
    path: Callable[[SimpleNamespace], str] | None = None
    # An empty POST for some roles, e.g. {"anonymous": LOGIN}.
    post: dict[str, Expected] = field(default_factory=dict)


def _slug(w):
    return {"slug": w.consultation.slug}


def _comment(w):
    return {"pk": w.comment.pk}


def _question(w):
    return {"slug": w.consultation.slug, "number": w.question.number}


EXPECTATIONS: dict[str, Case] = {
    # Site pages
    "home": Case(PUBLIC),
    # The site icon, among the static files.
    "favicon": Case(by_role(Redirect("/static/favicon.svg"))),
    # Load balancers' probes: anyone, GET or HEAD only.
    "healthz": Case(PUBLIC, post={"anonymous": 405}),
    "readyz": Case(PUBLIC, post={"anonymous": 405}),
    "consultations:detail": Case(PUBLIC, _slug),
    "consultations:search": Case(PUBLIC, _slug),
    "consultations:export": Case(STAFF_ONLY, _slug),
    # Staff insights: anonymous to the login page, everyone else but staff 403.
    "insights:overview": Case(STAFF_ONLY, _slug),
    "insights:campaigns": Case(STAFF_ONLY, _slug),
    "insights:themes": Case(STAFF_ONLY, _slug, post={"anonymous": LOGIN, "verified": 403}),
    "insights:theme_run": Case(
        STAFF_ONLY, lambda w: {"slug": w.consultation.slug, "pk": w.theme.run_id}
    ),
    **{
        f"insights:theme_{name}": Case(
            by_role(405),
            lambda w: {"slug": w.consultation.slug, "pk": w.theme.run_id, "theme_pk": w.theme.pk},
            post={"anonymous": LOGIN, "verified": 403},
        )
        for name in ("accept", "dismiss")
    },
    "consultations:export_xlsx": Case(STAFF_ONLY, _slug),
    # The open-data file's stable URL: anyone, GET or HEAD, for a published consultation; the
    # walk's consultation is open and has none yet (a 404 saying so). Staff build it from their
    # page; an empty POST by anyone else queues nothing.
    "consultations:open_data": Case(by_role(404), _slug, post={"anonymous": 405, "staff": 405}),
    "consultations:open_data_manage": Case(
        STAFF_ONLY, _slug, post={"anonymous": LOGIN, "verified": 403, "author": 403}
    ),
    # Staff insights: the evidence pack per objective (GET only).
    "insights:evidence": Case(STAFF_ONLY, _slug, post={"anonymous": 405, "staff": 405}),
    "insights:evidence_objective": Case(
        STAFF_ONLY, lambda w: {"slug": w.consultation.slug, "number": 8}
    ),
    "insights:evidence_docx": Case(
        STAFF_ONLY, lambda w: {"slug": w.consultation.slug, "number": 8}
    ),
    "consultations:question": Case(
        PUBLIC, lambda w: {"slug": w.consultation.slug, "number": w.question.number}
    ),
    # To the question page that shows the comment, for everyone.
    "consultations:permalink": Case(
        by_role(Redirect("/consultations/safe-borders/questions/1/")), _comment
    ),
    "consultations:comment": Case(
        LOGGED_IN,
        lambda w: {"slug": w.consultation.slug, "number": w.question.number},
        # The form explains the refusal to the unverified; their POST saves nothing.
        post={"anonymous": LOGIN, "unverified": 403},
    ),
    "consultations:edit": Case(
        by_role(403, anonymous=LOGIN, author=200, moderator=200, superuser=200),
        _comment,
        post={"anonymous": LOGIN, "other": 403, "staff": 403},
    ),
    "consultations:delete": Case(
        by_role(403, anonymous=LOGIN, author=200),
        _comment,
        post={"anonymous": LOGIN, "other": 403, "moderator": 403},
    ),
    # The author is told to edit or delete instead.
    "consultations:report": Case(
        by_role(200, anonymous=LOGIN, author=403), _comment, post={"anonymous": LOGIN}
    ),
    "consultations:moderate": Case(
        MODERATORS, _comment, post={"anonymous": LOGIN, "other": 403, "staff": 403}
    ),
    "consultations:moderation_queue": Case(MODERATORS),
    # A file of a hidden comment (the reply): a 404 for everyone else, its author included;
    # moderators and staff (whose CSV export links hidden comments' files) download it. GET only.
    "consultations:attachment": Case(
        by_role(404, **dict.fromkeys(STAFF, 200)),
        lambda w: {"pk": w.attachment.pk},
        post={"anonymous": 405, "moderator": 405},
    ),
    "consultations:moderation_log": Case(MODERATORS),
    "accounts:profile": Case(LOGGED_IN, post={"anonymous": LOGIN}),
    # An empty POST deletes nothing: the form asks for the password again.
    "accounts:delete": Case(LOGGED_IN, post={"anonymous": LOGIN, "verified": 400}),
    "privacy": Case(PUBLIC),
    # Download my data: the page, whose POST asks for a file (back to the page), and the emailed
    # link, which only its own participant may use (a 404 for everyone else). GET only.
    "accounts:my_data": Case(
        LOGGED_IN, post={"anonymous": LOGIN, "verified": Redirect("/accounts/my-data/")}
    ),
    "accounts:my_data_download": Case(
        by_role(404, anonymous=LOGIN, author=200),
        lambda w: {"token": my_data.token(w.data_export)},
        post={"anonymous": LOGIN, "author": 405},
    ),
    # The signed link of a reply email: its confirmation for anyone holding it, and the
    # one-click POST (no login, no CSRF token, as mail providers send it).
    "notifications:unsubscribe": Case(
        PUBLIC,
        lambda w: {"token": unsubscribe.token(user=w.author, kind="reply")},
        post={"anonymous": 200},
    ),
    # The Notifications page: replies and new comments in what one follows.
    "notifications:page": Case(LOGGED_IN, post={"anonymous": LOGIN, "verified": 405}),
    # The Follow buttons: POST only, for the logged-in (the unverified too: following posts
    # nothing), back to the page they were on (without a `next`, the consultation's).
    **{
        f"notifications:{name}": Case(
            by_role(405, anonymous=LOGIN),
            _slug if name.endswith("consultation") else _question,
            post=by_role(Redirect("/consultations/safe-borders/"), anonymous=LOGIN),
        )
        for name in (
            "follow_consultation",
            "unfollow_consultation",
            "follow_question",
            "unfollow_question",
        )
    },
    # The read-only API: anyone may read; nothing may be written.
    "api:schema": Case(PUBLIC, post=dict.fromkeys(ROLES, 405)),
    "api:api-root": Case(PUBLIC, post=dict.fromkeys(ROLES, 405)),
    **{
        f"api:{name}": Case(PUBLIC, kwargs or (lambda w: {}), post=dict.fromkeys(ROLES, 405))
        for name, kwargs in (
            ("consultation-list", None),
            ("consultation-detail", _slug),
            ("question-list", None),
            ("question-detail", lambda w: {"pk": w.question.pk}),
            ("objective-list", None),
            ("objective-detail", lambda w: {"number": 8}),
            ("comment-list", None),
            ("comment-detail", _comment),
        )
    },
    # The language switcher (Django's set_language): anyone; without a safe `next`, home.
    "set_language": Case(by_role(HOME), post=dict.fromkeys(ROLES, HOME)),
    # allauth
    "account_login": Case(LOGGED_OUT),
    "account_signup": Case(LOGGED_OUT),
    "account_logout": Case(by_role(200, anonymous=HOME)),
    "account_inactive": Case(PUBLIC),
    "account_reauthenticate": Case(LOGGED_IN),
    # Reauthentication by a code sent by email (allauth 65.22): asking for one is for the
    # logged-in with a verified address (the unverified reauthenticate with their password);
    # confirming without a pending code goes back to asking for one.
    "account_request_reauthentication_code": Case(
        by_role(200, anonymous=LOGIN, unverified=Redirect("/accounts/reauthenticate/")),
        post={"anonymous": LOGIN},
    ),
    "account_confirm_reauthentication_code": Case(
        by_role(Redirect("/accounts/reauthenticate/code/"), anonymous=LOGIN),
        post={"anonymous": LOGIN, "verified": Redirect("/accounts/reauthenticate/code/")},
    ),
    "account_email": Case(LOGGED_IN, post={"anonymous": LOGIN}),
    "account_email_verification_sent": Case(PUBLIC),
    "account_change_password": Case(LOGGED_IN, post={"anonymous": LOGIN}),
    # Everyone here has a password, so allauth offers to change it instead.
    "account_set_password": Case(by_role(Redirect("/accounts/password/change/"), anonymous=LOGIN)),
    "account_reset_password": Case(PUBLIC),
    "account_reset_password_done": Case(PUBLIC),
    # An invalid key shows allauth's "bad token" page.
    "account_reset_password_from_key": Case(PUBLIC, lambda w: {"uidb36": "zz", "key": "not-a-key"}),
    "account_reset_password_from_key_done": Case(PUBLIC),
    "account_confirm_email": Case(PUBLIC, lambda w: {"key": "not-a-key"}),
    # Login by code is off: there is no pending code to confirm.
    "account_confirm_login_code": Case(by_role(HOME, anonymous=LOGIN)),
    # The admin: its login hands over to the site's (forum.views.admin_login).
    "admin_login": Case(by_role(403, anonymous=LOGIN, **dict.fromkeys(STAFF, Redirect("/admin/")))),
    # Shadowed by admin_login above: the same URL.
    "admin:login": Case(by_role(403, anonymous=LOGIN, **dict.fromkeys(STAFF, Redirect("/admin/")))),
    "admin:index": Case(ADMIN_STAFF),
    # POST only; the admin sends others to its index, so on to the login.
    "admin:logout": Case(by_role(Redirect("/admin/"), **dict.fromkeys(STAFF, 405))),
    "admin:password_change": Case(ADMIN_STAFF),
    "admin:password_change_done": Case(ADMIN_STAFF),
    "admin:jsi18n": Case(ADMIN_STAFF),
    # Without a field to complete the request is refused.
    "admin:autocomplete": Case(admin_staff(403)),
    "admin:view_on_site": Case(
        admin_staff(Redirect("/consultations/safe-borders/")),
        lambda w: {
            "content_type_id": ContentType.objects.get_for_model(w.consultation).pk,
            "object_id": w.consultation.pk,
        },
    ),
    "admin:app_list": Case(admin_staff(200, staff=404), lambda w: {"app_label": "consultations"}),
    "admin/(?P<url>.*)$": Case(admin_staff(404), path=lambda w: "/admin/no-such-page/"),
    # Moves a comment with its replies: for those who may change comments.
    "admin:consultations_comment_move": Case(
        admin_staff(403, moderator=200, superuser=200),
        lambda w: {"object_id": w.comment.pk},
        post={"verified": ADMIN_LOGIN, "staff": 403},
    ),
    "admin:auth_user_password_change": Case(
        admin_staff(403, superuser=200), lambda w: {"id": w.author.pk}
    ),
    # Insights for staff: analyst coding (an empty POST changes nothing for anyone else).
    "insights:comments": Case(STAFF_ONLY, _slug),
    "insights:code_comment": Case(
        STAFF_ONLY,
        lambda w: {"slug": w.consultation.slug, "pk": w.comment.pk},
        post={"anonymous": LOGIN, "verified": 403, "author": 403},
    ),
    "insights:codes": Case(STAFF_ONLY, _slug, post={"anonymous": LOGIN, "verified": 403}),
    "insights:code_edit": Case(
        STAFF_ONLY,
        lambda w: {"slug": w.consultation.slug, "code_id": w.code.pk},
        post={"anonymous": LOGIN, "verified": 403},
    ),
    "insights:code_delete": Case(
        STAFF_ONLY,
        lambda w: {"slug": w.consultation.slug, "code_id": w.code.pk},
        post={"anonymous": LOGIN, "verified": 403, "other": 403},
    ),
    "insights:log": Case(STAFF_ONLY, _slug),
    "insights:log_csv": Case(STAFF_ONLY, _slug),
}

# The admin's generated pages, by model: which roles may open each page (200); other staff get
# 403 and everyone else the login. A model registered in the admin but missing here leaves its
# URLs without an expectation, so the test below fails until it is added.
ADMIN_PAGES = ("changelist", "add", "change", "delete", "history")
MODS = {"moderator", "superuser"}
SUPERUSER = {"superuser"}
NOBODY: set[str] = set()
VIEW_ONLY = {"changelist": MODS, "add": NOBODY, "change": MODS, "delete": NOBODY, "history": MODS}
INSIGHTS_VIEW_ONLY = {
    "changelist": SUPERUSER,
    "add": NOBODY,
    "change": SUPERUSER,
    "delete": NOBODY,
    "history": SUPERUSER,
}

ADMIN_MODELS: dict[str, tuple[Callable[[SimpleNamespace], object], dict[str, set[str]]]] = {
    "consultations.consultation": (lambda w: w.consultation.pk, dict.fromkeys(ADMIN_PAGES, MODS)),
    # Comments are posted on the site, never added or deleted in the admin (authors delete
    # theirs softly, moderators hide them).
    "consultations.comment": (
        lambda w: w.comment.pk,
        {**dict.fromkeys(ADMIN_PAGES, MODS), "add": NOBODY, "delete": NOBODY},
    ),
    # The 23 objectives come from a migration.
    "consultations.objective": (lambda w: w.objective.pk, VIEW_ONLY),
    # Written by the moderation services only; moderators read them.
    "consultations.moderationaction": (lambda w: w.moderation_action.pk, VIEW_ONLY),
    "consultations.report": (lambda w: w.report.pk, VIEW_ONLY),
    "consultations.commentrevision": (lambda w: w.revision.pk, VIEW_ONLY),
    "accounts.user": (lambda w: w.author.pk, dict.fromkeys(ADMIN_PAGES, SUPERUSER)),
    "auth.group": (lambda w: w.group.pk, dict.fromkeys(ADMIN_PAGES, SUPERUSER)),
    "account.emailaddress": (lambda w: w.email.pk, dict.fromkeys(ADMIN_PAGES, SUPERUSER)),
    # Emails owed and sent (personal data): read by superusers, written by the delivery only.
    "notifications.notification": (
        lambda w: w.notification.pk,
        {**dict.fromkeys(ADMIN_PAGES, SUPERUSER), "add": NOBODY, "delete": NOBODY},
    ),
    # Written by insights.coding only (each change logged); superusers read them.
    "insights.code": (lambda w: w.code.pk, INSIGHTS_VIEW_ONLY),
    "insights.codeassignment": (lambda w: w.code_assignment.pk, INSIGHTS_VIEW_ONLY),
    "insights.keyquote": (lambda w: w.key_quote.pk, INSIGHTS_VIEW_ONLY),
    "insights.codingaction": (lambda w: w.coding_action.pk, INSIGHTS_VIEW_ONLY),
    # The task queue's rows (django-tasks-db's own admin, read-only).
    "django_tasks_database.dbtaskresult": (
        lambda w: w.task_result.pk,
        {**dict.fromkeys(ADMIN_PAGES, SUPERUSER), "add": NOBODY, "delete": NOBODY},
    ),
}


def _object_kwargs(object_id: Callable[[SimpleNamespace], object]):
    return lambda w: {"object_id": object_id(w)}


def _admin_cases() -> dict[str, Case]:
    cases = {}
    for label, (object_id, pages) in ADMIN_MODELS.items():
        app_label, model_name = label.split(".")
        for page in ADMIN_PAGES:
            cases[f"admin:{app_label}_{model_name}_{page}"] = Case(
                admin_staff(403, **dict.fromkeys(pages[page], 200)),
                (lambda w: {}) if page in ("changelist", "add") else _object_kwargs(object_id),
            )
        # The bare object URL redirects staff to its change page (which then checks permissions).
        cases[f"admin/{app_label}/{model_name}/<path:object_id>/"] = Case(
            admin_staff(Redirect("{url}change/")),
            path=lambda w, f=object_id, p=f"/admin/{app_label}/{model_name}/": f"{p}{f(w)}/",
        )
    return cases


CASES = {**_admin_cases(), **EXPECTATIONS}


def _walk(patterns, prefix: str = "", namespace: str = ""):
    """(key, route) for every pattern: 'namespace:name', or the route when it has no name."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from _walk(pattern.url_patterns, route, ns)
        else:
            assert isinstance(pattern, URLPattern)
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield route, route


def _patterns() -> list[tuple[str, str]]:
    return list(_walk(get_resolver().url_patterns))


def test_every_url_has_a_permission_expectation():
    patterns = _patterns()
    missing = [
        f"new URL without a permission expectation: {key} {route}"
        for key, route in patterns
        if key not in CASES
    ]
    keys = {key for key, _ in patterns}
    stale = [
        f"expectation for a URL that no longer exists: {key}" for key in CASES if key not in keys
    ]

    assert missing + stale == [], "\n".join(["", *missing, *stale])


def test_the_walk_covers_ours_allauth_and_the_admin():
    keys = {key for key, _ in _patterns()}

    assert {"home", "consultations:detail", "accounts:profile", "account_login"} <= keys
    assert {"admin:index", "admin:consultations_comment_changelist"} <= keys
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered - set(ADMIN_MODELS) == set(), "admin models without page expectations"


@pytest.fixture
def world(
    consultation,
    question,
    post_comment,
    make_user,
    user,
    other_user,
    unverified_user,
    moderator,
    staff_user,
):
    author = make_user(display_name="Comment Author")
    comment = post_comment(question=question, author=author)
    reply = post_comment(question=question, author=other_user, parent=comment)
    # Records only the moderation services write; made directly, as they would leave them.
    report = Report.objects.create(comment=comment, reporter=other_user, reason="spam")
    revision = CommentRevision.objects.create(comment=comment, body="<p>v1</p>", edited_by=author)
    moderation_action = ModerationAction.objects.create(
        actor=moderator, kind=ModerationAction.Kind.HIDE, comment=reply, reason="spam"
    )
    Comment.objects.filter(pk=reply.pk).update(status=Comment.Status.HIDDEN, hidden_reason="spam")
    attachment = Attachment.objects.create(
        comment=reply,
        file=ContentFile(b"%PDF-1.4\n%%EOF\n", name="evidence.pdf"),
        original_name="evidence.pdf",
        content_type="application/pdf",
        size=15,
    )
    # The analyst coding, as insights.coding leaves it.
    code = Code.objects.create(consultation=consultation, name="Birth registration")
    code_assignment = CodeAssignment.objects.create(code=code, comment=comment, note="n")
    key_quote = KeyQuote.objects.create(comment=comment, flagged_by=staff_user)
    coding_action = CodingAction.objects.create(
        consultation=consultation, actor=staff_user, kind=CodingAction.Kind.ASSIGN, comment=comment
    )
    run = ThemeRun.objects.create(question=question, k=3, state=ThemeRun.State.DONE, progress=100)
    theme = ThemeSuggestion.objects.create(run=run, position=0, terms=["border", "rescue"])
    users = {
        "anonymous": None,
        "unverified": unverified_user,
        "verified": user,
        "author": author,
        "other": other_user,
        "moderator": moderator,
        "staff": staff_user,
        "superuser": make_user(display_name="Site Admin", is_staff=True, is_superuser=True),
    }
    return SimpleNamespace(
        consultation=consultation,
        question=question,
        comment=comment,
        author=author,
        objective=Objective.objects.get(number=4),
        group=Group.objects.get(name="Moderators"),
        email=EmailAddress.objects.get(user=author),
        report=report,
        revision=revision,
        moderation_action=moderation_action,
        code=code,
        code_assignment=code_assignment,
        key_quote=key_quote,
        coding_action=coding_action,
        theme=theme,
        attachment=attachment,
        notification=Notification.objects.create(
            recipient=author, kind=Notification.Kind.COMMENT_HIDDEN, comment=comment, base_url="/"
        ),
        # The author's prepared "Download my data" file, as accounts.my_data.build leaves it.
        data_export=DataExport.objects.create(
            user=author,
            state=DataExport.State.DONE,
            base_url="http://testserver/",
            built_at=timezone.now(),
            expires_at=timezone.now() + timedelta(days=7),
            file=ContentFile(b"PK\x05\x06" + bytes(18), name="data.zip"),
            size=22,
        ),
        task_result=DBTaskResult.objects.create(
            task_path="notifications.tasks.send_notification",
            args_kwargs={"args": [1], "kwargs": {}},
            backend_name="default",
        ),
        users=users,
    )


def _url(key: str, case: Case, world) -> str:
    if case.path is not None:
        return case.path(world)
    return reverse(key, kwargs=case.kwargs(world))


def _outcome(response) -> str:
    if response.status_code in (301, 302):
        return f"{response.status_code} to {response['Location']}"
    return str(response.status_code)


def _matches(response, expected: Expected, url: str) -> bool:
    if isinstance(expected, Redirect):
        location = urlsplit(response.headers.get("Location", ""))
        return (
            response.status_code in (301, 302)
            and location.netloc in ("", "testserver")
            and location.path == expected.path.format(url=url)
        )
    return response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_each_url_answers_each_role_as_expected(client, world, role):
    if world.users[role] is not None:
        client.force_login(world.users[role])
    wrong = []
    for key, _route in _patterns():
        case = CASES.get(key)
        if case is None:
            continue  # reported by test_every_url_has_a_permission_expectation
        url = _url(key, case, world)
        checks = [("GET", case.get[role])]
        if role in case.post:
            checks.append(("POST", case.post[role]))
        for method, expected in checks:
            response = client.get(url) if method == "GET" else client.post(url, {})
            if not _matches(response, expected, url):
                wrong.append(
                    f"{method} {url} ({key}): expected {expected}, got {_outcome(response)}"
                )

    assert wrong == [], f"\nas {role}:\n" + "\n".join(wrong)
