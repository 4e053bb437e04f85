"""Where a comment becomes HTML.

A comment's reader-independent part (byline, date, body, files, objective tags, or the
placeholder of a hidden or deleted comment) is rendered by a template once per interface
language and stored beside it (CommentFragment) by the first page that shows it, and made again
by the first page that finds it out of date: after an edit, a hide, a restore, a delete, a new
file or tag, a change of the author's name, of the consultation's address or of the markup
(`attach_fragments` compares each stored fragment's `source` with what it would be made from).
A page fetches each comment's fragment with the comment (`shown_rows`, the same query) and
`thread_html` assembles the thread around them with the viewer's actions, from the flags the
selectors computed, in plain Python: no template pass per comment. Writes render nothing: a
burst of posts pays for no HTML (a page of new comments renders them, once, in one pass).
"""

import hashlib
import logging
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import CharField, FilteredRelation, Q, QuerySet
from django.db.models.functions import Cast
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from accounts.models import AUTHOR_FIELDS, User, public_author

from .models import Comment, CommentFragment, CommentStates, Consultation, Objective

logger = logging.getLogger(__name__)

# Part of every fragment's source: raise it when _comment_fragments.html changes, and every
# stored fragment is made again as pages meet it.
MARKUP_VERSION = "3"
FRAGMENT_TEMPLATE = "consultations/includes/_comment_fragments.html"
NEXT = "<!--next-->"
SLOT = "<!--slot-->"
# A pk no comment has, replaced in reversed URLs: one reverse() per page, not per comment.
_PK = 2147483647


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).hexdigest()


# --- Fetching and refreshing fragments -------------------------------------------------------


class ShownComment(CommentStates):
    """A comment as a thread page reads it: the columns the thread and the viewer's flags need
    and its stored fragment, from one row, without model instances (a Comment with its author
    and profile costs ten times the row); its author's public name, organisation and type come
    from one query for all the page's authors (`shown`). Quacks like a Comment where pages and
    permissions look: pk, status, author_id, level, the tree columns, `question` (set by the
    selectors), is_visible, anchor."""

    __slots__ = (
        "pk",
        "question_id",
        "parent_id",
        "author_id",
        "status",
        "level",
        "tree_id",
        "lft",
        "rght",
        "changed",
        "created_at",
        "fragment_source",
        "fragment_html",
        "parent_author_id",
        "author_name",
        "author_organisation",
        "author_type",
        "parent_name",
        "question",
        "reply_to_name",
        "fragment",
        "flags",
    )

    def __init__(self, row: tuple) -> None:
        # In the order of shown_rows' fields (unpacked, not set by name: this runs per row).
        (
            self.pk,
            self.question_id,
            self.parent_id,
            self.author_id,
            self.status,
            self.level,
            self.tree_id,
            self.lft,
            self.rght,
            self.changed,
            self.created_at,
            self.fragment_source,
            self.fragment_html,
            *parent_author,
        ) = row
        self.parent_author_id = parent_author[0] if parent_author else None
        self.author_name = self.author_organisation = self.author_type = ""
        self.parent_name = self.reply_to_name = ""
        self.question = self.fragment = self.flags = None

    def __repr__(self) -> str:
        return f"<ShownComment {self.pk}>"


def shown_rows(comments: QuerySet, *, parent_names: bool = False) -> QuerySet:
    """The rows ShownComment reads, with each comment's stored fragment in the active language
    joined (None when none is stored); with parent_names, the author of the comment each one
    answers too (for lists where the parent is rarely among the rows). Order and slice it, then
    give its rows to `shown`."""
    fields = [
        "pk",
        "question_id",
        "parent_id",
        "author_id",
        "status",
        "level",
        "tree_id",
        "lft",
        "rght",
        # As text, as the database writes it: compared, never computed with.
        "changed",
        # For the "New since your last visit" marks, made around the stored fragment.
        "created_at",
        "page_fragment__source",
        "page_fragment__html",
    ]
    if parent_names:
        fields.append("parent__author_id")
    return comments.annotate(
        page_fragment=FilteredRelation("fragments", condition=Q(fragments__language=_language())),
        changed=Cast("updated_at", CharField()),
    ).values_list(*fields)


