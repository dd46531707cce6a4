"""What the widget needs from the public API beyond the chat itself: its JS API's context and
visitor fields are accepted (and validated), and a browser on any site may call the routes."""

from tests.api.test_public_api import body, parse_sse
from tests.utils.knowledge import make_shop


def test_chat_accepts_the_widgets_context_and_visitor(client):
    shop = make_shop()
    extra = {"context": {"page": "/pricing", "plan": "pro"}, "visitor": {"name": "Ada"}}
    response = client.post("/api/chat", json=body(shop, **extra))
    assert response.status_code == 200
    assert [e["type"] for e in parse_sse(response.text)][-1] == "done"

    response = client.post("/api/chat", json=body(shop, context="not an object"))
    assert response.status_code == 422


def test_a_browser_on_another_site_may_call_the_widgets_routes(client):
    shop = make_shop()
    origin = {"Origin": "https://shop.example"}
    preflight = client.options(
        "/api/chat",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    config = client.get(f"/api/public/bots/{shop.public_id}/config", headers=origin)
    assert config.headers["access-control-allow-origin"] == "*"
    refused = client.post("/api/chat", json=body(shop, api_key="ck_wrong"), headers=origin)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"  # the widget can read why
