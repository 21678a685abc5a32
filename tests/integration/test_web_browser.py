"""The web page of a real ``ragline serve --data`` subprocess, driven in headless chromium.

A person with a key made by ``ragline keys create`` and no documents creates a collection,
uploads two files of fictional facts (the packaged MiniLM embeds them), asks a question the
files answer, watches the answer stream in, opens its citation and sees the cited span
highlighted in the document; the retrieval panel shows each passage's BM25 and dense
positions. Also: dropped files and per-file errors, API errors as their one-line message,
a keyboard-only path, and a ~400 px window. Every check reads what the page shows.

With ``RAGLINE_SCREENSHOTS=docs/screenshots`` the run saves the README's screenshots there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("selenium")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from ragline import Config, Document, KnowledgeBase  # noqa: E402
from ragline.keystore import KEYS_FILE, KeyStore  # noqa: E402
from serve_process import free_port, serving  # noqa: E402

pytestmark = pytest.mark.integration

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM = next(filter(None, map(shutil.which, BROWSERS)), None)
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip(
        "needs chromium and chromedriver on PATH "
        "(Debian: apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

STARTUP_SECONDS = 60
WAIT_SECONDS = 60
WIDE = (1280, 900)
NARROW = (400, 860)

ZORBIA = (
    "Quellport is the capital of the island nation of Zorbia. Zorbia exports blue salt, "
    "copper wire and dried kelp. The Zorbian flag shows a white heron on green."
)
VENDRA = (
    "# Vendra\n\nVendra is a mountain kingdom east of Zorbia. Its capital is Ostrell, a city "
    "of bell towers. Vendran shepherds keep long-haired goats."
)
FILES = {"zorbia.txt": ZORBIA, "vendra.md": VENDRA}
MANUAL = Path(__file__).resolve().parents[1] / "data" / "pdf" / "tide-manual.pdf"
"""Five pages printed as i, ii, 1, 2, 3; the fourth (printed 2) is about recovering data."""
QUESTION = "What is the capital of Zorbia?"


def ragline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragline.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-data")


@pytest.fixture(scope="module")
def key(data: Path) -> str:
    made = ragline("keys", "create", "--data", str(data), "--collection", "*", "--role", "admin")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@pytest.fixture(scope="module")
def server(data: Path, key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``ragline serve --data`` on a free port of 127.0.0.1 (extractive generator)."""
    log_path = tmp_path_factory.mktemp("web-log") / "serve.log"
    with serving("--data", data, "--generator", "extractive", log=log_path) as url:
        yield url


