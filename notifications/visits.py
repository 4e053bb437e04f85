"""Visits to a consultation's pages, for the "New since your last visit" marks.

A visit is a run of page views of one consultation with no gap longer than
settings.VISIT_GAP_SECONDS. While it lasts, the comments newer than the end of the previous one
(ConsultationVisit.new_since) are marked; the first visit marks nothing."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from .models import ConsultationVisit

logger = logging.getLogger(__name__)


def record(user, consultation, now: datetime | None = None) -> datetime | None:
    """The user views a page of the consultation: since when comments are new to them (None:
    mark nothing), then their visit is brought up to date. Two queries for the logged-in, none
    for the anonymous. A database that cannot write (read-only, locked) marks nothing."""
    if not getattr(user, "is_authenticated", False):
        return None
    now = now or timezone.now()
    try:
        visit = (
            ConsultationVisit.objects.filter(user=user, consultation=consultation)
            .only("pk", "new_since", "last_seen_at")
            .first()
        )
        if visit is None:
            # One INSERT whether or not a twin request of the same first visit made it.
            ConsultationVisit.objects.bulk_create(
                [ConsultationVisit(user=user, consultation=consultation, last_seen_at=now)],
                ignore_conflicts=True,
            )
            return None
        new_since = visit.new_since
        if now - visit.last_seen_at > timedelta(seconds=settings.VISIT_GAP_SECONDS):
            new_since = visit.last_seen_at  # a new visit: what came after the last one is new
        ConsultationVisit.objects.filter(pk=visit.pk).update(new_since=new_since, last_seen_at=now)
    except DatabaseError:
        logger.warning(
            "Could not record a visit to consultation %s", consultation.pk, exc_info=True
        )
        return None
    return new_since
