"""The API docs page renders in a browser with no internet (Swagger UI served locally)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_swagger_ui_renders_offline(page, app_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs")
    expect(page.get_by_text("Chatapp API").first).to_be_visible()
    expect(page.get_by_text("/api/health").first).to_be_visible()
    external = [url for url in requested if not url.startswith(app_server.base_url)]
    assert [url for url in external if url.startswith("http")] == []
