"""Where a comment becomes HTML.

A comment's reader-independent part (byline, date, body, files, objective tags, or the
placeholder of a hidden or deleted comment) is rendered by a template once per interface
language and stored beside it (CommentFragment): on write (`store_fragments`, after the commit
of a post, edit, hide, restore or delete) and, for anything that changed some other way (the
author's name, the consultation's address, a new release of the markup), when a page finds the
stored fragment's `source` out of date (`attach_fragments`). A page then fetches each comment's
fragment with the comment (`with_fragments`, the same query) and `thread_html` assembles the
thread around them with the viewer's actions, from the flags the selectors computed, in plain
Python: no template pass per comment. The markup is the one the thread template used to make.
"""

import hashlib
import logging
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, FilteredRelation, Q, QuerySet, prefetch_related_objects
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from .models import Comment, CommentFragment, Consultation, Objective

logger = logging.getLogger(__name__)

# Part of every fragment's source: raise it when _comment_fragments.html changes, and every
# stored fragment is made again as pages meet it.
MARKUP_VERSION = "1"
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


def with_fragments(comments: QuerySet) -> QuerySet:
    """The comments with their stored fragment in the active language, in the same query
    (`fragment_source`, `fragment_html`; None when none is stored)."""
    return comments.annotate(
        page_fragment=FilteredRelation("fragments", condition=Q(fragments__language=_language())),
        fragment_source=F("page_fragment__source"),
        fragment_html=F("page_fragment__html"),
    )


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


def _author_key(user) -> str:
    profile = getattr(user, "profile", None)
    if profile is None:
        return _digest(user.display_name)
    return _digest(profile.display_name, profile.organisation, profile.stakeholder_type)


def fragment_source(comment: Comment, key: str, author_keys: dict[int, str]) -> str:
    """The fingerprint a comment's stored fragment must carry to be current. Its status and
    last change are written out (a hidden comment never shows a stale body); updated_at moves
    on every change the services make, attachments and objective tags included."""
    author = author_keys.get(comment.author_id)
    if author is None:
        author = author_keys[comment.author_id] = _author_key(comment.author)
    return f"{key}.{comment.status}.{comment.updated_at.isoformat()}.{author}"


def attach_fragments(
    comments: list[Comment], *, consultation: Consultation, objectives: Iterable[Objective]
) -> None:
    """Give each comment its `fragment` (the stored HTML, split at the slots), rendering and
    storing those missing or out of date, in two queries more whatever their number. Comments
    fetched without `with_fragments` are all rendered."""
    key = page_key(consultation, objectives)
    author_keys: dict[int, str] = {}
    stale = []
    for comment in comments:
        source = fragment_source(comment, key, author_keys)
        html = getattr(comment, "fragment_html", None)
        if html is not None and getattr(comment, "fragment_source", None) == source:
            comment.fragment = html.split(SLOT)
        else:
            comment.fragment_source = source
            stale.append(comment)
    if stale:
        _render(stale, consultation=consultation)
        _store(stale)


def _render(comments: list[Comment], *, consultation: Consultation) -> None:
    """One template pass for all of them; their objectives and files in two queries."""
    prefetch_related_objects(comments, "objectives", "attachments")
    html = render_to_string(
        FRAGMENT_TEMPLATE,
        {
            "comments": comments,
            "consultation": consultation,
            "consultation_url": consultation.get_absolute_url(),
        },
    )
    pieces = html.split(NEXT)
    if len(pieces) != len(comments):  # a marker inside a body: the sanitiser would have to fail
        raise ValueError("comment fragments do not split into one per comment")
    for comment, piece in zip(comments, pieces, strict=True):
        comment.fragment_html = piece.strip()
        comment.fragment = comment.fragment_html.split(SLOT)


