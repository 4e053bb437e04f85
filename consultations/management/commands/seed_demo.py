"""`manage.py seed_demo`: demo accounts, an open and a closed consultation, and discussions."""

from collections import Counter
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Profile, User
from consultations import counts, services
from consultations.demo_data import (
    CONSULTATIONS,
    DEMO_PASSWORD,
    MODERATOR,
    STAFF,
    STAKEHOLDER_DOMAIN,
    STAKEHOLDERS,
    ConsultationSpec,
    Person,
    Post,
)
from consultations.models import Comment, Consultation, Objective, Question
from consultations.sanitize import sanitize_comment, sanitize_description
from notifications.models import Notification


class Command(BaseCommand):
    help = (
        "Create demo data for local development: a moderator (moderator@example.org), a staff "
        "superuser (staff@example.org), 12 stakeholder accounts (@demo.example), an open and a "
        "closed consultation with questions and threaded comments. Safe to run again: what "
        f"exists is left alone. Every demo account has the password {DEMO_PASSWORD!r}, so the "
        "command refuses to run with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (the demo accounts have a published password).",
        )

    def handle(self, *args, force: bool = False, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a publicly known password and is meant for "
                "local development: it refuses to run with DEBUG off. Pass --force if you "
                "really want demo accounts here."
            )
        with transaction.atomic():
            seeder = _Seeder(now=timezone.now())
            summary = seeder.run()
        for line in summary:
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {DEMO_PASSWORD})"))
        for person in (MODERATOR, STAFF, *STAKEHOLDERS):
            role = "moderator" if person.is_moderator else "staff" if person.is_staff else ""
            user = seeder.users[person.email]
            self.stdout.write(
                f"  {person.email:<32} username {user.username:<18} {role or person.display_name}"
            )
        if seeder.tally["users existing"]:
            self.stdout.write("Accounts that already existed keep their current password.")


