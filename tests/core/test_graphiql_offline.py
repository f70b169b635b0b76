"""GraphiQL works without internet: its page references only this project's static files (core/static/core/graphiql,
byte-for-byte the npm builds graphene-django pins), and it still follows the login CSRF rules."""
import base64
import hashlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.test import Client, RequestFactory, override_settings

from core.test_helpers import DEFAULT_PASSWORD, post_graphql

pytestmark = pytest.mark.django_db

LOGIN = ("mutation authenticate($username: String!, $password: String!) "
         "{ tokenAuth(username: $username, password: $password) { refreshExpiresIn } }")
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class _Assets(HTMLParser):
    """Every external resource the page loads: <script src>, <link href>, plus any other src= it holds."""

    def __init__(self):
        super().__init__()
        self.assets = []  # (tag, url, integrity)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = attrs.get("href") if tag == "link" else attrs.get("src")
        if url is not None:
            self.assets.append((tag, url, attrs.get("integrity")))


def _graphiql_page(client):
    response = client.get("/api/graphql", **BROWSER)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    return response


def _assets(html):
    parser = _Assets()
    parser.feed(html)
    return parser.assets


def _sri(path):
    return "sha256-" + base64.b64encode(hashlib.sha256(Path(path).read_bytes()).digest()).decode()


@override_settings(GRAPHIQL=True)
def test_graphiql_page_loads_only_local_static_files(admin_user):
    client = Client()
    client.force_login(admin_user)
    html = _graphiql_page(client).content.decode()
    assets = _assets(html)
    assert {tag for tag, _, _ in assets} == {"script", "link"}
    assert len(assets) == 9  # 2 stylesheets, react, react-dom, graphiql, fetch, graphql-ws, explorer, graphiql.js
    assert "cdn." not in html and "https://" not in html and "http://" not in html
    for tag, url, integrity in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{tag} loads from another host: {url}"
        assert url.startswith(settings.STATIC_URL), url
        found = finders.find(url[len(settings.STATIC_URL):])
        assert found, f"{url} is not a static file of the project"
        if integrity:  # the vendored files are exactly the builds whose hashes the page pins
            assert _sri(found) == integrity, url
    assert sum(1 for _, _, integrity in assets if integrity) == 8


@override_settings(GRAPHIQL=True)
def test_static_files_are_served(admin_user):
    """Served as the running server serves them (whitenoise from STATIC_ROOT after collectstatic, or the finders)."""
    for _, url, _ in _assets(_graphiql_page(Client()).content.decode()):
        response = serve(RequestFactory().get(url), url[len(settings.STATIC_URL):], insecure=True)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content)
        assert body == Path(finders.find(url[len(settings.STATIC_URL):])).read_bytes()


@override_settings(GRAPHIQL=False)
def test_no_graphiql_when_off(admin_user):
    response = Client().get("/api/graphql", **BROWSER)
    assert not response["Content-Type"].startswith("text/html")
    assert b"<script" not in response.content


def test_graphiql_script_sends_the_csrf_token():
    script = Path(finders.find("graphene_django/graphiql.js")).read_text()
    assert "csrftoken=" in script and "headers['X-CSRFToken'] = csrftoken" in script
    assert 'document.querySelector("[name=csrfmiddlewaretoken]")' in script  # fallback: the page's hidden field


@override_settings(GRAPHIQL=True)
def test_login_from_graphiql_follows_the_csrf_rules(admin_user):
    """What GraphiQL's fetcher does in a browser: the page hands out the csrftoken cookie, the login posts it back
    as X-CSRFToken; a login without it is refused."""
    client = Client(enforce_csrf_checks=True)
    page = _graphiql_page(client)
    token = client.cookies["csrftoken"].value
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    variables = {"username": "Admin", "password": DEFAULT_PASSWORD}
    refused = post_graphql(LOGIN, variables, client=client, HTTP_ORIGIN="http://testserver")
    assert refused.status_code == 403
    accepted = post_graphql(LOGIN, variables, client=client, HTTP_ORIGIN="http://testserver",
                            HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and "JWT" in accepted.cookies
    # logged in by the cookie, the page still shows and a query runs
    _graphiql_page(client)
    me = post_graphql("{ user { username } }", client=client, HTTP_ORIGIN="http://testserver",
                      HTTP_X_CSRFTOKEN=token)
    assert me.json()["data"]["user"]["username"] == "Admin"
