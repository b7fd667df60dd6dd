#!/usr/bin/env python3
"""Drive the erlmcp demo server over Streamable HTTP with the official MCP Python SDK
(`mcp`, 2.x line).

Usage:
    python_http_client.py --mode {legacy,auto} --url http://127.0.0.1:PORT/mcp

`--mode` is passed to `mcp.Client(mode=...)`: `legacy` forces the `initialize` handshake;
`auto` (the SDK's default) first probes `server/discover`, which erlmcp answers, so the
client lands on MCP 2026-07-28 and every request is stateless: a sessionless POST with
the per-request `_meta` and the mirrored headers (`Mcp-Method`, `Mcp-Name`,
`MCP-Protocol-Version`), checked by the server.

2026-07-28 run (`auto`): the era is 2026-07-28; tools, structured results, isError,
resources (text, blob, template), prompts, progress on the request's SSE stream,
sampling and elicitation as input-required results that the SDK answers with its
callbacks and retries, and a `subscriptions/listen` stream that delivers a resource
update. Handshake-era run (`legacy`):

What travels where on the wire:
  * answers come back on the request's own SSE stream (priming event first);
  * progress, log messages and sampling / elicitation requests arrive on that stream while
    the tool runs, and the client's answers are POSTed back (202);
  * `notifications/resources/updated` for a subscription is sent while no request is in
    flight, so it arrives on the GET stream the SDK opens after initialization;
  * `test_reconnection` closes its own stream mid-call; the SDK reconnects with
    Last-Event-ID and still gets the result;
  * closing the client sends DELETE.

Every check is recorded; the last line on stdout is a JSON summary
    {"ok": bool, "mode": ..., "sdk_version": ..., "checks": [{"name", "ok", "detail"}...]}
and the exit status is 0 only if every check passed. Each step, and the whole run, is
bounded by anyio timeouts.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import traceback
import warnings
from typing import Any

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

STEP_TIMEOUT = 10.0
TOTAL_TIMEOUT = 50.0
SAMPLING_REPLY = "forty-two, over http"
SAMPLING_MODEL = "python-http-model"
ELICIT_ANSWER = "green, over http"
COUNTER_URI = "demo://counter"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Recorder:
    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []

    def check(self, name: str, condition: bool, message: str, detail: Any = None) -> None:
        entry: dict[str, Any] = {"name": name, "ok": bool(condition)}
        entry["detail"] = detail if condition else message
        self.checks.append(entry)
        if not condition:
            raise AssertionError(f"{name}: {message}")

    def fail(self, name: str, message: str) -> None:
        self.checks.append({"name": name, "ok": False, "detail": message})


class Observed:
    def __init__(self) -> None:
        self.notifications: list[str] = []
        self.counter_updated = anyio.Event()
        self.logs: list[dict[str, Any]] = []
        self.log_arrived = anyio.Event()
        self.transport_errors: list[str] = []
        self.sampling_requests = 0
        self.elicitations = 0


def describe(err: BaseException) -> str:
    while isinstance(err, BaseExceptionGroup) and len(err.exceptions) == 1:
        err = err.exceptions[0]
    if isinstance(err, MCPError):
        return f"MCPError {err.code}: {err.message} (data={err.data!r})"
    return f"{type(err).__name__}: {err}"


def text_of(result: Any) -> str:
    blocks = getattr(result, "content", None) or []
    return "\n".join(b.text for b in blocks if isinstance(b, types.TextContent))


def callbacks(seen: Observed) -> dict[str, Any]:
    async def sampling_callback(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        seen.sampling_requests += 1
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=SAMPLING_REPLY),
            model=SAMPLING_MODEL,
            stop_reason="endTurn",
        )

    async def elicitation_callback(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        seen.elicitations += 1
        return types.ElicitResult(action="accept", content={"answer": ELICIT_ANSWER})

    async def logging_callback(params: types.LoggingMessageNotificationParams) -> None:
        seen.logs.append(params.model_dump(by_alias=True, mode="json", exclude_none=True))
        seen.log_arrived.set()

    async def message_handler(message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            seen.transport_errors.append(repr(message))
            return
        seen.notifications.append(getattr(message, "method", type(message).__name__))
        if isinstance(message, types.ResourceUpdatedNotification) and str(message.params.uri) == COUNTER_URI:
            seen.counter_updated.set()

    return {
        "sampling_callback": sampling_callback,
        "elicitation_callback": elicitation_callback,
        "logging_callback": logging_callback,
        "message_handler": message_handler,
    }


async def run_checks(client: Client, rec: Recorder, seen: Observed, mode: str) -> None:
    async def era() -> None:
        version = client.protocol_version
        wanted = "2026-07-28" if mode == "auto" else "2025-11-25"
        rec.check("era.protocol_version", version == wanted, f"negotiated {version!r}, wanted {wanted}", version)

    async def handshake() -> None:
        info = client.server_info if hasattr(client, "server_info") else None
        caps = client.server_capabilities
        rec.check("handshake.capabilities", caps is not None and caps.tools is not None, f"capabilities {caps!r}")
        rec.check("handshake.server_info", info is None or info.name == "erlmcp-demo", f"server info {info!r}")

    async def tools() -> None:
        listed = await client.list_tools()
        names = {t.name for t in listed.tools}
        wanted = {"echo", "add", "sample", "bump", "test_simple_text", "test_reconnection"}
        rec.check("tools.list", wanted <= names, f"missing {sorted(wanted - names)}", sorted(names))
        echoed = await client.call_tool("echo", {"text": "hello over http"})
        rec.check("tools.echo", text_of(echoed) == "hello over http", f"echo gave {text_of(echoed)!r}")
        added = await client.call_tool("add", {"a": 2, "b": 40})
        rec.check(
            "tools.structured",
            (added.structured_content or {}).get("sum") == 42,
            f"add gave {added.structured_content!r}",
        )
        failed = await client.call_tool("fail", {"message": "as asked"})
        rec.check("tools.is_error", failed.is_error is True, f"fail gave isError={failed.is_error}")

    async def resources() -> None:
        readme = await client.read_resource("demo://readme")
        rec.check("resources.text", "erlmcp demo" in readme.contents[0].text, f"readme {readme!r}")  # type: ignore[union-attr]
        logo = await client.read_resource("demo://logo.png")
        blob = getattr(logo.contents[0], "blob", "")
        import base64

        rec.check("resources.blob", base64.b64decode(blob).startswith(PNG_MAGIC), "logo is not a PNG")
        greeting = await client.read_resource("demo://greeting/Ada")
        rec.check("resources.template", greeting.contents[0].text == "Hello, Ada!", f"{greeting!r}")  # type: ignore[union-attr]

    async def prompts() -> None:
        got = await client.get_prompt("greet", {"name": "Grace"})
        text = got.messages[0].content.text if isinstance(got.messages[0].content, types.TextContent) else ""
        rec.check("prompts.get", "Grace" in text, f"greet gave {text!r}")

    async def progress() -> None:
        updates: list[float] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            updates.append(value)

        result = await client.call_tool("slow_count", {"to": 3, "delay_ms": 20}, progress_callback=on_progress)
        rec.check("progress.result", text_of(result) == "counted to 3", f"{text_of(result)!r}")
        rec.check("progress.notifications", updates == [1, 2, 3], f"progress values {updates!r}", updates)

    async def logging() -> None:
        await client.set_logging_level("debug")
        await client.call_tool("log", {"level": "warning", "message": "logged over http"})
        with anyio.fail_after(STEP_TIMEOUT):
            await seen.log_arrived.wait()
        rec.check("logging.notification", seen.logs[0].get("data") == "logged over http", f"{seen.logs!r}")

    async def sampling() -> None:
        result = await client.call_tool("sample", {"prompt": "six times seven?"})
        text = text_of(result)
        rec.check(
            "sampling.round_trip",
            SAMPLING_REPLY in text and SAMPLING_MODEL in text and seen.sampling_requests == 1,
            f"sample gave {text!r} after {seen.sampling_requests} sampling requests",
            text,
        )

    async def elicitation() -> None:
        result = await client.call_tool("ask", {"question": "favourite colour?"})
        rec.check("elicitation.round_trip", ELICIT_ANSWER in text_of(result), f"ask gave {text_of(result)!r}")

    async def subscription() -> None:
        await client.subscribe_resource(COUNTER_URI)
        bumped = await client.call_tool("bump", {})
        rec.check("subscription.bump", "notified=1" in text_of(bumped), f"bump gave {text_of(bumped)!r}")
        with anyio.fail_after(STEP_TIMEOUT):
            await seen.counter_updated.wait()
        rec.check("subscription.updated_over_sse", True, "", COUNTER_URI)
        await client.unsubscribe_resource(COUNTER_URI)

    async def reconnection() -> None:
        result = await client.call_tool("test_reconnection", {})
        rec.check(
            "sse.resumed_after_server_closed_the_stream",
            "Reconnection test completed successfully" in text_of(result),
            f"test_reconnection gave {text_of(result)!r}",
        )

    async def ping() -> None:
        await client.send_ping()
        rec.check("ping", True, "")

    async def listen() -> None:
        async with client.listen(resource_subscriptions=[COUNTER_URI]) as sub:
            bumped = await client.call_tool("bump", {})
            rec.check("listen.bump", "notified=" in text_of(bumped), f"bump gave {text_of(bumped)!r}")
            with anyio.fail_after(STEP_TIMEOUT):
                async for event in sub:
                    rec.check("listen.resource_updated", COUNTER_URI in repr(event), f"event {event!r}", repr(event))
                    break

    if mode == "auto":
        groups = [era, handshake, tools, resources, prompts, progress, sampling, elicitation, listen]
    else:
        groups = [era, handshake, tools, resources, prompts, progress, logging, sampling, elicitation, subscription, reconnection, ping]
    for group in groups:
        try:
            with anyio.fail_after(STEP_TIMEOUT * 2):
                await group()
        except AssertionError as err:
            print(f"[interop-http] FAILED {err}", file=sys.stderr)
        except BaseException as err:  # noqa: BLE001 - record and go on
            if isinstance(err, anyio.get_cancelled_exc_class()):
                raise
            rec.fail(f"{group.__name__}.error", describe(err))
            print(f"[interop-http] {group.__name__} raised {describe(err)}", file=sys.stderr)
    rec.check("transport.errors", not seen.transport_errors, f"transport errors: {seen.transport_errors!r}")


async def main_async(mode: str, url: str, rec: Recorder) -> dict[str, Any]:
    seen = Observed()
    client = Client(
        url,
        mode=mode,
        read_timeout_seconds=STEP_TIMEOUT,
        client_info=types.Implementation(name="erlmcp-python-http-interop", version="1.0.0"),
        **callbacks(seen),
    )
    with anyio.fail_after(TOTAL_TIMEOUT):
        async with client:
            rec.check("connect", True, "", f"mode={mode}")
            await run_checks(client, rec, seen, mode)
    return {"notifications_seen": sorted(set(seen.notifications))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["legacy", "auto"], required=True)
    parser.add_argument("--url", required=True)
    ns = parser.parse_args()
    sdk_version = importlib.metadata.version("mcp")
    rec = Recorder()
    extra: dict[str, Any] = {}
    try:
        rec.check("sdk_version", sdk_version.split(".")[0] == "2", f"needs mcp 2.x, found {sdk_version}", sdk_version)
        extra = anyio.run(main_async, ns.mode, ns.url, rec)
    except AssertionError as err:
        print(f"[interop-http] FAILED {err}", file=sys.stderr)
    except BaseException as err:  # noqa: BLE001 - report, then exit non-zero
        rec.fail("run.error", describe(err))
        print("[interop-http] run aborted:\n" + "".join(traceback.format_exception(err)), file=sys.stderr)
    ok = bool(rec.checks) and all(c["ok"] for c in rec.checks)
    summary = {
        "ok": ok,
        "mode": ns.mode,
        "sdk_version": sdk_version,
        "passed": sum(1 for c in rec.checks if c["ok"]),
        "failed": sum(1 for c in rec.checks if not c["ok"]),
        "checks": rec.checks,
        **extra,
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
