"""The admin as moderators meet it: the site's name, people by name and email, numbered question
rows, a comment list readable at 1280 px, and the way to the page after saving."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from accounts.models import StakeholderType
from consultations.models import Consultation, Question

pytestmark = pytest.mark.django_db


class _FormValues(HTMLParser):
    """What a browser would submit from the page's main form, untouched."""

    def __init__(self):
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            default = "on" if a.get("type") in ("checkbox", "radio") else ""
            self.values.append((name, a.get("value") or default))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, self._text.strip("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def _form_data(html: str) -> dict:
    parser = _FormValues()
    parser.feed(html)
    data: dict = {}
    for name, value in parser.values:
        if name.startswith("questions-__prefix__"):
            continue
        data.setdefault(name, []).append(value)
    return data


def test_admin_header_names_the_site_not_django(client, moderator):
    client.force_login(moderator)
    html = client.get("/admin/").content.decode()
    assert "Django administration" not in html and "Django site admin" not in html
    assert ">GCM Consultations</a>" in html
    assert (
        "<title>Consultations, comments and participants | GCM Consultations admin</title>" in html
    )


def test_users_are_named_by_display_name_and_email(make_user):
    user = make_user(email="amina@example.org", display_name="Amina Diallo")
    assert str(user) == "Amina Diallo <amina@example.org>"


def test_user_list_shows_name_email_type_and_staff_and_searches_by_name(
    client, make_user, django_user_model
):
    admin_user = make_user(is_staff=True, is_superuser=True)
    make_user(
        email="amina@example.org",
        display_name="Amina Diallo",
        stakeholder_type=StakeholderType.ACADEMIA,
    )
    make_user(email="jonas@example.org", display_name="Jonas Berg")
    client.force_login(admin_user)

    html = client.get("/admin/accounts/user/?q=Amina").content.decode()

    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers[:5] == ["display_name", "email", "organisation", "stakeholder_type", "is_staff"]
    assert "amina@example.org" in html and "Academia" in html
    assert "jonas@example.org" not in html
    assert "amina@example.org" in client.get("/admin/accounts/user/?q=amina@ex").content.decode()


def test_moderator_choices_show_display_name_and_email(client, moderator):
    client.force_login(moderator)
    html = client.get("/admin/consultations/consultation/add/").content.decode()
    select = re.search(r'<select name="moderators".*?</select>', html, re.S).group(0)
    assert f"Mira Moderator &lt;{moderator.email}&gt;</option>" in select


def test_new_consultation_offers_three_question_rows_numbered_in_order(client, moderator):
    client.force_login(moderator)
    html = client.get("/admin/consultations/consultation/add/").content.decode()

    assert 'name="questions-TOTAL_FORMS" value="3"' in html
    numbers = [
        re.search(rf'name="questions-{i}-number" value="(\d+)"', html).group(1) for i in range(3)
    ]
    assert numbers == ["1", "2", "3"]


def test_untouched_question_rows_are_not_saved_and_filled_ones_keep_their_numbers(
    client, moderator
):
    client.force_login(moderator)
    data = _form_data(client.get("/admin/consultations/consultation/add/").content.decode())
    data.update(
        {
            "title": ["Pathways review"],
            "slug": ["pathways-review"],
            "questions-0-text": ["First question?"],
            "questions-1-text": ["Second question?"],
        }
    )

    response = client.post("/admin/consultations/consultation/add/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    consultation = Consultation.objects.get(slug="pathways-review")
    assert list(consultation.questions.values_list("number", "text")) == [
        (1, "First question?"),
        (2, "Second question?"),
    ]


def test_change_page_offers_one_row_numbered_after_the_last_question(
    client, moderator, consultation, question
):
    Question.objects.create(consultation=consultation, number=4, text="Fourth?")
    client.force_login(moderator)
    html = client.get(f"/admin/consultations/consultation/{consultation.pk}/change/").content
    html = html.decode()
    assert 'name="questions-TOTAL_FORMS" value="3"' in html  # two saved, one empty
    assert 'name="questions-2-number" value="5"' in html


def test_a_question_left_without_a_number_gets_the_next_free_one(
    client, moderator, consultation, question
):
    Question.objects.create(consultation=consultation, number=3, text="Third?")
    client.force_login(moderator)
    url = f"/admin/consultations/consultation/{consultation.pk}/change/"
    data = _form_data(client.get(url).content.decode())
    data.update({"questions-2-number": [""], "questions-2-text": ["Added without a number?"]})

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert consultation.questions.get(text="Added without a number?").number == 4


def test_comment_list_shows_a_full_sortable_posting_date(
    client, moderator, question, user, post_comment
):
    comment = post_comment(question=question, author=user)
    client.force_login(moderator)

    html = client.get("/admin/consultations/comment/").content.decode()

    posted = timezone.localtime(comment.created_at).strftime("%Y-%m-%d %H:%M")
    assert f'<td class="field-posted">{posted}</td>' in html
    assert 'href="/static/css/admin.css"' in html
    assert re.search(
        r'<span title="Safe borders review · Q1">Q1 · Safe borders review</span>', html
    )


def test_saving_a_published_consultation_links_to_its_page(client, moderator, consultation):
    client.force_login(moderator)
    url = f"/admin/consultations/consultation/{consultation.pk}/change/"
    data = _form_data(client.get(url).content.decode())

    response = client.post(url, data)

    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    link = f'<a href="{consultation.get_absolute_url()}">View on site</a>'
    assert any(link in text for text in texts), texts
    page = client.get(response["Location"]).content.decode()
    assert link in page


def test_saving_an_unpublished_consultation_says_it_is_not_on_the_site_yet(
    client, moderator, make_consultation
):
    draft = make_consultation(is_published=False)
    client.force_login(moderator)
    url = f"/admin/consultations/consultation/{draft.pk}/change/"

    response = client.post(url, _form_data(client.get(url).content.decode()), follow=True)

    assert "participants will see it once it is published" in response.content.decode()
