"""The web page and its assets: served without a key, found through importlib.resources,
shipped in the wheel, every reference resolving to a shipped file, none to another site."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from importlib.resources import files
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from ragline.serve.app import create_app  # noqa: E402
from ragline.serve.web import MEDIA_TYPES, assets  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
STATIC = files("ragline.serve") / "static"
EXTERNAL = re.compile(
    r"https?://|(?:src|href|action)\s*=\s*[\"']//|url\(\s*[\"']?//|from\s+[\"']//|import\(\s*[\"']//",
    re.I,
)


@pytest.fixture()
def anonymous(tmp_path: Path) -> TestClient:
    """A client of a ``--data`` server (keys required), presenting no key."""
    return TestClient(create_app(data=tmp_path))


def test_page_and_assets_answer_without_a_key(anonymous: TestClient) -> None:
    page = anonymous.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/web/main.js">' in page.text
    for name in assets():
        reply = anonymous.get(f"/web/{name}")
        assert reply.status_code == 200, name
        suffix = "." + name.rpartition(".")[2]
        assert reply.headers["content-type"] == MEDIA_TYPES[suffix]
        assert reply.content == (STATIC / name).read_bytes()
    assert anonymous.get("/collections").status_code == 401


def test_only_shipped_assets_are_served(anonymous: TestClient) -> None:
    missing = anonymous.get("/web/nothing.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no web asset 'nothing.js'"
    for probe in ("/web/..%2F__init__.py", "/web/../web.py", "/web/%2e%2e%2fapp.py"):
        assert anonymous.get(probe).status_code in (401, 404), probe


def test_assets_are_found_through_importlib_resources() -> None:
    names = set(assets())
    assert {"index.html", "style.css", "main.js", "api.js"} <= names
    assert all((STATIC / name).is_file() for name in names)


def test_no_asset_references_another_site() -> None:
    for name in assets():
        text = (STATIC / name).read_text(encoding="utf-8")
        found = EXTERNAL.search(text)
        assert found is None, f"{name} references an external URL: {found.group(0)!r}"


def test_every_reference_is_a_shipped_asset() -> None:
    names = set(assets())
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r"(?:src|href)=\"/web/([^\"]+)\"", page))
    imported = {
        target
        for name in names
        if name.endswith(".js")
        for target in re.findall(r"from \"\./([^\"]+)\"", (STATIC / name).read_text())
    }
    assert linked and imported
    assert linked | imported <= names
    scripts = {name for name in names if name.endswith(".js")}
    assert scripts <= imported | linked, "a script nothing loads"


def test_the_wheel_ships_the_assets(tmp_path: Path) -> None:
    """``[tool.setuptools.package-data]`` puts every asset into the built wheel."""
    pytest.importorskip("setuptools")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.pyc"))
    code = "import setuptools.build_meta as b, sys; print(b.build_wheel(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "dist")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    wheel = tmp_path / "dist" / done.stdout.split()[-1]
    shipped = set(zipfile.ZipFile(wheel).namelist())
    assert {f"ragline/serve/static/{name}" for name in assets()} <= shipped


def test_readme_screenshots_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"docs/screenshots/[\w.-]+\.png", readme)
    assert len(set(shown)) >= 3, "README lost its web page screenshots"
    assert all((ROOT / path).is_file() for path in shown)


def test_every_control_is_labelled_and_every_button_typed() -> None:
    """Screen readers name each field; a button that should not submit a form says so."""
    from html.parser import HTMLParser

    class Controls(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.labels: set[str] = set()
            self.fields: list[dict[str, str | None]] = []
            self.buttons: list[dict[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "label" and found.get("for"):
                self.labels.add(str(found["for"]))
            elif tag in ("input", "select", "textarea"):
                self.fields.append(found)
            elif tag == "button":
                self.buttons.append(found)

    page = Controls()
    page.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    assert page.fields and page.buttons
    for field in page.fields:
        assert field.get("id") in page.labels or field.get("aria-label"), field
    assert all(button.get("type") in ("button", "submit") for button in page.buttons)