def shown(rows) -> list[ShownComment]:
    """The comments of these rows, with their authors' (and parents' authors') names, in one
    query more when there are any."""
    comments = [ShownComment(row) for row in rows]
    ids = {c.author_id for c in comments} | {
        c.parent_author_id for c in comments if c.parent_author_id is not None
    }
    if not ids:
        return comments
    authors = {
        pk: (*public_author(*fields), kind or "")
        for pk, kind, *fields in User.objects.filter(pk__in=ids).values_list(
            "pk", "profile__stakeholder_type", *AUTHOR_FIELDS
        )
    }
    for comment in comments:
        comment.author_name, comment.author_organisation, comment.author_type = authors[
            comment.author_id
        ]
        if comment.parent_author_id is not None:
            comment.parent_name = authors[comment.parent_author_id][0]
    return comments


def page_key(consultation: Consultation, objectives: Iterable[Objective]) -> str:
    """What every fragment of a consultation depends on beside its comment, in the active
    language: the markup's version, the language and time zone its dates are written in, the
    consultation's address (tag links) and language, and the objectives' titles."""
    titles = [f"{o.number}:{o.display_title}:{o.display_short_title}" for o in objectives]
    return _digest(
        MARKUP_VERSION,
        _language(),
        timezone.get_current_timezone_name(),
        consultation.slug,
        consultation.language,
        *titles,
    )


def fragment_source(comment: ShownComment, key: str, author_keys: dict[int, str]) -> str:
    """The fingerprint a comment's stored fragment must carry to be current. Its status and
    last change are written out (a hidden comment never shows a stale body); updated_at moves
    on every change the services make, attachments and objective tags included; the author's
    shown name, organisation and type are digested."""
    author = author_keys.get(comment.author_id)
    if author is None:
        author = author_keys[comment.author_id] = _digest(
            comment.author_name, comment.author_organisation, comment.author_type
        )
    return f"{key}.{comment.status}.{comment.changed}.{author}"


def attach_fragments(
    comments: list[ShownComment], *, consultation: Consultation, objectives: Iterable[Objective]
) -> None:
    """Give each comment its `fragment` (the stored HTML, split at the slots), rendering and
    storing those missing or out of date in four queries more, whatever their number."""
    key = page_key(consultation, objectives)
    author_keys: dict[int, str] = {}
    stale = []
    for comment in comments:
        source = fragment_source(comment, key, author_keys)
        html = comment.fragment_html
        if html is not None and comment.fragment_source == source:
            comment.fragment = html.split(SLOT)
        else:
            comment.fragment_source = source
            stale.append(comment)
    if stale:
        _render(stale, consultation=consultation)
        _store(stale)


def _render(comments: list[ShownComment], *, consultation: Consultation) -> None:
    """One template pass over the comments as models, read again in full with their authors,
    objectives and files (three queries)."""
    full = {
        c.pk: c
        for c in Comment.objects.filter(pk__in=[c.pk for c in comments])
        .select_related("author__profile")
        .prefetch_related("objectives", "attachments")
    }
    ordered = [full[c.pk] for c in comments if c.pk in full]
    html = render_to_string(
        FRAGMENT_TEMPLATE,
        {
            "comments": ordered,
            "consultation": consultation,
            "consultation_url": consultation.get_absolute_url(),
        },
    )
    pieces = html.split(NEXT) if ordered else []
    if len(pieces) != len(ordered):  # a marker inside a body: the sanitiser would have to fail
        raise ValueError("comment fragments do not split into one per comment")
    made = {model.pk: piece.strip() for model, piece in zip(ordered, pieces, strict=True)}
    for comment in comments:
        # A comment gone since its row was read (deleted with its question): an empty article.
        comment.fragment_html = made.get(comment.pk)
        comment.fragment = (comment.fragment_html or SLOT * 2).split(SLOT)


def _store(comments: list[ShownComment]) -> None:
    """Keep the fragments for the next page. A page that cannot write (a locked or read-only
    database) still shows them: they are made again next time."""
    language = _language()
    rows = [
        CommentFragment(
            comment_id=c.pk, language=language, source=c.fragment_source, html=c.fragment_html
        )
        for c in comments
        if c.fragment_html is not None
    ]
    try:
        with transaction.atomic():
            CommentFragment.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["comment", "language"],
                update_fields=["source", "html"],
            )
    except DatabaseError:
        logger.warning("Could not store %d comment fragments", len(rows), exc_info=True)


# Files and objective tags change a comment's fragment without always saving the comment (the
# admin's inlines, a data fix): each such change moves its updated_at, as the services do.


def _touch(comment_ids) -> None:
    Comment.objects.filter(pk__in=list(comment_ids)).update(updated_at=timezone.now())


def attachment_changed(sender, instance, **kwargs) -> None:
    _touch([instance.comment_id])


def objectives_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        _touch([instance.pk])
    elif pk_set:  # objective.comments.add(...): the comments are the pks
        _touch(pk_set)


