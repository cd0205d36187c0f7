import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_migrations(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] is True and body["migrations_applied"] is True
    assert body["version"]


def test_area_fixture_holds_real_codes(areas):
    from conftest import GUDONG, GULOU

    assert areas[GUDONG].name == "鼓东街道"
    assert areas[GUDONG].parent.code == GULOU
    assert areas[GUDONG].path.startswith(areas[GULOU].path)
