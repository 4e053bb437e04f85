"""The Campaigns page: a consultation's groups of near-identical comments, largest first, each
with its representative text and every member (insights/campaigns.py computes the groups).

Staff only. Nothing is hidden or merged: each member is listed with its author and links to
its thread; staff decide what a campaign means."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import CommentSignature, DuplicateGroup
from .views import page_context, staff_only

GROUPS_PER_PAGE = 20
# "Also in this group: #12, #34 …" names at most this many of the others on each row.
SIBLINGS_SHOWN = 12


def campaign_label(size: int, organisation_count: int) -> str:
    """ "Campaign: 14 comments from 9 organisations"."""
    comments = ngettext("%(count)d comment", "%(count)d comments", size) % {"count": size}
    if not organisation_count:
        return _("Campaign: %(comments)s, no organisation given") % {"comments": comments}
    organisations = ngettext(
        "%(count)d organisation", "%(count)d organisations", organisation_count
    ) % {"count": organisation_count}
    return _("Campaign: %(comments)s from %(organisations)s") % {
        "comments": comments,
        "organisations": organisations,
    }


def _comments_url(consultation) -> str | None:
    # The coded-comments list (insights:comments) is another part of the insights; until it is
    # installed, the page links to nothing rather than to a 404.
    try:
        return reverse("insights:comments", kwargs={"slug": consultation.slug})
    except NoReverseMatch:
        return None


@staff_only
def campaigns(request, consultation):
    context = page_context(request, consultation, current="insights:campaigns")
    filters = context["filters"]
    groups = DuplicateGroup.objects.filter(consultation=consultation, size__gt=1)
    if not filters.is_empty:
        # The groups with at least one member among the filtered comments (shown whole).
        groups = groups.filter(
            members__comment__in=filters.apply(consultation).values("pk")
        ).distinct()
    groups = groups.select_related("representative").order_by("-size", "pk")
    page = Paginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("page"))

    members: dict[int, list] = {group.pk: [] for group in page}
    if members:
        for signature in (
            CommentSignature.objects.filter(group_id__in=list(members))
            .defer("minhash")
            .select_related("comment__author__profile", "comment__question")
            .order_by("group_id", "comment__created_at", "comment_id")
        ):
            members[signature.group_id].append(signature.comment)

    comments_url = _comments_url(consultation)
    shown = []
    for group in page:
        comments = members[group.pk]
        rows = []
        for comment in comments:
            others = [c.pk for c in comments if c.pk != comment.pk]
            rows.append(
                {
                    "comment": comment,
                    "others": others[:SIBLINGS_SHOWN],
                    "more": max(len(others) - SIBLINGS_SHOWN, 0),
                    "is_representative": comment.pk == group.representative_id,
                }
            )
        shown.append(
            {
                "group": group,
                "label": campaign_label(group.size, group.organisation_count),
                "rows": rows,
                "first": comments[0].created_at if comments else None,
                "last": comments[-1].created_at if comments else None,
                "comments_url": (f"{comments_url}?group={group.pk}" if comments_url else None),
            }
        )
    context.update(
        groups=shown,
        page=page,
        page_query=filters.as_query(),
    )
    return render(request, "insights/campaigns.html", context)
