"""The OpenAPI schema: served at /api/v1/schema/, valid, and equal to the committed
api/openapi.yaml (regenerate it with the command in the failure message)."""

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.django_db

COMMITTED = Path(__file__).resolve().parents[2] / "api" / "openapi.yaml"
REGENERATE = "SECRET_KEY=x DEBUG=1 .venv/bin/python manage.py spectacular --file api/openapi.yaml"


def test_the_served_schema_is_the_committed_one(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert served == yaml.safe_load(COMMITTED.read_text()), f"run `{REGENERATE}` and commit it"
    assert served["openapi"].startswith("3.")
    assert set(served["paths"]) >= {
        "/api/v1/comments/",
        "/api/v1/comments/{id}/",
        "/api/v1/consultations/",
        "/api/v1/consultations/{slug}/",
        "/api/v1/questions/",
        "/api/v1/objectives/",
    }


def test_the_schema_is_valid_openapi():
    from drf_spectacular.validation import validate_schema

    validate_schema(yaml.safe_load(COMMITTED.read_text()))
