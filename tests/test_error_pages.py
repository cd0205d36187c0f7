import pytest


@pytest.mark.django_db
def test_unknown_page_is_a_chinese_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


@pytest.mark.django_db
def test_server_error_page_is_chinese_and_standalone(client):
    # 500.html must render without a request context (Django renders it bare).
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "系统繁忙" in html
