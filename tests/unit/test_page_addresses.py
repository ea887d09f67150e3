"""A page's address is served as it is written: ``/dashboard``, not a redirect to ``/dashboard/``
first (one round trip more on every page load, sign-in returns and bookmarks included)."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from immtrax_portal.serving import PageWithoutRedirect


def built_pages(root: Path) -> Path:
    for page in ("", "dashboard", "staff/queue"):
        (root / page).mkdir(parents=True, exist_ok=True)
        (root / page / "index.html").write_text(f"<p>page {page or 'home'}</p>")
    (root / "assets").mkdir()
    (root / "assets" / "app.js").write_text("//")
    return root


def client(root: Path, *, with_middleware: bool = True) -> TestClient:
    app = Starlette(routes=[Mount("/", app=StaticFiles(directory=root, html=True))])
    if with_middleware:
        app.add_middleware(PageWithoutRedirect, pages_dir=root)
    return TestClient(app, follow_redirects=False)


def test_a_page_without_the_slash_is_the_page_itself(tmp_path):
    pages = client(built_pages(tmp_path))
    for path, words in (("/dashboard", "page dashboard"), ("/staff/queue?status=open", "page staff/queue"),
                        ("/dashboard/", "page dashboard"), ("/", "page home")):
        response = pages.get(path)
        assert (response.status_code, response.text) == (200, f"<p>{words}</p>"), path


def test_the_static_files_alone_would_redirect_first(tmp_path):
    """What the middleware saves (if this ever stops redirecting, the middleware can go)."""
    response = client(built_pages(tmp_path), with_middleware=False).get("/dashboard")
    assert response.status_code in (307, 308) and response.headers["location"].endswith("/dashboard/")


def test_other_addresses_are_left_as_they_are(tmp_path):
    pages = client(built_pages(tmp_path))
    assert pages.get("/assets").status_code in (307, 308, 404)   # not a page: no rewrite
    assert pages.get("/assets/app.js").text == "//"
    assert pages.get("/nothing-here").status_code == 404
    assert pages.post("/dashboard").status_code in (307, 308, 405)  # only GET and HEAD
