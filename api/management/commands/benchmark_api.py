"""Print the API's response time for a page of comments beside a floor (the same rows fetched
and written as JSON, without the framework)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings

from consultations.management.benchmarking import Rollback, median_ms, populate_bulk
from consultations.models import Comment, Consultation


class Command(BaseCommand):
    help = (
        "Measure GET /api/v1/comments/ (median of --runs, through Django's test client, every "
        "middleware included) for pages of --page-size comments at --comments comments: the "
        "first page, a page deep in the cursor chain, a question filter, and a revalidation "
        "(If-None-Match, answered 304). Beside it, the floor: the same page's columns and "
        "objective tags fetched with values_list and written with json.dumps. The comments are "
        "made with bulk_create in a transaction that is rolled back."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--comments", type=int, default=100_000)
        parser.add_argument("--page-size", type=int, default=100)
        parser.add_argument("--runs", type=int, default=7, help="Timed runs (median).")

    def handle(self, *args, comments: int, page_size: int, runs: int, **options) -> None:
        if comments < page_size * 3:
            raise CommandError("--comments must hold at least three pages.")
        try:
            # As in production: no query log (DEBUG keeps one per query).
            with transaction.atomic(), override_settings(DEBUG=False, ALLOWED_HOSTS=["*"]):
                self._measure(populate_bulk(comments), comments, page_size, runs)
                raise Rollback
        except Rollback:
            pass

    def _measure(self, consultation: Consultation, size: int, page_size: int, runs: int) -> None:
        client = Client()
        base = f"/api/v1/comments/?consultation={consultation.slug}&page_size={page_size}"

        def get(path: str, **headers):
            response = client.get(path, headers=headers)
            if response.status_code not in (200, 304):
                raise CommandError(f"{path} answered {response.status_code}")
            return response

        first = get(base)
        if len(first.json()["results"]) != page_size:
            raise CommandError("The first page is not full.")
        # Deep in the chain: follow `next` to a page past the middle of the consultation.
        deep_path, pages = base, 0
        while pages < 20:
            deep_path = get(deep_path).json()["next"]
            pages += 1
        deep_path = deep_path.replace("http://testserver", "")
        question = consultation.questions.order_by("number").first()
        filtered = f"{base}&question={question.pk}"
        etag = first["ETag"]

        ids = list(
            Comment.objects.filter(question__consultation=consultation)
            .order_by("pk")
            .values_list("pk", flat=True)[:page_size]
        )

        def floor() -> bytes:
            rows = list(
                Comment.objects.filter(pk__in=ids)
                .order_by("pk")
                .values(
                    "pk",
                    "question_id",
                    "parent_id",
                    "level",
                    "tree_id",
                    "status",
                    "body",
                    "body_text",
                    "created_at",
                    "edited_at",
                    "updated_at",
                    "author__profile__display_name",
                    "author__profile__organisation",
                    "author__profile__stakeholder_type",
                )
            )
            tags: dict[int, list[int]] = {}
            for comment_id, number in Comment.objectives.through.objects.filter(
                comment_id__in=ids
            ).values_list("comment_id", "objective__number"):
                tags.setdefault(comment_id, []).append(number)
            for row in rows:
                row["objectives"] = tags.get(row["pk"], [])
            return json.dumps(rows, default=str).encode()

        figures = {
            "floor (values + json.dumps)": median_ms(runs, floor),
            "first page": median_ms(runs, lambda: get(base)),
            "page 21 (cursor)": median_ms(runs, lambda: get(deep_path)),
            "question filter": median_ms(runs, lambda: get(filtered)),
            "revalidation (304)": median_ms(runs, lambda: get(base, if_none_match=etag)),
        }
        floor_ms = figures["floor (values + json.dumps)"]
        self.stdout.write(
            f"{connection.vendor}; {size:,} comments; {page_size} per page; median of {runs} runs"
        )
        for name, ms in figures.items():
            ratio = "" if ms is floor_ms else f"  ({ms / floor_ms:.1f} x the floor)"
            self.stdout.write(f"  {name:<30} {ms:8.1f} ms{ratio}")