class _Seeder:
    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.tally: Counter[str] = Counter()
        self.users: dict[str, User] = {}
        self.objectives = {o.number: o for o in Objective.objects.all()}

    def run(self) -> list[str]:
        moderators = Group.objects.get(name="Moderators")
        for person in (MODERATOR, STAFF, *STAKEHOLDERS):
            self.users[person.email] = self._user(person, moderators)
        lines = [
            f"Accounts: {self.tally['users created']} created, "
            f"{self.tally['users existing']} already there."
        ]
        for spec in CONSULTATIONS:
            lines.append(self._consultation(spec))
        return lines

    def _user(self, person: Person, moderators: Group) -> User:
        user = User.objects.filter(email__iexact=person.email).first()
        if user is None:
            user = User.objects.create_user(
                username=_free_username(person.email.split("@")[0]),
                email=person.email,
                password=DEMO_PASSWORD,
                is_staff=person.is_staff,
                is_superuser=person.is_superuser,
            )
            self.tally["users created"] += 1
        else:
            self.tally["users existing"] += 1
            # The roles the demo relies on; the password and profile are left as they are.
            if (person.is_staff and not user.is_staff) or (
                person.is_superuser and not user.is_superuser
            ):
                user.is_staff = user.is_staff or person.is_staff
                user.is_superuser = user.is_superuser or person.is_superuser
                user.save(update_fields=["is_staff", "is_superuser"])
        Profile.objects.get_or_create(
            user=user,
            defaults={
                "display_name": person.display_name,
                "organisation": person.organisation,
                "stakeholder_type": person.stakeholder_type,
                "byline": person.byline,
            },
        )
        # Posting needs a verified address (permissions.has_verified_email).
        address = EmailAddress.objects.filter(user=user, email__iexact=person.email).first()
        if address is None:
            has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
            EmailAddress.objects.create(
                user=user, email=person.email, verified=True, primary=not has_primary
            )
        elif not address.verified:
            EmailAddress.objects.filter(pk=address.pk).update(verified=True)
        if person.is_moderator:
            user.groups.add(moderators)
        return user

    def _consultation(self, spec: ConsultationSpec) -> str:
        opens_at = self.now - timedelta(days=spec.opens_days_ago)
        closes_at = self.now + timedelta(days=spec.closes_in_days)
        moderator = self.users[MODERATOR.email]
        consultation = Consultation.objects.filter(slug=spec.slug).first()
        created = consultation is None
        if created:
            # Comments go through the real service, which only accepts them while the
            # consultation is open; a past consultation is opened for now, closed below.
            is_past = closes_at <= self.now
            closes_on = timezone.localtime(closes_at)
            consultation = Consultation.objects.create(
                title=spec.title,
                slug=spec.slug,
                description=sanitize_description(
                    spec.description.format(closes_on=f"{closes_on.day} {closes_on:%B %Y}")
                ),
                opens_at=self.now - timedelta(hours=1) if is_past else opens_at,
                closes_at=self.now + timedelta(hours=1) if is_past else closes_at,
                is_published=True,
            )
            consultation.objectives.set([self.objectives[n] for n in spec.objectives])
        else:
            # An existing consultation keeps its own dates; new posts are dated from them.
            opens_at = consultation.opens_at
        consultation.moderators.add(moderator)

        new_questions = new_comments = 0
        can_post = consultation.is_published and consultation.is_open
        for number, text in enumerate(spec.questions, start=1):
            question, question_created = Question.objects.get_or_create(
                consultation=consultation,
                number=number,
                defaults={"text": text, "created_by": moderator, "created_at": opens_at},
            )
            new_questions += question_created
            if can_post:
                for post in spec.threads.get(number, ()):
                    at = opens_at + timedelta(days=post.day)
                    new_comments += self._thread(post, question=question, parent=None, at=at)
                counts.refresh(question.pk)  # its latest comment, once the comments are dated

        if created and consultation.closes_at != closes_at:
            Consultation.objects.filter(pk=consultation.pk).update(
                opens_at=opens_at, closes_at=closes_at
            )
            consultation.refresh_from_db()

        total_comments = Comment.objects.filter(question__consultation=consultation).count()
        status = "created" if created else "already there"
        note = "" if can_post or not created else " (comments skipped: not open)"
        return (
            f"Consultation {spec.slug} ({consultation.state.label.lower()}): {status}; "
            f"{consultation.questions.count()} questions ({new_questions} new), "
            f"{total_comments} comments ({new_comments} new){note}."
        )

    def _thread(self, post: Post, *, question: Question, parent: Comment | None, at) -> int:
        """Post `post` and its replies unless already there; returns how many were created."""
        author = self.users[f"{post.author}@{STAKEHOLDER_DOMAIN}"]
        # Keyed by what the service stores, so a second run finds the same comment.
        comment = Comment.objects.filter(
            question=question, parent=parent, author=author, body=sanitize_comment(post.body)
        ).first()
        created = 0
        if comment is None:
            comment = services.comment_create(
                question=question,
                author=author,
                body=post.body,
                objectives=[self.objectives[n] for n in post.objectives],
                parent=parent,
            )
            # A plain UPDATE: dating a comment must not touch the tree columns. It is a change
            # (updated_at): the comment's stored HTML is made again with its date.
            posted_at = min(at, self.now - timedelta(minutes=5))
            Comment.objects.filter(pk=comment.pk).update(
                created_at=posted_at, updated_at=timezone.now()
            )
            # The demo's replies are dated weeks ago: nobody is told about them now. (The tasks,
            # enqueued when the seeding commits, find the rows no longer pending.)
            Notification.objects.filter(comment=comment).update(
                state=Notification.State.CANCELLED, last_error="demo data"
            )
            created = 1
        for reply in post.replies:
            at += timedelta(hours=reply.hours)
            created += self._thread(reply, question=question, parent=comment, at=at)
            at += _thread_span(reply)
        return created


def _thread_span(post: Post) -> timedelta:
    """Time from `post` to the last of its replies (depth-first)."""
    return sum(
        (timedelta(hours=reply.hours) + _thread_span(reply) for reply in post.replies),
        timedelta(),
    )


def _free_username(base: str) -> str:
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}{n}"
    return username
