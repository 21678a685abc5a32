"""The OpenAI-compatible client against a real HTTP server speaking the protocol.

The server is the standard library's ``ThreadingHTTPServer`` on an ephemeral port: it
answers ``/v1/chat/completions`` by echoing the request deterministically, whole or as
server-sent events, and misbehaves on purpose for some model names.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ragline.errors import RaglineError
from ragline.generate.base import Completer, Completion, Generator, complete
from ragline.generate.openai_http import OpenAIChatGenerator

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Where is Paris?"},
]


def reply_text(body: dict) -> tuple[str, str]:
    """What the server answers: the last message echoed with the sampling options, cut to
    ``max_tokens`` words (one word, one token), and its finish reason."""
    words = (
        f"echo {body['messages'][-1]['content']} max={body.get('max_tokens')} "
        f"t={body.get('temperature')} stop={body.get('stop')} seed={body.get('seed')}"
    ).split(" ")
    limit = body.get("max_tokens", len(words))
    return " ".join(words[:limit]), "length" if len(words) > limit else "stop"


class Handler(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(
            {"path": self.path, "body": body, "auth": self.headers["Authorization"]}
        )
        if self.path != "/v1/chat/completions":
            self.send(404, b'{"detail": "Not Found"}')
            return
        model = body["model"]
        if model == "fail":
            self.send(500, json.dumps({"error": {"message": "model\nexploded"}}).encode())
            return
        if model == "garbage":
            self.send(200, b"<html>not json</html>", "text/html")
            return
        if model == "empty":
            self.send(200, b'{"object": "chat.completion", "choices": []}')
            return
        text, finish = reply_text(body)
        if not body.get("stream"):
            data = {
                "object": "chat.completion",
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                    }
                ],
            }
            self.send(200, json.dumps(data).encode())
            return
        # HTTP/1.0: the stream ends when the connection closes, no length needed
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        events = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
        events += [
            {"choices": [{"index": 0, "delta": {"content": w}}]}
            for w in text.split(" ")[:1] + [" " + w for w in text.split(" ")[1:]]
        ]
        events += [
            {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
            {"choices": []},
        ]
        self.wfile.write(b": keep-alive\n\n")
        for event in events:
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        if model == "bad-stream":
            self.wfile.write(b"data: {not json\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.write(b'data: {"choices": [{"delta": {"content": "after done"}}]}\n\n')


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    Handler.requests.clear()


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_generate_with_or_without_v1_in_the_base_url(server: str, suffix: str) -> None:
    with OpenAIChatGenerator(server + suffix, "echo-model") as gen:
        assert isinstance(gen, Generator) and gen.name == "openai:echo-model"
        text = gen.generate(MESSAGES, max_new_tokens=17, stop=["\n"], temperature=0.3, seed=5)
    assert text == "echo Where is Paris? max=17 t=0.3 stop=['\\n'] seed=5"
    request = Handler.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["messages"] == MESSAGES and request["body"]["stream"] is False
    assert request["auth"] is None


def test_defaults_omit_stop_and_seed(server: str) -> None:
    with OpenAIChatGenerator(server, "echo-model") as gen:
        assert gen.generate(MESSAGES) == "echo Where is Paris? max=256 t=0.0 stop=None seed=None"


def test_stream_yields_pieces_until_done(server: str) -> None:
    with OpenAIChatGenerator(server, "echo-model") as gen:
        pieces = list(gen.stream(MESSAGES, max_new_tokens=9, seed=1))
    assert len(pieces) > 3
    assert "".join(pieces) == "echo Where is Paris? max=9 t=0.0 stop=None seed=1"
    assert Handler.requests[-1]["body"]["stream"] is True


@pytest.mark.parametrize("streamed", [False, True])
def test_complete_reports_the_servers_finish_reason(server: str, streamed: bool) -> None:
    pieces: list[str] = []
    on_token = pieces.append if streamed else None
    with OpenAIChatGenerator(server, "echo-model") as gen:
        assert isinstance(gen, Completer)
        cut = gen.complete(MESSAGES, max_new_tokens=3, on_token=on_token)
        whole = complete(gen, MESSAGES, max_new_tokens=8, on_token=on_token)
    assert cut == Completion("echo Where is", "length")
    assert whole == Completion("echo Where is Paris? max=8 t=0.0 stop=None seed=None", "stop")
    assert "".join(pieces) == (cut.text + whole.text if streamed else "")
    assert [r["body"]["stream"] for r in Handler.requests] == [streamed, streamed]


def test_api_key_from_argument_or_environment(server: str, monkeypatch) -> None:
    with OpenAIChatGenerator(server, "echo-model", api_key="sk-arg") as gen:
        gen.generate(MESSAGES)
    assert Handler.requests[-1]["auth"] == "Bearer sk-arg"
    monkeypatch.setenv("MY_KEY", "sk-env")
    with OpenAIChatGenerator(server, "echo-model", api_key_env="MY_KEY") as gen:
        gen.generate(MESSAGES)
        assert "sk-env" not in repr(gen)
    assert Handler.requests[-1]["auth"] == "Bearer sk-env"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_one_clear_line() -> None:
    gen = OpenAIChatGenerator(f"http://127.0.0.1:{closed_port()}", "echo-model", timeout=5)
    for call in (gen.generate, lambda m: list(gen.stream(m))):
        with pytest.raises(RaglineError, match="cannot connect to http://127.0.0.1:.*refused") as e:
            call(MESSAGES)
        assert "\n" not in str(e.value)


def test_http_error_reports_status_and_server_message(server: str) -> None:
    with OpenAIChatGenerator(server, "fail") as gen:
        for call in (gen.generate, lambda m: list(gen.stream(m))):
            with pytest.raises(RaglineError) as e:
                call(MESSAGES)
            assert str(e.value) == f"{server}/v1/chat/completions returned HTTP 500: model exploded"
    with (
        OpenAIChatGenerator(server + "/api", "echo-model") as gen,
        pytest.raises(RaglineError, match="HTTP 404: Not Found"),
    ):
        gen.generate(MESSAGES)


@pytest.mark.parametrize(
    ("model", "message"),
    [("garbage", "malformed response \\(not JSON\\)"), ("empty", "no choices\\[0\\].message")],
)
def test_malformed_responses(server: str, model: str, message: str) -> None:
    with OpenAIChatGenerator(server, model) as gen, pytest.raises(RaglineError, match=message):
        gen.generate(MESSAGES)


def test_malformed_stream_event(server: str) -> None:
    with (
        OpenAIChatGenerator(server, "bad-stream") as gen,
        pytest.raises(RaglineError, match="event is not JSON"),
    ):
        list(gen.stream(MESSAGES))


def test_url_must_be_http() -> None:
    with pytest.raises(RaglineError, match="http:// or https://"):
        OpenAIChatGenerator("localhost:8000", "m")
