"""{% comment_thread %}: a question's comments, assembled by consultations.rendering."""

from django import template

from consultations import rendering

register = template.Library()


@register.simple_tag(takes_context=True)
def comment_thread(context, items, *, question, consultation, filtered=False, confirmation=None):
    return rendering.thread_html(
        items,
        consultation=consultation,
        question=question,
        viewer=context["user"],
        filtered=bool(filtered),
        confirmation=confirmation,
        # Set by the views: when the viewer's previous visit to the consultation ended.
        new_since=context.get("new_since"),
    )
