"""Scripted OpenAI-compatible chat-completions server for tests.

Serves ``POST /v1/chat/completions`` (and ``/chat/completions``) on 127.0.0.1 from a background thread and answers
each request with the next reply of a script supplied by the test. Every request body is recorded.

Reply formats (a "reply"):

* ``"text"`` -> assistant text message, ``finish_reason="stop"``.
* ``{"tool_calls": [{"name": "f", "arguments": {...} | "json", "id": "optional"}], "content": None}`` -> assistant
  message with ``tool_calls`` (ids ``call_<n>`` when absent), ``finish_reason="tool_calls"``.
* ``{"status": 500, "body": {...}, "headers": {...}}`` -> HTTP error with an OpenAI-style ``{"error": {...}}`` body.
  ``body`` is optional; a body without an ``"error"`` key is merged into a default error object.
* A callable ``(request_body: dict) -> reply`` (in-process only).

A text or tool-calls dict may add ``"finish_reason"`` and ``"usage_details"`` (merged into ``usage``, e.g.
``{"prompt_tokens_details": {"cached_tokens": 8}}``).

When the script is exhausted the ``default`` reply (``"TERMINATE"``) is used.

In-process use::

    with ScriptedLLM(["hello", "TERMINATE"]) as llm:
        agent = autogen.ConversableAgent("assistant", llm_config=llm.llm_config())

Script use (prints ``READY http://127.0.0.1:PORT/v1`` once listening, serves until interrupted)::

    python tests/support/scripted_model.py --port 0 --reply hello --reply TERMINATE
    python tests/support/scripted_model.py --script replies.json --default DONE
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

if TYPE_CHECKING:  # typing.Self needs Python 3.11; the project supports 3.10
    from autogen import LLMConfig
    from typing_extensions import Self

__all__ = ["Reply", "ScriptedLLM", "main"]

HOST = "127.0.0.1"

Reply: TypeAlias = str | Mapping[str, Any] | Callable[[dict[str, Any]], Any]
"""A scripted reply: text, a tool-calls dict, an error dict, or a callable returning one of those."""

_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


class ScriptError(ValueError):
    """Raised when a scripted reply is malformed."""


def _validate_reply(reply: Any, *, allow_callable: bool = True) -> None:
    """Raise ``ScriptError`` unless ``reply`` is one of the supported reply formats."""
    if isinstance(reply, str):
        return
    if callable(reply) and not isinstance(reply, Mapping):
        if not allow_callable:
            raise ScriptError(f"callable replies are not allowed here: {reply!r}")
        return
    if not isinstance(reply, Mapping):
        raise ScriptError(f"unsupported reply type {type(reply).__name__}: {reply!r}")
    if "status" in reply:
        status = reply["status"]
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ScriptError(f"error reply status must be an int in 400..599, got {status!r}")
        body = reply.get("body")
        if body is not None and not isinstance(body, Mapping):
            raise ScriptError(f"error reply body must be a dict, got {body!r}")
        return
    if "tool_calls" in reply:
        calls = reply["tool_calls"]
        if not isinstance(calls, list) or not calls:
            raise ScriptError(f"tool_calls must be a non-empty list, got {calls!r}")
        for call in calls:
            if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
                raise ScriptError(f"each tool call needs a string 'name', got {call!r}")
            args = call.get("arguments", {})
            if not isinstance(args, (str, Mapping)):
                raise ScriptError(f"tool call arguments must be a dict or JSON string, got {args!r}")
        return
    if "content" in reply:
        if reply["content"] is not None and not isinstance(reply["content"], str):
            raise ScriptError(f"content must be a string or None, got {reply['content']!r}")
        return
    raise ScriptError(f"dict reply needs 'status', 'tool_calls' or 'content': {reply!r}")


def _error_body(status: int, body: Mapping[str, Any] | None) -> dict[str, Any]:
    """Build an OpenAI-style error body for ``status``."""
    if body is not None and "error" in body:
        return dict(body)
    error: dict[str, Any] = {
        "message": f"scripted error (HTTP {status})",
        "type": _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error"),
        "param": None,
        "code": None,
    }
    error.update(body or {})
    return {"error": error}


class ScriptedLLM:
    """A scripted OpenAI-compatible chat-completions server running in a background thread."""

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        default: Reply = "TERMINATE",
        port: int = 0,
        completion_tokens: int = 5,
        prompt_tokens_per_message: int = 10,
        startup_timeout: float = 10.0,
    ) -> None:
        """Prepare (but do not start) a server answering with ``replies`` and then ``default``."""
        _validate_reply(default)
        self.default: Reply = default
        self.completion_tokens = completion_tokens
        self.prompt_tokens_per_message = prompt_tokens_per_message
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self._lock = threading.Lock()
        self._script: collections.deque[Reply] = collections.deque()
        self._requests: list[dict[str, Any]] = []
        self._request_headers: list[dict[str, str]] = []
        self._completion_count = 0
        self._tool_call_count = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self.push(*replies)
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/chat/completions", self._chat_completions, methods=["POST"]),
            ]
        )

    # ------------------------------------------------------------------ public API

    @property
    def port(self) -> int:
        """The real TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("ScriptedLLM is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """OpenAI ``base_url`` for this server, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Snapshot of the JSON bodies of all chat-completion requests received so far."""
        with self._lock:
            return list(self._requests)

    @property
    def request_headers(self) -> list[dict[str, str]]:
        """Snapshot of the (lower-cased) headers of each recorded request, parallel to ``requests``."""
        with self._lock:
            return [dict(h) for h in self._request_headers]

    @property
    def pending(self) -> int:
        """Number of scripted replies not yet consumed."""
        with self._lock:
            return len(self._script)

    def push(self, *replies: Reply) -> None:
        """Append replies to the script."""
        for reply in replies:
            _validate_reply(reply)
        with self._lock:
            self._script.extend(replies)

    def llm_config(self, model: str = "gpt-4o-mini", **extra: Any) -> LLMConfig:
        """Return an ``autogen.LLMConfig`` pointing at this server; ``extra`` keys go into the config entry."""
        import autogen

        entry: dict[str, Any] = {"api_type": "openai", "model": model, "api_key": "test", "base_url": self.base_url}
        entry.update(extra)
        return autogen.LLMConfig(entry, cache_seed=None)

    def start(self) -> Self:
        """Start serving in a background thread and wait until the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("ScriptedLLM already started")
        config = uvicorn.Config(
            self.app,
            host=HOST,
            port=self._requested_port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="scripted-llm", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._thread = None
                raise RuntimeError(f"scripted LLM server failed to start on {HOST}:{self._requested_port}")
            if time.monotonic() > deadline:
                self._server.should_exit = True
                raise TimeoutError(f"scripted LLM server did not start within {self.startup_timeout}s")
            self._thread.join(0.01)  # doubles as a short wait that returns early if the thread dies
        self._port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit and join its thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True  # type: ignore[union-attr]
                self._thread.join(timeout)
        self._thread = None
        self._server = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ request handling

    def _next_reply(self) -> tuple[Reply, int]:
        """Pop the next reply (or the default); returns (reply, completion number)."""
        with self._lock:
            reply = self._script.popleft() if self._script else self.default
            self._completion_count += 1
            return reply, self._completion_count

    def _tool_call_id(self) -> str:
        with self._lock:
            self._tool_call_count += 1
            return f"call_{self._tool_call_count}"

    async def _chat_completions(self, request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse(_error_body(400, {"message": "request body is not valid JSON"}), status_code=400)
        if not isinstance(body, dict):
            return JSONResponse(_error_body(400, {"message": "request body must be a JSON object"}), status_code=400)
        with self._lock:
            self._requests.append(body)
            self._request_headers.append({k.lower(): v for k, v in request.headers.items()})
        if body.get("stream"):
            message = "scripted_llm does not support streaming (stream: true); set stream=False"
            return JSONResponse(_error_body(400, {"message": message, "param": "stream"}), status_code=400)

        reply, number = self._next_reply()
        try:
            if callable(reply) and not isinstance(reply, Mapping):
                reply = reply(body)
                if callable(reply) and not isinstance(reply, (str, Mapping)):
                    raise ScriptError("a callable reply must not return another callable")
            _validate_reply(reply)
        except Exception as exc:  # surface script bugs (e.g. a raising callable) to the client as a 500
            message = f"scripted_llm: bad scripted reply #{number}: {exc!r}"
            return JSONResponse(_error_body(500, {"message": message, "type": "scripted_llm_error"}), status_code=500)
        return self._render(reply, body, number)

    def _render(self, reply: Reply, body: dict[str, Any], number: int) -> JSONResponse:
        """Turn a validated, non-callable reply into a JSON response."""
        if isinstance(reply, str):
            reply = {"content": reply}
        assert isinstance(reply, Mapping)
        if "status" in reply:
            status = int(reply["status"])
            headers = {str(k): str(v) for k, v in (reply.get("headers") or {}).items()}
            return JSONResponse(_error_body(status, reply.get("body")), status_code=status, headers=headers)

        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        finish_reason = "stop"
        if "tool_calls" in reply:
            calls = []
            for call in reply["tool_calls"]:
                args = call.get("arguments", {})
                calls.append(
                    {
                        "id": call.get("id") or self._tool_call_id(),
                        "type": "function",
                        "function": {
                            "name": call["name"],
                            "arguments": args if isinstance(args, str) else json.dumps(args),
                        },
                    }
                )
            message["tool_calls"] = calls
            finish_reason = "tool_calls"
        finish_reason = reply.get("finish_reason", finish_reason)

        messages = body.get("messages")
        prompt_tokens = self.prompt_tokens_per_message * (len(messages) if isinstance(messages, list) else 0)
        payload = {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "unknown"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": prompt_tokens + self.completion_tokens,
                **reply.get("usage_details", {}),  # e.g. {"prompt_tokens_details": {"cached_tokens": 8}}
            },
        }
        return JSONResponse(payload)


# ---------------------------------------------------------------------- script mode


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible chat-completions server (127.0.0.1).")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = ephemeral; the real one is printed)")
    parser.add_argument(
        "--reply", action="extend", nargs="+", default=[], metavar="TEXT", help="text replies, in order (repeatable)"
    )
    parser.add_argument("--script", metavar="FILE", help="JSON file with a list of replies (before any --reply)")
    parser.add_argument("--default", default="TERMINATE", metavar="TEXT", help="reply once the script is exhausted")
    parser.add_argument("--completion-tokens", type=int, default=5, help="usage.completion_tokens per response")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT/SIGTERM; print ``READY <base_url>`` on stdout once listening."""
    args = _parse_args(argv)
    replies: list[Reply] = []
    if args.script:
        with open(args.script, encoding="utf-8") as fh:
            loaded = json.load(fh)
        if not isinstance(loaded, list):
            print(f"error: {args.script} must contain a JSON list of replies", file=sys.stderr)
            return 2
        try:
            for item in loaded:
                _validate_reply(item, allow_callable=False)
        except ScriptError as exc:
            print(f"error: {args.script}: {exc}", file=sys.stderr)
            return 2
        replies.extend(loaded)
    replies.extend(args.reply)

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    llm = ScriptedLLM(replies, default=args.default, port=args.port, completion_tokens=args.completion_tokens)
    try:
        llm.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"READY {llm.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        llm.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