def connect_signals() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import Attachment

    post_save.connect(attachment_changed, sender=Attachment, dispatch_uid="fragment-attachment")
    post_delete.connect(attachment_changed, sender=Attachment, dispatch_uid="fragment-attachment")
    m2m_changed.connect(
        objectives_changed, sender=Comment.objectives.through, dispatch_uid="fragment-objectives"
    )


# --- Assembling a thread ---------------------------------------------------------------------


@lru_cache(maxsize=16)
def _labels(language: str) -> dict[str, str]:
    """The thread's fixed words, translated (and escaped, as {{ }} would) once per language and
    process. The messages with values are as blocktranslate uses them: the translation as it
    is, the values escaped where they are filled in."""
    with translation.override(language):
        words = {
            "moderate": gettext("Moderate"),
            "view": gettext("View in thread"),
            "reply": gettext("Reply"),
            "login_reply": gettext("Log in to reply"),
            "edit": gettext("Edit"),
            "delete": gettext("Delete"),
            "your_comment": gettext("your comment"),
            "report": gettext("Report"),
            "reported": gettext("Reported"),
            "new": gettext("New"),
            "since_last_visit": gettext("since your last visit"),
        }
        return {name: escape(text) for name, text in words.items()} | {
            "thread": gettext("Comments on question %(number)s"),
            "comment_pk": gettext("comment %(pk)s"),
            "in_reply_to": gettext("In reply to %(name)s"),
            "view_hint": gettext("(comment by %(name)s)"),
            "to_name": gettext("to %(name)s"),
            "the_comment_by": gettext("the comment by %(name)s"),
            "you_reported": gettext("(you reported the comment by %(name)s)"),
        }


def _url_pattern(name: str, **kwargs) -> str:
    """A URL with "{pk}" for a comment's pk, for str.format: one reverse() per page, not per
    comment (URLs here hold no braces)."""
    return reverse(name, kwargs={**kwargs, "pk": _PK}).replace(str(_PK), "{pk}")


def _braces(text: str) -> str:
    """Text as a literal inside a str.format template."""
    return text.replace("{", "{{").replace("}", "}}")


class _Actions:
    """The viewer's actions under each comment, as str.format templates with {pk} and {name}
    (the author's escaped name), one per kind of comment met on the page: a thread's actions
    differ only by the flags, the comment being the viewer's own, and the two values."""

    def __init__(self, *, labels, consultation, question, viewer, filtered: bool) -> None:
        self.labels = {name: _braces(text) for name, text in labels.items()}
        comment_url = reverse(
            "consultations:comment",
            kwargs={"slug": consultation.slug, "number": question.number},
        )
        login = reverse("account_login")
        self.reply_url = _braces(comment_url) + "?parent={pk}"
        self.login_url = f"{_braces(login)}?next={_braces(escape(quote(comment_url, safe='/')))}"
        self.login_url += "%3Fparent%3D{pk}"
        self.urls = {
            name: _url_pattern(f"consultations:{name}")
            for name in ("permalink", "edit", "delete", "report", "moderate")
        }
        self.anonymous_may_log_in = not viewer.is_authenticated and consultation.is_open
        self.filtered = filtered
        self.templates: dict[tuple, str] = {}

    def template(self, flags, *, own: bool, shown: bool) -> str:
        key = (flags, own, shown)
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = self._make(flags, own=own, shown=shown)
        return template

    def _make(self, flags, *, own: bool, shown: bool) -> str:
        labels, urls = self.labels, self.urls

        def link(url: str, label: str, hint: str) -> str:
            hidden = f'<span class="visually-hidden"> {hint}</span>'
            return f'<a href="{url}">{labels[label]}{hidden}</a>'

        moderate = (
            link(urls["moderate"], "moderate", labels["comment_pk"].replace("%(pk)s", "{pk}"))
            if flags.can_moderate
            else ""
        )
        if not shown:  # hidden or deleted: the moderators' link only
            return f'<p class="comment__actions">{moderate}</p>' if moderate else ""
        name = "{name}"
        actions = []
        if self.filtered:
            actions.append(
                link(urls["permalink"], "view", labels["view_hint"].replace("%(name)s", name))
            )
        elif flags.can_reply:
            actions.append(
                link(self.reply_url, "reply", labels["to_name"].replace("%(name)s", name))
            )
        elif self.anonymous_may_log_in:
            actions.append(
                link(self.login_url, "login_reply", labels["to_name"].replace("%(name)s", name))
            )
        if flags.can_edit:
            whose = (
                labels["your_comment"]
                if own
                else labels["the_comment_by"].replace("%(name)s", name)
            )
            actions.append(link(urls["edit"], "edit", whose))
        if flags.can_delete:
            actions.append(link(urls["delete"], "delete", labels["your_comment"]))
        if flags.already_reported:
            hint = labels["you_reported"].replace("%(name)s", name)
            actions.append(
                f'<span class="comment__reported">{labels["reported"]}<span '
                f'class="visually-hidden"> {hint}</span></span>'
            )
        elif flags.can_report:
            actions.append(
                link(urls["report"], "report", labels["the_comment_by"].replace("%(name)s", name))
            )
        if moderate:
            actions.append(moderate)
        return f'<p class="comment__actions">{chr(10).join(actions)}</p>'