def _store(comments: list[Comment]) -> None:
    """Keep the fragments for the next page. A page that cannot write (a locked or read-only
    database) still shows them: they are made again next time."""
    language = _language()
    rows = [
        CommentFragment(
            comment_id=c.pk, language=language, source=c.fragment_source, html=c.fragment_html
        )
        for c in comments
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


def store_fragments(comment_ids: Iterable[int]) -> None:
    """Render and store these comments' fragments in every interface language, as a write
    does after its commit, so that readers find them made."""
    ids = list(comment_ids)
    if not ids:
        return
    comments = list(
        Comment.objects.filter(pk__in=ids).select_related(
            "author__profile", "question__consultation"
        )
    )
    by_consultation: dict[int, list[Comment]] = {}
    for comment in comments:
        by_consultation.setdefault(comment.question.consultation_id, []).append(comment)
    objectives = list(Objective.objects.all())
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for group in by_consultation.values():
                consultation = group[0].question.consultation
                for comment in group:
                    comment.fragment_html = comment.fragment_source = None
                attach_fragments(group, consultation=consultation, objectives=objectives)


def store_fragments_on_commit(comment: Comment) -> None:
    transaction.on_commit(lambda: _store_quietly(comment.pk))


def _store_quietly(pk: int) -> None:
    # After the commit the write has succeeded; a fragment not stored now is made on reading.
    try:
        store_fragments([pk])
    except DatabaseError:
        logger.warning("Could not store the fragments of comment %s", pk, exc_info=True)


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


def _url_pattern(name: str, **kwargs) -> tuple[str, str]:
    """A URL with a comment's pk as its variable part: (before, after)."""
    before, _sep, after = reverse(name, kwargs={**kwargs, "pk": _PK}).partition(str(_PK))
    return before, after


def thread_html(
    items,
    *,
    consultation: Consultation,
    question,
    viewer,
    filtered: bool = False,
    confirmation=None,
) -> SafeString:
    """A question's comments (selectors.ThreadItem, with `fragment` and `flags` on each
    comment) as nested ordered lists; with `filtered`, a flat list whose dates and links lead
    to each comment's place in its thread."""
    labels = _labels(_language())
    comment_url = reverse(
        "consultations:comment", kwargs={"slug": consultation.slug, "number": question.number}
    )
    login_next = (
        f"{reverse('account_login')}?next={escape(quote(comment_url, safe='/'))}%3Fparent%3D"
    )
    permalink = _url_pattern("consultations:permalink")
    edit = _url_pattern("consultations:edit")
    delete = _url_pattern("consultations:delete")
    report = _url_pattern("consultations:report")
    moderate = _url_pattern("consultations:moderate")
    anonymous_may_log_in = not viewer.is_authenticated and consultation.is_open
    viewer_pk = viewer.pk
    names: dict[int, str] = {}
    hidden, deleted = Comment.Status.HIDDEN, Comment.Status.DELETED

    out = []
    append = out.append
    for index, item in enumerate(items):
        c = item.comment
        pk = c.pk
        if item.new_level:
            if index == 0:
                label = labels["thread"] % {"number": question.number}
                append(f'<ol class="thread" aria-label="{label}"><li class="thread__item">')
            else:
                append('<ol class="replies"><li class="thread__item">')
        else:
            append('</li><li class="thread__item">')
        status = c.status
        classes = "comment"
        if status == hidden:
            classes += " comment--hidden"
        if c.level:
            classes += " comment--reply"
        append(f'<article class="{classes}" id="comment-{pk}" aria-labelledby="comment-{pk}-by">')
        flags = c.flags
        moderate_link = (
            f'<a href="{moderate[0]}{pk}{moderate[1]}">{labels["moderate"]}'
            f'<span class="visually-hidden"> {labels["comment_pk"] % {"pk": pk}}</span></a>'
            if flags.can_moderate
            else ""
        )
        if status == hidden or status == deleted:
            append(c.fragment[0])
            if moderate_link:
                append(f'<p class="comment__actions">{moderate_link}</p>')
        else:
            name = names.get(c.author_id)
            if name is None:
                name = names[c.author_id] = escape(c.author.display_name)
            if confirmation is not None and confirmation.comment_id == pk:
                append(
                    '<p class="message message--success comment__confirmation" role="status">'
                    f"{escape(confirmation.message)}</p>"
                )
            head, middle, tail = c.fragment
            href = f"{permalink[0]}{pk}{permalink[1]}" if filtered else f"#comment-{pk}"
            append(head)
            append(href)
            append(middle)
            if c.reply_to_name:
                to = labels["in_reply_to"] % {"name": escape(c.reply_to_name)}
                append(f'<p class="comment__reply-to">{to}</p>')
            append(tail)
            actions = []
            if filtered:
                actions.append(
                    f'<a href="{href}">{labels["view"]}<span class="visually-hidden"> '
                    f"{labels['view_hint'] % {'name': name}}</span></a>"
                )
            elif flags.can_reply:
                actions.append(
                    f'<a href="{comment_url}?parent={pk}">{labels["reply"]}<span '
                    f'class="visually-hidden"> {labels["to_name"] % {"name": name}}</span></a>'
                )
            elif anonymous_may_log_in:
                actions.append(
                    f'<a href="{login_next}{pk}">{labels["login_reply"]}<span '
                    f'class="visually-hidden"> {labels["to_name"] % {"name": name}}</span></a>'
                )
            if flags.can_edit:
                whose = (
                    labels["your_comment"]
                    if c.author_id == viewer_pk
                    else labels["the_comment_by"] % {"name": name}
                )
                actions.append(
                    f'<a href="{edit[0]}{pk}{edit[1]}">{labels["edit"]}'
                    f'<span class="visually-hidden"> {whose}</span></a>'
                )
            if flags.can_delete:
                actions.append(
                    f'<a href="{delete[0]}{pk}{delete[1]}">{labels["delete"]}'
                    f'<span class="visually-hidden"> {labels["your_comment"]}</span></a>'
                )
            if flags.already_reported:
                actions.append(
                    f'<span class="comment__reported">{labels["reported"]}<span '
                    f'class="visually-hidden"> {labels["you_reported"] % {"name": name}}'
                    "</span></span>"
                )
            elif flags.can_report:
                actions.append(
                    f'<a href="{report[0]}{pk}{report[1]}">{labels["report"]}<span '
                    f'class="visually-hidden"> {labels["the_comment_by"] % {"name": name}}'
                    "</span></a>"
                )
            if moderate_link:
                actions.append(moderate_link)
            append(f'<p class="comment__actions">{chr(10).join(actions)}</p>')
        append("</article>")
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