@pytest.fixture(scope="module")
def atlas(server: str, key: str) -> str:
    """A collection ``atlas`` holding the two files, made through the API (not the page)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server, headers=headers, timeout=WAIT_SECONDS) as api:
        assert api.post("/collections", json={"name": "atlas"}).status_code == 201
        files = [("files", (name, text.encode())) for name, text in FILES.items()]
        job = api.post("/collections/atlas/uploads", files=files).json()
        deadline = time.monotonic() + WAIT_SECONDS
        while job["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
            job = api.get(f"/collections/atlas/jobs/{job['id']}").json()
    assert job["status"] == "done" and job["chunks"] >= 2, job
    return "atlas"


def write_tiny_cross_encoder(directory: Path, words: list[str]) -> Path:
    """A random one-layer BERT cross-encoder over ``words``, written with numpy (importing
    transformers here would cost more than the rest of a test)."""
    import numpy as np
    from safetensors.numpy import save_file

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    hidden, inner, positions = 32, 64, 128
    shapes = {
        "embeddings.word_embeddings.weight": (len(vocab), hidden),
        "embeddings.position_embeddings.weight": (positions, hidden),
        "embeddings.token_type_embeddings.weight": (2, hidden),
        "pooler.dense.weight": (hidden, hidden),
    }
    for name in ("attention.self.query", "attention.self.key", "attention.self.value"):
        shapes[f"encoder.layer.0.{name}.weight"] = (hidden, hidden)
    shapes["encoder.layer.0.attention.output.dense.weight"] = (hidden, hidden)
    shapes["encoder.layer.0.intermediate.dense.weight"] = (inner, hidden)
    shapes["encoder.layer.0.output.dense.weight"] = (hidden, inner)
    random = np.random.default_rng(0)
    weights = {f"bert.{k}": random.normal(0, 0.2, v).astype("float32") for k, v in shapes.items()}
    for name, size in [("pooler.dense", hidden), ("encoder.layer.0.intermediate.dense", inner)]:
        weights[f"bert.{name}.bias"] = np.zeros(size, "float32")
    for name in ("attention.self.query", "attention.self.key", "attention.self.value"):
        weights[f"bert.encoder.layer.0.{name}.bias"] = np.zeros(hidden, "float32")
    for name in ("attention.output.dense", "output.dense"):
        weights[f"bert.encoder.layer.0.{name}.bias"] = np.zeros(hidden, "float32")
    for norm in ("embeddings", "encoder.layer.0.attention.output", "encoder.layer.0.output"):
        weights[f"bert.{norm}.LayerNorm.weight"] = np.ones(hidden, "float32")
        weights[f"bert.{norm}.LayerNorm.bias"] = np.zeros(hidden, "float32")
    weights["classifier.weight"] = random.normal(0, 0.2, (1, hidden)).astype("float32")
    weights["classifier.bias"] = np.zeros(1, "float32")
    directory.mkdir(parents=True)
    save_file(weights, str(directory / "model.safetensors"))
    config = {
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": len(vocab),
        "hidden_size": hidden,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": inner,
        "max_position_embeddings": positions,
        "type_vocab_size": 2,
        "id2label": {"0": "LABEL_0"},
        "label2id": {"LABEL_0": 0},
    }
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = {"tokenizer_class": "BertTokenizer", "do_lower_case": True}
    (directory / "tokenizer_config.json").write_text(json.dumps(tokenizer))
    return directory


@pytest.fixture(scope="module")
def reranked(data: Path, server: str) -> str:
    """A collection ``reranked`` of the two files whose searches end with a cross-encoder (a
    tiny random one: its order is arbitrary, but its scores and positions are real), made
    with the library in the served data directory (the server finds it there)."""
    words = sorted({w.lower() for text in FILES.values() for w in re.findall(r"\w+", text)})
    model = write_tiny_cross_encoder(data.parent / "tiny-cross-encoder", words)
    settings = Config().with_overrides("embed", model="hash-64")
    settings = settings.with_overrides("search", rerank=str(model))
    with KnowledgeBase.create(data / "reranked", settings) as kb:
        kb.add([Document(name, text) for name, text in FILES.items()])
    return "reranked"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WIDE[0]},{WIDE[1]}")
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture()
def page(browser: WebDriver, server: str) -> WebDriver:
    """The page, freshly loaded in a wide window with no key kept."""
    browser.set_window_size(*WIDE)
    browser.get(server)
    browser.execute_script("sessionStorage.clear()")
    browser.get(server)
    return browser


# ---- helpers: find, wait, read what the page shows -----------------------------------------
def find(driver: WebDriver, css: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, css)


def wait_until(driver: WebDriver, what: str, check: Callable[[WebDriver], Any]) -> Any:
    try:
        return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(check)
    except TimeoutException:
        shown = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"timed out waiting for {what}; the page shows:\n{shown}") from None


def wait_text(driver: WebDriver, css: str, expected: str) -> WebElement:
    """The first element matching ``css`` once it is shown and its text contains ``expected``."""

    def shown(d: WebDriver) -> WebElement | bool:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            if element.is_displayed() and expected in element.text:
                return element
        return False

    found: WebElement = wait_until(driver, f"{expected!r} in {css}", shown)
    return found


def active_id(driver: WebDriver) -> str:
    return str(driver.execute_script("return document.activeElement.id"))


def enter_key(driver: WebDriver, key: str) -> None:
    field = find(driver, "#key")
    field.clear()
    field.send_keys(key, Keys.ENTER)
    wait_until(driver, "the workspace", lambda d: find(d, "#workspace").is_displayed())


def ask(driver: WebDriver, question: str, expected: str = "Quellport") -> WebElement:
    field = find(driver, "#question")
    field.clear()
    field.send_keys(question, Keys.ENTER)
    return wait_text(driver, "#answer", expected)


def open_collection(driver: WebDriver, name: str) -> None:
    Select(find(driver, "#collection")).select_by_value(name)
    wait_text(driver, "#collection-info", "2 documents")


def screenshot(driver: WebDriver, name: str) -> None:
    """Save the window as ``name`` under $RAGLINE_SCREENSHOTS, when it is set."""
    folder = os.environ.get("RAGLINE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(Path(folder) / name))


def drop(driver: WebDriver, name: str, text: str) -> None:
    """Drop a file named ``name`` on the drop zone (a real DataTransfer holding a File)."""
    driver.execute_script(
        """
        const [name, text] = arguments;
        const files = new DataTransfer();
        files.items.add(new File([text], name, {type: "text/plain"}));
        const zone = document.getElementById("drop-zone");
        for (const type of ["dragenter", "dragover", "drop"]) {
          const init = {dataTransfer: files, bubbles: true, cancelable: true};
          zone.dispatchEvent(new DragEvent(type, init));
        }
        """,
        name,
        text,
    )


# ---- what a person does ---------------------------------------------------------------------
def test_upload_ask_and_open_the_cited_span(page: WebDriver, key: str, tmp_path: Path) -> None:
    assert "ragline keys create" in find(page, "#welcome").text
    enter_key(page, key)
    find(page, "#new-collection").send_keys("islands")
    find(page, "#create-form button").click()
    wait_text(page, "#collection-info", "0 documents")
    assert Select(find(page, "#collection")).first_selected_option.text == "islands"

    paths = []
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    find(page, "#file-input").send_keys("\n".join(paths))  # what the file picker hands over
    job = wait_text(page, "#jobs .job", "2 of 2 files")
    wait_until(page, "the job to end", lambda d: "· done" in job.text)
    assert "zorbia.txt" in job.text and "vendra.md" in job.text and "error" not in job.text
    documents = wait_text(page, "#documents", "zorbia.txt")
    assert "vendra.md" in documents.text and "(2)" in find(page, "#documents-count").text

    answer = ask(page, QUESTION)
    assert "Quellport is the capital" in answer.text
    sources = wait_text(page, "#citations", "zorbia.txt")
    assert "supported" in sources.text and "not supported" not in sources.text
    citation = find(page, "#answer button.citation")
    assert citation.text.startswith("[1]")
    citation.click()

    dialog = find(page, "#doc-view")
    wait_until(page, "the document view", lambda d: dialog.is_displayed())
    assert find(page, "#doc-title").text == "zorbia.txt"
    assert "Citation [1]" in find(page, "#doc-meta").text
    highlighted = wait_text(page, "#doc-text mark.cited", "Quellport")
    assert highlighted.text.startswith("Quellport is the capital of the island nation of Zorbia.")
    assert find(page, "#doc-text mark.sentence").text == (
        "Quellport is the capital of the island nation of Zorbia"
    )
    screenshot(page, "answer-citation.png")

    find(page, "#doc-close").click()
    wait_until(page, "the view to close", lambda d: not dialog.is_displayed())


def test_a_pdf_citation_shows_its_page(page: WebDriver, key: str) -> None:
    enter_key(page, key)
    find(page, "#new-collection").send_keys("manuals", Keys.ENTER)
    wait_text(page, "#collection-info", "0 documents")
    find(page, "#file-input").send_keys(str(MANUAL))
    wait_text(page, "#jobs .job", "1 of 1 file · 1 chunk · done")
    wait_text(page, "#documents", "tide-manual.pdf")
    ask(page, "What does the recovery tool rebuild readings from?", "flash card journal")
    find(page, "#answer button.citation").click()
    meta = wait_text(page, "#doc-meta", "Citation [1]")
    assert "page 2 (page 4 of the file)" in meta.text  # the cited sentence's page, not the chunk's
    sentence = find(page, "#doc-text mark.sentence").text
    assert sentence == "The recovery tool rebuilds readings from the flash card journal"
    pages = [p.text for p in page.find_elements(By.CSS_SELECTOR, "#doc-text .page-start")]
    assert pages[0] == "page i (page 1 of the file)" and pages[-1] == "page 3 (page 5 of the file)"
    assert len(pages) == 5
    screenshot(page, "pdf-citation.png")
    webdriver.ActionChains(page).send_keys(Keys.ESCAPE).perform()
    wait_until(page, "Escape to close", lambda d: not find(d, "#doc-view").is_displayed())


def test_dropped_files_show_their_progress_and_errors(
    page: WebDriver, key: str, atlas: str
) -> None:
    enter_key(page, key)
    open_collection(page, atlas)
    drop(page, "herons.txt", "The white heron of Zorbia nests in salt marshes.")
    drop(page, "empty.txt", "")
    wait_text(page, "#jobs .job", "1 of 1 file · 1 chunk · done")
    failed = wait_text(page, "#jobs .job .file.error", "empty.txt")
    assert "error: empty file" in failed.text
    wait_text(page, "#documents", "herons.txt")

    drop(page, "notes.xyz", "not a known format")
    error = wait_text(page, "#upload-error", "notes.xyz")
    assert error.text.startswith("notes.xyz: unsupported file type (use ")
    assert "\n" not in error.text

    find(page, "#documents button.link").click()  # the list opens a document too
    wait_text(page, "#doc-text", "The white heron of Zorbia nests in salt marshes.")
    assert find(page, "#doc-title").text == "herons.txt" and find(page, "#doc-meta").text == ""
    find(page, "#doc-close").click()
    find(page, "button[aria-label='Delete herons.txt']").click()
    wait_until(page, "the document to go", lambda d: "herons.txt" not in find(d, "#documents").text)
    wait_text(page, "#collection-info", "2 documents")


def test_api_errors_show_their_one_line_message(page: WebDriver, key: str) -> None:
    find(page, "#key").send_keys("rl_not-a-key", Keys.ENTER)
    assert wait_text(page, "#error", "invalid API key").text == "invalid API key"
    assert not find(page, "#workspace").is_displayed()
    enter_key(page, key)
    find(page, "#new-collection").send_keys("no/slashes", Keys.ENTER)
    error = wait_text(page, "#collection-error", "no/slashes")
    assert "\n" not in error.text
    find(page, "#forget-key").click()
    assert find(page, "#welcome").is_displayed() and not find(page, "#workspace").is_displayed()
    assert page.execute_script("return sessionStorage.getItem('ragline.key')") is None
    page.execute_script("sessionStorage.setItem('ragline.key', 'rl_revoked')")
    page.refresh()  # a tab whose key stopped working goes back to the key form
    assert wait_text(page, "#error", "invalid API key").text == "invalid API key"
    assert not find(page, "#workspace").is_displayed() and active_id(page) == "key"


def test_retrieval_panel_shows_each_ranking(page: WebDriver, key: str, atlas: str) -> None:
    enter_key(page, key)
    open_collection(page, atlas)
    ask(page, QUESTION)
    toggle = find(page, "#retrieval-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    panel = wait_text(page, "#retrieval", "BM25")
    headers = [th.text for th in panel.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers == ["#", "Passage", "BM25", "Dense", "Fused", "Re-rank"]
    rows = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in panel.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert len(rows) == 2
    number, passage, bm25, dense, fused, rerank = rows[0]
    assert number == "1" and passage.startswith("zorbia.txt")
    assert bm25.startswith("#1 · ") and dense.startswith("#1 · ") and fused.startswith("#1 · ")
    assert rerank == "—"  # this collection has no re-ranker
    assert rows[1][1].startswith("vendra.md") and rows[1][2].startswith("#2 · ")
    screenshot(page, "retrieval.png")
    toggle.click()
    assert not panel.is_displayed()


def test_retrieval_panel_shows_the_rerank_stage(page: WebDriver, key: str, reranked: str) -> None:
    enter_key(page, key)
    open_collection(page, reranked)
    ask(page, QUESTION)
    find(page, "#retrieval-toggle").click()
    panel = wait_text(page, "#retrieval", "zorbia.txt")
    assert "no re-ranker" not in panel.text
    rows = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in panel.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert [row[0] for row in rows] == ["1", "2"]
    fused = sorted(row[4].split(" · ")[0] for row in rows)
    reranks = [row[5].split(" · ")[0] for row in rows]
    assert fused == ["#1", "#2"] and sorted(reranks) == ["#1", "#2"]
    assert all(row[5].count(" · ") == 1 for row in rows)  # a position and the re-ranker's score


def test_keyboard_alone_asks_and_opens_a_citation(page: WebDriver, key: str, atlas: str) -> None:
    keyboard = webdriver.ActionChains(page)

    def tab_to(element_id: str, limit: int = 30) -> None:
        for _ in range(limit):
            if active_id(page) == element_id:
                return
            keyboard.send_keys(Keys.TAB).perform()
        raise AssertionError(f"Tab never reached #{element_id} (at #{active_id(page)})")

    tab_to("key")
    keyboard.send_keys(key, Keys.ENTER).perform()
    wait_until(page, "the collection list focused", lambda d: active_id(d) == "collection")
    keyboard.send_keys(atlas).perform()  # typing a name picks it in a focused list
    wait_text(page, "#collection-info", "2 documents")
    tab_to("question")
    outline = "const s = getComputedStyle(document.activeElement); return s.outlineStyle"
    assert page.execute_script(outline) == "solid", "focus is visible"
    keyboard.send_keys(QUESTION, Keys.ENTER).perform()
    wait_text(page, "#answer", "Quellport")
    keyboard.send_keys(Keys.TAB, Keys.TAB).perform()  # past the Ask button, to the citation
    assert page.switch_to.active_element.text.startswith("[1]")
    keyboard.send_keys(Keys.ENTER).perform()
    dialog = find(page, "#doc-view")
    wait_text(page, "#doc-text mark.cited", "Quellport")
    keyboard.send_keys(Keys.ESCAPE).perform()
    wait_until(page, "Escape to close the view", lambda d: not dialog.is_displayed())
    assert page.switch_to.active_element.text.startswith("[1]"), "focus went back"


def test_narrow_window_fits_in_one_column(page: WebDriver, key: str, atlas: str) -> None:
    page.set_window_size(*NARROW)
    width = page.execute_script("return window.innerWidth")
    assert width <= NARROW[0]
    enter_key(page, key)
    open_collection(page, atlas)
    ask(page, QUESTION)
    find(page, "#retrieval-toggle").click()
    wait_text(page, "#retrieval", "zorbia.txt")
    overflow = page.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= width, f"the page is {overflow} px wide in a {width} px window"
    side, ask_card = find(page, ".side"), find(page, ".ask")
    assert side.location["x"] == ask_card.location["x"]  # stacked, not side by side
    assert ask_card.location["y"] > side.location["y"]
    for css in ("#question", "#ask-button", "#answer button.citation"):
        element = find(page, css)
        assert element.is_displayed() and element.rect["x"] + element.rect["width"] <= width
    page.execute_script("document.getElementById('ask-heading').scrollIntoView()")
    screenshot(page, "narrow.png")


# ---- a citation that fails its support check ------------------------------------------------
class CitingBoth:
    """A generator whose reply cites the Vendra passage beside the Zorbia one, and adds a
    sentence no passage states: what a careless language model writes. (The packaged
    generators answer from one passage, so their citations always pass the check.)"""

    name = "citing-both"

    def generate(self, messages: Sequence[dict[str, str]], **options: Any) -> str:
        passages = re.findall(
            r"\[(\d+)\] (.*?)(?=\n\n\[\d+\] |\n\nQuestion:)", messages[-1]["content"], re.S
        )
        zorbia = next(n for n, text in passages if "Quellport" in text)
        vendra = next(n for n, text in passages if "Ostrell" in text)
        return (
            f"Quellport is the capital of Zorbia [{zorbia}][{vendra}]. "
            f"Zorbia has a million bell towers [{zorbia}]."
        )

    def stream(self, messages: Sequence[dict[str, str]], **options: Any) -> Iterator[str]:
        yield from re.split(r"(?<= )", self.generate(messages))


@pytest.fixture(scope="module")
def citing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server (uvicorn in this process, so it can hold the generator above) over one
    collection of the two files (hash encoder); yields its URL and an admin key."""
    uvicorn = pytest.importorskip("uvicorn")
    from ragline.serve.app import create_app

    root = tmp_path_factory.mktemp("web-citing")
    config = Config().with_overrides("embed", model="hash-64")
    with KnowledgeBase.create(root / "citing", config) as kb:
        kb.add([Document(name, text) for name, text in FILES.items()])
    admin, _ = KeyStore(root / KEYS_FILE).create("*", "admin")
    app = create_app(data=root, generator=CitingBoth())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the in-process server did not start"
    yield f"http://127.0.0.1:{port}", admin
    server.should_exit = True
    thread.join(timeout=15)


def test_a_failed_support_check_is_marked(
    browser: WebDriver, citing_server: tuple[str, str]
) -> None:
    url, admin = citing_server
    browser.set_window_size(*WIDE)
    browser.get(url)
    browser.execute_script("sessionStorage.clear()")
    browser.get(url)
    enter_key(browser, admin)
    wait_text(browser, "#collection-info", "2 documents")
    ask(browser, QUESTION)
    unsupported = find(browser, "#answer button.citation.unsupported")
    assert unsupported.text == "[2]⚠"
    assert "support check failed" in unsupported.get_attribute("title")
    supported = find(browser, "#answer button.citation:not(.unsupported)")
    assert supported.text == "[1]"
    assert "bell towers" not in find(browser, "#answer p").text
    assert "1 sentence withheld" in find(browser, "#answer").text
    verdict = wait_text(browser, "#citations", "not supported")
    assert "⚠ not supported (the passage lacks:" in verdict.text
    unsupported.click()
    wait_text(browser, "#doc-meta", "the support check failed")
    assert find(browser, "#doc-title").text == "vendra.md"
    assert find(browser, "#doc-text mark.cited.unsupported").text.startswith("# Vendra")
    find(browser, "#doc-close").click()
