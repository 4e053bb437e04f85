"""NUL bytes and non-numeric ids in every query parameter and form field: never a server error.

The URLs, the roles and the objects come from the URL walk (tests.test_url_permissions), so a
new page is covered as soon as it has a permission expectation. Each page is asked for with
each known parameter set to a NUL byte or to "abc", and each form it shows is sent back with
one field at a time set to those values. On PostgreSQL a NUL in a query is an error of its own
("A string literal cannot contain NUL"), so this runs there too (DATABASE_URL).
"""

from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin import FieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.test import RequestFactory
from django.urls import reverse

from consultations.models import Report

from . import test_url_permissions as walk

world = walk.world  # the walk's fixture: its users, comments, report and attachment

ODD_VALUES = ("\x00", "abc")
ROLES = ("anonymous", "moderator", "superuser")
# Query parameters the site's own views read, plus paging and ordering.
SITE_PARAMETERS = ("objective", "parent", "question", "hidden", "next", "page", "o")
# The admin's own parameters, on every admin page.
ADMIN_PARAMETERS = ("q", "o", "p", "page", "all", "e", "_popup", "_to_field", "_changelist_filters")


def admin_filter_parameters(changelist_url: str, superuser) -> tuple[str, ...]:
    """Every parameter the filters of this changelist read (status__exact, question, ...),
    built as ChangeList.get_filters builds them, including filters it would not show (a
    consultation filter with one consultation)."""
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        if changelist_url != f"/admin/{meta.app_label}/{meta.model_name}/":
            continue
        request = RequestFactory().get(changelist_url)
        request.user = superuser
        parameters = []
        for list_filter in model_admin.get_list_filter(request):
            if not isinstance(list_filter, (tuple, list, str)):
                spec = list_filter(request, {}, model, model_admin)
            else:
                field_path, make = (
                    list_filter if isinstance(list_filter, (tuple, list)) else (list_filter, None)
                )
                field = get_fields_from_path(model, field_path)[-1]
                make = make or FieldListFilter.create
                spec = make(field, request, {}, model, model_admin, field_path=field_path)
            parameters += spec.expected_parameters()
        if model_admin.date_hierarchy:
            parameters += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month")]
        return tuple(parameters)
    return ()


