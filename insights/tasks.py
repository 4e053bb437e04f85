"""The background tasks of the staff insights (run by `manage.py db_worker`, like the emails)."""

from django_tasks import task

from . import campaigns, extraction, themes


@task()
def group_comment(comment_id: int) -> str:
    """A comment was posted or edited: its signature, then its consultation's campaign groups."""
    result = campaigns.group_comment_now(comment_id)
    if result is None:
        return "nothing changed"
    return f"{result.groups} groups, {result.grouped} comments grouped"


@task()
def compute_themes(run_id: int) -> str:
    """One theme run: the suggestions for a question, with progress on the ThemeRun row."""
    return themes.execute_run(run_id)


@task()
def extract_attachment_text(attachment_id: int) -> str:
    """One attachment's plain text, for the staff search and the XLSX export."""
    return extraction.extract(attachment_id)
