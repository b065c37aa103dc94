"""A scripted OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1, served by uvicorn in a thread."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

HOST = "127.0.0.1"


class ScriptedOpenAI:
    """Answers each chat completion with the next scripted text; records every request body."""

    def __init__(self, *replies: str, model: str = "gpt-scripted-2026") -> None:
        self.replies = list(replies)
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        number = len(self.requests)
        text = self.replies.pop(0)
        usage = {"prompt_tokens": 20 + number, "completion_tokens": 4, "total_tokens": 24 + number}
        completion_id = f"chatcmpl-{number}"
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": 0,
                    "model": self.model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": usage,
                }
            )

        async def chunks() -> AsyncIterator[str]:
            base = {"id": completion_id, "object": "chat.completion.chunk", "created": 0, "model": self.model}
            for index, word in enumerate(text.split(" ")):
                piece = word if index == 0 else f" {word}"
                delta = {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
                yield f"data: {json.dumps({**base, 'choices': [delta]})}\n\n"
            yield f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n"
            yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on an ephemeral 127.0.0.1 port until the block ends; yields its ``/v1`` base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio turns Nagle off only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:  # readiness, not a sleep
        thread.join(0.01)
        if not thread.is_alive():
            raise RuntimeError("the scripted OpenAI server failed to start")
    try:
        yield f"http://{HOST}:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