class _Forms(HTMLParser):
    """The POST forms of a page: (action, [(name, value), ...]) with each field's own value."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._button = False

    def handle_starttag(self, tag, attrs) -> None:
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            if attrs.get("method", "get").lower() == "post":
                self._fields = []
                self._button = False
                self.forms.append((attrs.get("action", ""), self._fields))
            return
        if self._fields is None or not attrs.get("name"):
            return
        name = attrs["name"]
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind in ("submit", "image"):
                if self._button:
                    return
                self._button = True
            if kind != "file":
                self._fields.append((name, attrs.get("value", "")))
        elif tag == "button" and not self._button:
            self._button = True
            self._fields.append((name, attrs.get("value", "")))
        elif tag == "select":
            self._select = name
            self._fields.append((name, ""))
        elif tag == "textarea":
            self._textarea = name
            self._fields.append((name, ""))

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data) -> None:
        if self._textarea and self._fields:
            name, value = self._fields[-1]
            self._fields[-1] = (name, value + data)

    def handle_endtag(self, tag) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str, page_url: str) -> list[tuple[str, list[tuple[str, str]]]]:
    parser = _Forms()
    parser.feed(html)
    forms = []
    for action, fields in parser.forms:
        target = urljoin(page_url, action or page_url)
        parts = urlsplit(target)
        if parts.netloc not in ("", "testserver"):
            continue
        # Deleting in the admin takes any POST as a yes; logging out ends the walk's session.
        if "/delete/" in parts.path or "logout" in parts.path:
            continue
        forms.append((parts.path + (f"?{parts.query}" if parts.query else ""), fields))
    return forms


def with_one_field(fields, index: int, value: str) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for position, (name, original) in enumerate(fields):
        data.setdefault(name, []).append(value if position == index else original)
    return data


def _login(client, world, role) -> None:
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    else:
        client.logout()


def _pages(world):
    for key, _route in walk._patterns():
        case = walk.CASES.get(key)
        if case is not None:
            yield key, walk._url(key, case, world)


@pytest.fixture
def odd_client(client):
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("role", ROLES)
def test_odd_query_parameters_never_cause_a_server_error(odd_client, world, role):
    superuser = world.users["superuser"]
    errors = []
    for key, url in _pages(world):
        if key.startswith("admin"):
            parameters = ADMIN_PARAMETERS + admin_filter_parameters(url, superuser)
        else:
            parameters = SITE_PARAMETERS
        _login(odd_client, world, role)
        for parameter in parameters:
            for value in ODD_VALUES:
                query = urlencode({parameter: value})
                response = odd_client.get(f"{url}?{query}")
                if response.status_code >= 500:
                    errors.append(f"GET {url}?{query} ({key}): {response.status_code}")

    assert errors == [], "\n" + "\n".join(errors)


@pytest.mark.parametrize("role", ROLES)
def test_odd_form_fields_never_cause_a_server_error(odd_client, world, role):
    errors, posted = [], 0
    for key, url in _pages(world):
        if key.endswith("_delete") or "logout" in key:
            continue
        _login(odd_client, world, role)
        page = odd_client.get(url)
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            continue
        for action, fields in post_forms(page.content.decode(), url):
            for index, (name, _original) in enumerate(fields):
                if name == "csrfmiddlewaretoken":
                    continue
                for value in ODD_VALUES:
                    if world.users[role] and "_auth_user_id" not in odd_client.session:
                        _login(odd_client, world, role)  # after a password change, say
                    response = odd_client.post(action, with_one_field(fields, index, value))
                    posted += 1
                    if response.status_code >= 500:
                        errors.append(f"POST {action} {name}={value!r} (from {key})")

    assert errors == [], "\n" + "\n".join(errors)
    assert posted > (0 if role == "anonymous" else 100)  # the forms were found and sent


@pytest.mark.parametrize("object_id", ["abc", "\x00", "1\x00"])
def test_odd_object_ids_in_admin_urls_never_cause_a_server_error(odd_client, world, object_id):
    odd_client.force_login(world.users["superuser"])
    errors = []
    for model in admin.site._registry:
        meta = model._meta
        for page in ("change", "history", "delete"):
            url = f"/admin/{meta.app_label}/{meta.model_name}/{object_id}/{page}/"
            response = odd_client.get(url)
            if response.status_code >= 500:
                errors.append(f"GET {url!r}: {response.status_code}")

    assert errors == [], "\n" + "\n".join(errors)


@pytest.mark.parametrize("report", ["abc", "\x00", None, "999999", "other comment's"])
def test_dismissing_a_report_that_does_not_exist_says_so(odd_client, world, report):
    reply = world.comment.get_children().get()
    other = Report.objects.create(comment=reply, reporter=world.author, reason="spam")
    data = {"action": "dismiss"}
    if report is not None:
        data["report"] = str(other.pk) if report == "other comment's" else report
    odd_client.force_login(world.users["moderator"])
    url = reverse("consultations:moderate", args=[world.comment.pk])

    response = odd_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert "That report does not exist." in response.content.decode()
    assert not Report.objects.filter(resolution="dismissed").exists()


@pytest.mark.parametrize(
    "query",
    [
        "status__exact=%00",
        "question=%00",
        "question=abc",
        "objectives__id__exact=%00",
        "question__consultation__id__exact=x",
        "question__consultation__id__exact=%00",
    ],
)
def test_odd_comment_filters_show_the_changelist_with_an_error(odd_client, world, query):
    odd_client.force_login(world.users["moderator"])

    response = odd_client.get(f"/admin/consultations/comment/?{query}", follow=True)

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        html = response.content.decode()
        # The changelist, unfiltered and flagged ?e=1 as Django does for a lookup it cannot
        # use, or (a value a database can compare, such as a NUL on SQLite) matching nothing.
        assert 'id="changelist"' in html
        if response.redirect_chain:
            assert response.redirect_chain[-1][0].endswith("?e=1")


def test_a_nul_byte_in_the_query_string_gets_a_page_saying_the_address_cannot_be_read(
    odd_client, db
):
    response = odd_client.get("/?objective=%00")

    assert response.status_code == 400
    assert "This address cannot be read" in response.content.decode()