def thread_html(
    items,
    *,
    consultation: Consultation,
    question,
    viewer,
    filtered: bool = False,
    confirmation=None,
    new_since=None,
) -> SafeString:
    """A question's comments (selectors.ThreadItem, with `fragment` and `flags` on each
    comment) as nested ordered lists; with `filtered`, a flat list whose dates and links lead
    to each comment's place in its thread. With `new_since`, the shown comments published
    after it by others than the viewer are marked "New since your last visit" (around their
    stored fragment: the mark is the reader's, the fragment everyone's)."""
    labels = _labels(_language())
    actions = _Actions(
        labels=labels,
        consultation=consultation,
        question=question,
        viewer=viewer,
        filtered=filtered,
    )
    permalink = actions.urls["permalink"]
    in_reply_to = labels["in_reply_to"]
    viewer_pk = viewer.pk
    confirmed = confirmation.comment_id if confirmation is not None else None
    names: dict[int, str] = {}
    published, hidden = Comment.Status.PUBLISHED, Comment.Status.HIDDEN
    classes = {
        (False, False): "comment",
        (False, True): "comment comment--reply",
        (True, False): "comment comment--hidden",
        (True, True): "comment comment--hidden comment--reply",
    }

    new_mark = (
        f'<p class="comment__new"><span class="badge badge--new">{labels["new"]}</span>'
        f'<span class="visually-hidden"> {labels["since_last_visit"]}</span></p>'
    )
    reply_to: dict[str, str] = {"": ""}
    out = []
    append = out.append
    for index, item in enumerate(items):
        c = item.comment
        pk = c.pk
        if not item.new_level:
            opening = '</li><li class="thread__item">'
        elif index:
            opening = '<ol class="replies"><li class="thread__item">'
        else:
            label = labels["thread"] % {"number": question.number}
            opening = f'<ol class="thread" aria-label="{label}"><li class="thread__item">'
        status = c.status
        new = (
            new_since is not None
            and status == published
            and c.created_at > new_since
            and c.author_id != viewer_pk
        )
        article = (
            f'{opening}<article class="{classes[status == hidden, c.level > 0]}'
            f'{" comment--new" if new else ""}" id="comment-{pk}" '
            f'aria-labelledby="comment-{pk}-by">{new_mark if new else ""}'
        )
        if status != published:
            template = actions.template(c.flags, own=False, shown=False)
            append(f"{article}{c.fragment[0]}{template.format(pk=pk)}</article>")
        else:
            name = names.get(c.author_id)
            if name is None:
                name = names[c.author_id] = escape(c.author_name)
            to = reply_to.get(c.reply_to_name)
            if to is None:
                to = in_reply_to % {"name": escape(c.reply_to_name)}
                to = reply_to[c.reply_to_name] = f'<p class="comment__reply-to">{to}</p>'
            if pk == confirmed:
                article += (
                    '<p class="message message--success comment__confirmation" role="status">'
                    f"{escape(confirmation.message)}</p>"
                )
            head, middle, tail = c.fragment
            href = permalink.format(pk=pk) if filtered else f"#comment-{pk}"
            template = actions.template(c.flags, own=c.author_id == viewer_pk, shown=True)
            append(
                f"{article}{head}{href}{middle}{to}{tail}"
                f"{template.format(pk=pk, name=name)}</article>"
            )
        if item.closed_levels:
            for depth in range(1, len(item.closed_levels) + 1):
                append("</li></ol>")
                if item.more and depth == c.level:
                    more = ngettext(
                        "Show %(counter)s more reply", "Show %(counter)s more replies", item.more
                    ) % {"counter": item.more}
                    append(
                        f'<p class="thread__more"><a href="{escape(item.more_url)}" '
                        f"data-thread-more>{more}</a></p>"
                    )
    return mark_safe("".join(out))  # noqa: S308 - escaped above, fragments by their template
