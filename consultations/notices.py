"""Confirmations shown inside the comment they are about, where the redirect lands."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.messages.storage.base import Message

_TAG = "beside-comment-"


@dataclass(frozen=True)
class Confirmation:
    comment_id: int
    message: Message


def confirm_beside(request, comment, text: str) -> None:
    """A success message that the consultation page shows in the comment's own article."""
    messages.success(request, text, extra_tags=f"{_TAG}{comment.pk}")


def _comment_id(message: Message) -> int | None:
    tag = message.extra_tags or ""
    if tag.startswith(_TAG) and tag[len(_TAG) :].isdigit():
        return int(tag[len(_TAG) :])
    return None


def split_messages(request, page) -> tuple[list[Message], Confirmation | None]:
    """The page-wide messages, and the confirmation to show beside a comment on this page.

    A confirmation about a comment the page does not show as a comment (hidden meanwhile, or
    outside an objective filter) stays page-wide, so it is never lost nor shown twice.
    """
    shown = {
        item.comment.pk
        for block in page.questions
        for item in block.items
        if item.comment.is_visible
    }
    page_wide, confirmation = [], None
    for message in messages.get_messages(request):
        comment_id = _comment_id(message)
        if comment_id in shown and confirmation is None:
            confirmation = Confirmation(comment_id=comment_id, message=message)
        else:
            page_wide.append(message)
    return page_wide, confirmation
