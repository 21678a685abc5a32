"""A generator for any OpenAI-compatible chat API: vLLM, llama.cpp server, Ollama, hosted.

Talks to ``POST {base_url}/v1/chat/completions``, whole (JSON) or streamed (server-sent
events), with ``httpx``; ``complete`` also reports the server's ``finish_reason``, so a
reply cut at ``max_tokens`` is known as such. Every failure — server not running, an HTTP
error, a reply that is not the expected JSON — becomes a one-line
:class:`~ragline.errors.RaglineError`.

>>> gen = OpenAIChatGenerator("http://127.0.0.1:8080", "qwen2.5")
>>> gen.url, gen.name
('http://127.0.0.1:8080/v1/chat/completions', 'openai:qwen2.5')
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ragline.errors import RaglineError
from ragline.generate.base import Completion

if TYPE_CHECKING:
    import httpx

    from ragline.config import GenerateConfig
    from ragline.generate.base import Message

_MAX_MESSAGE = 300  # characters of a server's error text kept in our one-line message


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _server_message(body: bytes) -> str:
    """The error text of a failed response: OpenAI's ``error.message`` or the raw body."""
    try:
        data = json.loads(body)
    except ValueError:
        return _one_line(body.decode("utf-8", "replace")) or "(empty body)"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return _one_line(error if isinstance(error, str) else json.dumps(error))
    return _one_line(json.dumps(data))


class OpenAIChatGenerator:
    """Chat completions from an OpenAI-compatible server.

    ``base_url`` may end in ``/v1`` or not. The API key is ``api_key`` or, when that is
    None, the environment variable ``api_key_env`` (local servers usually need none).
    ``timeout`` bounds each request in seconds (for streams: the wait between pieces).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60,
    ) -> None:
        root = base_url.strip().rstrip("/")
        if not root.startswith(("http://", "https://")):
            raise RaglineError(f"generator URL {base_url!r} must start with http:// or https://")
        if not root.endswith("/v1"):
            root += "/v1"
        self.base_url = root
        self.url = f"{root}/chat/completions"
        self.model = model
        self.name = f"openai:{model}"
        self.api_key_env = api_key_env
        self._api_key = api_key
        self.timeout = timeout
        self._client: httpx.Client | None = None

    @classmethod
    def from_config(cls, config: GenerateConfig) -> OpenAIChatGenerator:
        """The API at URL ``config.generator``, asked for ``config.model``."""
        return cls(config.generator, config.model or "default", api_key_env=config.api_key_env)

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIChatGenerator({self.base_url!r}, {self.model!r})"

    @property
    def client(self) -> httpx.Client:
        """The HTTP client, created on first use and kept for connection reuse."""
        if self._client is None:
            import httpx

            headers = {"Accept": "application/json"}
            key = self._api_key if self._api_key is not None else os.environ.get(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            self._client = httpx.Client(headers=headers, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        """Close the connection pool (a later request opens a new one)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> OpenAIChatGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _payload(
        self,
        messages: Sequence[Message],
        max_new_tokens: int,
        stop: Sequence[str],
        temperature: float,
        seed: int | None,
        stream: bool,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "stream": stream,
        }
        if stop:
            payload["stop"] = list(stop)
        if seed is not None:
            payload["seed"] = seed
        return payload

    def _failure(self, error: Exception) -> RaglineError:
        """A one-line error for a transport failure ``error`` (an httpx exception)."""
        import httpx

        if isinstance(error, httpx.ConnectError):
            reason = str(error) or type(error).__name__
            if "refused" in reason.lower():
                reason = "connection refused (is the server running?)"
            return RaglineError(f"cannot connect to {self.url}: {_one_line(reason)}")
        if isinstance(error, httpx.TimeoutException):
            return RaglineError(f"{self.url}: no response within {self.timeout:g} s")
        return RaglineError(f"{self.url}: {type(error).__name__}: {_one_line(str(error))}")

    def _check_status(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            message = _server_message(response.read())
            raise RaglineError(f"{self.url} returned HTTP {response.status_code}: {message}")

    def _malformed(self, what: str, data: object) -> RaglineError:
        return RaglineError(f"{self.url}: malformed response ({what}): {_one_line(str(data))}")

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """The whole reply to ``messages`` (``choices[0].message.content``)."""
        return self.complete(
            messages,
            max_new_tokens=max_new_tokens,
            stop=stop,
            temperature=temperature,
            seed=seed,
        ).text

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Iterator[str]:
        """The reply to ``messages`` piece by piece, from the server's ``data:`` events."""
        payload = self._payload(messages, max_new_tokens, stop, temperature, seed, stream=True)
        for piece, _ in self._events(payload):
            if piece:
                yield piece

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion:
        """The reply to ``messages`` (streamed to ``on_token`` when given) and why it ended,
        from the API's ``finish_reason``: ``"length"`` as the server says, else ``"stop"``."""
        payload = self._payload(
            messages, max_new_tokens, stop, temperature, seed, stream=on_token is not None
        )
        if on_token is None:
            text, finish = self._whole(payload)
        else:
            pieces, finish = [], None
            for piece, reason in self._events(payload):
                if piece:
                    pieces.append(piece)
                    on_token(piece)
                finish = reason or finish
            text = "".join(pieces)
        return Completion(text, "length" if finish == "length" else "stop")

    def _whole(self, payload: dict[str, Any]) -> tuple[str, str | None]:
        """``choices[0]``'s content and finish reason of an unstreamed request."""
        import httpx

        try:
            response = self.client.post(self.url, json=payload)
        except httpx.HTTPError as e:
            raise self._failure(e) from e
        self._check_status(response)
        try:
            data = response.json()
        except ValueError as e:
            raise self._malformed("not JSON", response.text) from e
        try:
            choice = data["choices"][0]
            content = choice["message"].get("content")
        except (KeyError, IndexError, TypeError, AttributeError) as e:
            raise self._malformed("no choices[0].message", data) from e
        if content is not None and not isinstance(content, str):
            raise self._malformed("content is not text", content)
        return content or "", choice.get("finish_reason")

    def _events(self, payload: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
        """``(text, finish reason)`` of each streamed ``data:`` event, until ``[DONE]``."""
        import httpx

        try:
            with self.client.stream("POST", self.url, json=payload) as response:
                self._check_status(response)
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, ": keep-alive" comments, "event:" lines
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        return
                    yield self._delta(data)
        except httpx.HTTPError as e:
            raise self._failure(e) from e

    def _delta(self, data: str) -> tuple[str, str | None]:
        """The text and finish reason of one streamed event (``choices[0]``'s ``delta.content``
        and ``finish_reason``)."""
        try:
            event = json.loads(data)
        except ValueError as e:
            raise self._malformed("event is not JSON", data) from e
        if isinstance(event, dict) and "error" in event:
            raise RaglineError(
                f"{self.url} reported an error mid-stream: "
                f"{_server_message(json.dumps(event).encode())}"
            )
        try:
            choices = event["choices"]
            if not choices:  # usage-only events carry no choice
                return "", None
            content = choices[0].get("delta", {}).get("content")
            finish = choices[0].get("finish_reason")
        except (KeyError, IndexError, TypeError, AttributeError) as e:
            raise self._malformed("event without choices", data) from e
        if content is not None and not isinstance(content, str):
            raise self._malformed("content is not text", content)
        return content or "", finish
