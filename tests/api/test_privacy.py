"""Every endpoint walked, every page followed: no email address, IP address, report, moderation
note, analyst code or hidden text ever appears in a response."""

import json

import pytest
from django.urls import get_resolver

from insights.models import Code, CodeAssignment

pytestmark = pytest.mark.django_db

SECRETS = ["SECRET-HIDDEN-TEXT", "SECRET-DELETED-TEXT", "SECRET-REPORT-DETAILS", "SECRET-MOD-NOTE"]


def _api_list_paths() -> set[str]:
    routes = set()
    for pattern in get_resolver().url_patterns:
        if str(pattern.pattern) == "api/v1/":
            for sub in pattern.url_patterns:
                for inner in getattr(sub, "url_patterns", [sub]):
                    route = str(inner.pattern).lstrip("^").rstrip("$")
                    if "<" not in route and "(?P" not in route and "format" not in route:
                        routes.add(route)
    return routes


def test_no_private_data_in_any_response(
    client, thread, consultation, user, other_user, moderator, settings
):
    code = Code.objects.create(consultation=consultation, name="SECRET-CODE-NAME")
    CodeAssignment.objects.create(code=code, comment=thread["root"], note="SECRET-CODE-NOTE")
    secrets = [*SECRETS, "SECRET-CODE-NAME", "SECRET-CODE-NOTE"]
    secrets += [u.email for u in (user, other_user, moderator)] + ["127.0.0.1"]

    lists = {f"/api/v1/{route}" for route in _api_list_paths()}
    assert {"/api/v1/comments/", "/api/v1/consultations/", "/api/v1/schema/"} <= lists
    seen, bodies = set(), []
    queue = sorted(lists)
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(response.content.decode())
        if response["Content-Type"].startswith("application/json"):
            data = response.json()
            items = data.get("results", data) if isinstance(data, dict) else data
            if isinstance(data, dict) and data.get("next"):
                queue.append(data["next"].replace("http://testserver", ""))
            for item in items if isinstance(items, list) else []:
                for key in ("id", "slug", "number"):
                    if key in item:
                        queue.append(f"{url}{item[key]}/")
                        break
    assert len(seen) > 10
    everything = "\n".join(bodies) + json.dumps(dict(client.get("/api/v1/comments/").headers))
    for secret in secrets:
        assert secret not in everything, secret
    # The visible texts are there: the walk did read the comments.
    assert "Birth registration first." in everything
