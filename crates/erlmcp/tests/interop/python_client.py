#!/usr/bin/env python3
"""Drive the erlmcp demo server with the official MCP Python SDK (`mcp`, 2.x line).

Usage:
    python_client.py --mode {legacy,auto} [--wire-trace] -- <server command...>

The SDK launches the server command as a subprocess and talks newline-delimited
JSON-RPC over its stdin/stdout (the server's stderr passes through to ours).

`--mode` is passed straight to `mcp.Client(mode=...)`:
  * `legacy` forces the `initialize` handshake;
  * `auto` (the SDK default) first probes `server/discover`; erlmcp serves the
    stateless era (2026-07-28) beside the handshake one, so the SDK lands on 2026-07-28
    and every later request carries its own `_meta` (a 2025-only server would answer the
    probe with an error and the SDK would fall back to `initialize`).

The check names are the same in both modes; where the eras differ the checks do:
2026-07-28 has no `resources/subscribe` (the subscription group uses
`subscriptions/listen`), no `logging/setLevel` (log messages are asked for per request
with `log_level=`), no `ping`, and "resource not found" is -32602 instead of -32002.
Sampling, elicitation and roots reach the same callbacks in both eras: as server →
client requests in the handshake era, as input-required results in 2026-07-28.

`--wire-trace` relays the server through wire_tap.py, which logs every JSON-RPC line in
both directions to stderr (wire evidence when something fails).

Every check is recorded; the run continues after a failed check group so one
report shows every problem. The last line on stdout is a JSON summary:
    {"ok": bool, "mode": ..., "sdk_version": ..., "checks": [{"name", "ok", "detail"}...]}
The exit status is 0 only if every check passed. Each step, and the whole run,
is bounded by anyio timeouts so a hung server cannot hang the test.
"""

from __future__ import annotations

import argparse
import base64
import importlib.metadata
import json
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.session import ClientRequestContext, ClientSession, IncomingMessage
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

# resources/subscribe, logging/setLevel and roots are deprecated as of 2026-07-28 but
# are exactly what a 2025-11-25 server speaks; the warnings are noise here.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

STEP_TIMEOUT = 10.0
"""Upper bound for any single step (request, or wait for a notification)."""

TOTAL_TIMEOUT = 45.0
"""Upper bound for the whole run, below the Rust test's 60 s kill."""

MODERN_VERSION = "2026-07-28"
"""The stateless-era version the SDK's auto mode must land on."""

SAMPLING_REPLY = "forty-two, said the python sampler"
SAMPLING_MODEL = "python-interop-model"
ELICIT_ANSWER = "blue, answered the python elicitor"
ROOT_URI = "file:///tmp/erlmcp-python-interop-root"

EXPECTED_TOOLS = {
    "echo",
    "add",
    "slow_count",
    "fail",
    "panic",
    "log",
    "sample",
    "ask",
    "list_roots",
    "bump",
}
EXPECTED_RESOURCES = {"demo://readme", "demo://logo.png", "demo://counter"}
COUNTER_URI = "demo://counter"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SdkWarnings(logging.Handler):
    """Collects WARNING+ records the SDK logs. The SDK drops notifications and results it
    cannot validate with only a log line, so a silent incompatibility shows up here."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


SDK_WARNINGS = SdkWarnings()
logging.getLogger().addHandler(SDK_WARNINGS)

DISCOVER_PROBES: list[dict[str, Any]] = []
"""Every `server/discover` probe the SDK sent and what came back (auto mode)."""

_original_send_discover = ClientSession.send_discover


async def _recording_send_discover(self: ClientSession, version: str) -> dict[str, Any]:
    # Observation only: the probe and the SDK's reaction to its outcome are unchanged.
    try:
        raw = await _original_send_discover(self, version)
    except MCPError as err:
        DISCOVER_PROBES.append({"version": version, "error": {"code": err.code, "message": err.message}})
        raise
    DISCOVER_PROBES.append({"version": version, "result": raw})
    return raw


ClientSession.send_discover = _recording_send_discover  # type: ignore[method-assign]


class Recorder:
    """Collects check outcomes for the JSON summary."""

    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []

    def check(self, name: str, condition: bool, message: str, detail: Any = None) -> None:
        """Record one check; raise AssertionError (with `message`) if it failed."""
        entry: dict[str, Any] = {"name": name, "ok": bool(condition)}
        if condition:
            if detail is not None:
                entry["detail"] = detail
            self.checks.append(entry)
            return
        entry["detail"] = message
        self.checks.append(entry)
        raise AssertionError(f"{name}: {message}")

    def fail(self, name: str, message: str) -> None:
        self.checks.append({"name": name, "ok": False, "detail": message})


class Observed:
    """What the client's callbacks saw."""

    def __init__(self) -> None:
        self.notification_methods: list[str] = []
        self.resource_updates: list[str] = []
        self.counter_updated = anyio.Event()
        self.log_messages: list[dict[str, Any]] = []
        self.log_arrived = anyio.Event()
        self.transport_errors: list[str] = []
        self.sampling_requests: list[dict[str, Any]] = []
        self.elicitation_requests: list[dict[str, Any]] = []
        self.roots_requests = 0


def describe(err: BaseException) -> str:
    """`Type: message` of the innermost exception, looking through anyio's exception groups."""
    while isinstance(err, BaseExceptionGroup) and len(err.exceptions) == 1:
        err = err.exceptions[0]
    if isinstance(err, MCPError):
        return f"MCPError {err.code}: {err.message} (data={err.data!r})"
    return f"{type(err).__name__}: {err}"


def text_of(result: types.CallToolResult | types.GetPromptResult | Any) -> str:
    """All text blocks of a tool result, joined by newlines."""
    blocks = getattr(result, "content", None) or []
    return "\n".join(b.text for b in blocks if isinstance(b, types.TextContent))


def build_callbacks(seen: Observed) -> dict[str, Any]:
    async def sampling_callback(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        seen.sampling_requests.append(params.model_dump(by_alias=True, mode="json", exclude_none=True))
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=SAMPLING_REPLY),
            model=SAMPLING_MODEL,
            stop_reason="endTurn",
        )

    async def elicitation_callback(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        seen.elicitation_requests.append(params.model_dump(by_alias=True, mode="json", exclude_none=True))
        return types.ElicitResult(action="accept", content={"answer": ELICIT_ANSWER})

    async def list_roots_callback(context: ClientRequestContext) -> types.ListRootsResult:
        seen.roots_requests += 1
        return types.ListRootsResult(roots=[types.Root(uri=ROOT_URI, name="interop")])  # type: ignore[arg-type]

    async def logging_callback(params: types.LoggingMessageNotificationParams) -> None:
        seen.log_messages.append(params.model_dump(by_alias=True, mode="json", exclude_none=True))
        seen.log_arrived.set()

    async def message_handler(message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            seen.transport_errors.append(repr(message))
            return
        method = getattr(message, "method", type(message).__name__)
        seen.notification_methods.append(method)
        if isinstance(message, types.ResourceUpdatedNotification):
            uri = str(message.params.uri)
            seen.resource_updates.append(uri)
            if uri == COUNTER_URI:
                seen.counter_updated.set()

    return {
        "sampling_callback": sampling_callback,
        "elicitation_callback": elicitation_callback,
        "list_roots_callback": list_roots_callback,
        "logging_callback": logging_callback,
        "message_handler": message_handler,
    }


async def expect_mcp_error(call: Callable[[], Awaitable[Any]]) -> MCPError | None:
    """Run `call`; return the MCPError it raised, or None if it succeeded."""
    try:
        await call()
    except MCPError as err:
        return err
    return None


async def run_checks(client: Client, rec: Recorder, seen: Observed, mode: str) -> None:
    """The check groups, in order. A failed group is recorded and the next one runs."""

    async def handshake() -> None:
        session = client.session
        expected_version = MODERN_VERSION if mode == "auto" else "2025-11-25"
        rec.check(
            "handshake.protocol_version",
            client.protocol_version == expected_version,
            f"negotiated {client.protocol_version!r}, expected {expected_version!r}",
            client.protocol_version,
        )
        info = client.server_info
        rec.check(
            "handshake.server_info",
            info is not None and info.name == "erlmcp-demo",
            f"serverInfo was {info!r}, expected name 'erlmcp-demo'",
            None if info is None else {"name": info.name, "version": info.version},
        )
        if mode == "legacy":
            rec.check(
                "handshake.via_initialize",
                session.initialize_result is not None and session.discover_result is None,
                f"expected the initialize handshake; initialize_result="
                f"{session.initialize_result!r} discover_result={session.discover_result!r}",
                "initialize",
            )
        else:
            # erlmcp answers the probe: no fallback to initialize.
            discovered = session.discover_result
            rec.check(
                "handshake.via_discover",
                discovered is not None
                and session.initialize_result is None
                and MODERN_VERSION in discovered.supported_versions,
                f"expected server/discover to be adopted; initialize_result="
                f"{session.initialize_result!r} discover_result={discovered!r}",
                None if discovered is None else discovered.supported_versions,
            )
        if mode == "legacy":
            rec.check(
                "handshake.no_discover_probe",
                DISCOVER_PROBES == [],
                f"legacy mode must not probe server/discover, but it did: {DISCOVER_PROBES!r}",
            )
        else:
            results = [p.get("result", {}).get("resultType") for p in DISCOVER_PROBES]
            rec.check(
                "handshake.discover_probe_answered",
                results == ["complete"],
                f"auto mode should send one server/discover that erlmcp answers; "
                f"probes were {DISCOVER_PROBES!r}",
                DISCOVER_PROBES,
            )
        caps = client.server_capabilities
        rec.check(
            "handshake.capabilities",
            caps.tools is not None
            and caps.resources is not None
            and bool(caps.resources.subscribe)
            and caps.prompts is not None
            and caps.completions is not None
            and caps.logging is not None,
            f"server capabilities lack tools/resources.subscribe/prompts/completions/logging: {caps!r}",
            caps.model_dump(by_alias=True, mode="json", exclude_none=True),
        )
        rec.check(
            "handshake.instructions",
            bool(client.instructions) and "erlmcp demo" in (client.instructions or ""),
            f"instructions were {client.instructions!r}",
        )

    async def tools() -> None:
        listed = await client.list_tools()
        names = {t.name for t in listed.tools}
        rec.check(
            "tools.list",
            EXPECTED_TOOLS <= names,
            f"tools/list is missing {sorted(EXPECTED_TOOLS - names)}; got {sorted(names)}",
            sorted(names),
        )
        add_tool = next((t for t in listed.tools if t.name == "add"), None)
        rec.check(
            "tools.add_output_schema",
            add_tool is not None and add_tool.output_schema is not None and "sum" in json.dumps(add_tool.output_schema),
            f"tool 'add' should declare an outputSchema with 'sum': {add_tool!r}",
        )

        echoed = await client.call_tool("echo", {"text": "hello from python"})
        rec.check(
            "tools.echo",
            not echoed.is_error and text_of(echoed) == "hello from python",
            f"echo returned isError={echoed.is_error} text={text_of(echoed)!r}",
            text_of(echoed),
        )

        added = await client.call_tool("add", {"a": 2, "b": 40.5})
        structured = added.structured_content
        rec.check(
            "tools.add_structured",
            not added.is_error and isinstance(structured, dict) and structured.get("sum") == 42.5,
            f"add(2, 40.5) returned isError={added.is_error} structuredContent={structured!r}, expected sum 42.5",
            structured,
        )

        failed = await client.call_tool("fail", {"message": "python asked for this"})
        rec.check(
            "tools.fail_is_error",
            failed.is_error is True and "python asked for this" in text_of(failed),
            f"fail returned isError={failed.is_error} text={text_of(failed)!r}; expected isError true",
            text_of(failed),
        )

    async def panic() -> None:
        err = await expect_mcp_error(lambda: client.call_tool("panic", {}))
        rec.check(
            "tools.panic_is_mcp_error",
            err is not None,
            "calling 'panic' succeeded; expected a JSON-RPC error for that call",
        )
        assert err is not None
        rec.check(
            "tools.panic_error_code",
            err.code == types.INTERNAL_ERROR,
            f"panic error code was {err.code} ({err.message!r}); expected -32603",
            {"code": err.code, "message": err.message},
        )
        after = await client.call_tool("echo", {"text": "still alive"})
        rec.check(
            "tools.session_survives_panic",
            not after.is_error and text_of(after) == "still alive",
            f"echo after panic returned isError={after.is_error} text={text_of(after)!r}",
        )

    async def resources() -> None:
        listed = await client.list_resources()
        uris = {str(r.uri) for r in listed.resources}
        rec.check(
            "resources.list",
            EXPECTED_RESOURCES <= uris,
            f"resources/list is missing {sorted(EXPECTED_RESOURCES - uris)}; got {sorted(uris)}",
            sorted(uris),
        )

        readme = await client.read_resource("demo://readme")
        texts = [c.text for c in readme.contents if isinstance(c, types.TextResourceContents)]
        rec.check(
            "resources.read_readme",
            len(texts) == 1 and "# erlmcp demo" in texts[0] and str(readme.contents[0].uri) == "demo://readme",
            f"demo://readme contents were {readme.contents!r}",
            readme.contents[0].mime_type if readme.contents else None,
        )

        logo = await client.read_resource("demo://logo.png")
        blobs = [c.blob for c in logo.contents if isinstance(c, types.BlobResourceContents)]
        rec.check(
            "resources.read_blob",
            len(blobs) == 1 and base64.b64decode(blobs[0]).startswith(PNG_MAGIC),
            f"demo://logo.png should be one base64 PNG blob: {logo.contents!r}",
        )

        greeting = await client.read_resource("demo://greeting/Ada")
        texts = [c.text for c in greeting.contents if isinstance(c, types.TextResourceContents)]
        rec.check(
            "resources.read_template",
            texts == ["Hello, Ada!"],
            f"demo://greeting/Ada returned {greeting.contents!r}, expected text 'Hello, Ada!'",
            texts,
        )

        templates = await client.list_resource_templates()
        uri_templates = [t.uri_template for t in templates.resource_templates]
        rec.check(
            "resources.templates_list",
            "demo://greeting/{name}" in uri_templates,
            f"resources/templates/list lacks demo://greeting/{{name}}: {uri_templates!r}",
            uri_templates,
        )

    async def prompts() -> None:
        listed = await client.list_prompts()
        names = {p.name for p in listed.prompts}
        rec.check(
            "prompts.list",
            {"greet", "review_code"} <= names,
            f"prompts/list should have greet and review_code, got {sorted(names)}",
            sorted(names),
        )
        greet = next(p for p in listed.prompts if p.name == "greet")
        args = {a.name: a.required for a in (greet.arguments or [])}
        rec.check(
            "prompts.greet_arguments",
            args.get("name") is True,
            f"prompt greet should have required argument 'name': {greet.arguments!r}",
        )

        got = await client.get_prompt("greet", {"name": "Ada"})
        texts = [
            m.content.text for m in got.messages if isinstance(m.content, types.TextContent) and m.role == "user"
        ]
        rec.check(
            "prompts.get_greet",
            texts == ["Please greet Ada warmly."],
            f"prompts/get greet(name=Ada) returned {got.messages!r}",
            texts,
        )

        review = await client.get_prompt("review_code", {"code": "fn main() {}", "language": "rust"})
        kinds = [type(m.content).__name__ for m in review.messages]
        embedded = [m.content for m in review.messages if isinstance(m.content, types.EmbeddedResource)]
        rec.check(
            "prompts.get_embedded_resource",
            len(review.messages) == 2
            and len(embedded) == 1
            and str(embedded[0].resource.uri) == "demo://readme"
            and "rust" in text_of_message(review.messages[0]),
            f"prompts/get review_code returned {review.messages!r}",
            kinds,
        )

    async def completion() -> None:
        prompt_ref = types.PromptReference(type="ref/prompt", name="greet")
        done = await client.complete(prompt_ref, {"name": "name", "value": "A"})
        values = done.completion.values
        rec.check(
            "completion.prompt_argument",
            values == ["Ada", "Alan"],
            f"completion/complete for greet.name='A' returned {values!r}, expected ['Ada', 'Alan']",
            values,
        )
        template_ref = types.ResourceTemplateReference(type="ref/resource", uri="demo://greeting/{name}")
        done = await client.complete(template_ref, {"name": "name", "value": "g"})
        rec.check(
            "completion.template_argument",
            done.completion.values == ["Grace"],
            f"completion/complete for greeting.name='g' returned {done.completion.values!r}, expected ['Grace']",
            done.completion.values,
        )

    async def subscription_listen() -> None:
        # 2026-07-28: resource updates come on a subscriptions/listen stream.
        before = await client.read_resource(COUNTER_URI, cache_mode="bypass")
        before_value = int(before.contents[0].text)  # type: ignore[union-attr]
        async with client.listen(resource_subscriptions=[COUNTER_URI]) as sub:
            honored = list(sub.honored.resource_subscriptions or []) if sub.honored else []
            rec.check(
                "subscription.subscribe",
                honored == [COUNTER_URI],
                f"subscriptions/listen should honour {COUNTER_URI}, acknowledged {sub.honored!r}",
                honored,
            )
            bumped = await client.call_tool("bump", {})
            rec.check(
                "subscription.bump",
                not bumped.is_error and "notified=1" in text_of(bumped),
                f"bump should report one notified listener: {text_of(bumped)!r}",
                text_of(bumped),
            )
            event = None
            try:
                with anyio.fail_after(STEP_TIMEOUT):
                    event = await sub.__anext__()
            except TimeoutError:
                pass
            rec.check(
                "subscription.updated_notification",
                event is not None and getattr(event, "uri", None) == COUNTER_URI,
                f"expected a ResourceUpdated({COUNTER_URI}) event within {STEP_TIMEOUT}s, got {event!r}",
                None if event is None else repr(event),
            )
        after = await client.read_resource(COUNTER_URI, cache_mode="bypass")
        after_value = int(after.contents[0].text)  # type: ignore[union-attr]
        rec.check(
            "subscription.counter_incremented",
            after_value == before_value + 1,
            f"counter went from {before_value} to {after_value}, expected +1",
            [before_value, after_value],
        )
        # Leaving the context cancels the listen request; the server drops the listener.
        bumped = await client.call_tool("bump", {})
        rec.check(
            "subscription.unsubscribe",
            "notified=0" in text_of(bumped),
            f"after the listen stream closed, bump should notify nobody: {text_of(bumped)!r}",
        )

    async def subscription() -> None:
        if mode == "auto":
            await subscription_listen()
            return
        before = await client.read_resource(COUNTER_URI, cache_mode="bypass")
        before_value = int(before.contents[0].text)  # type: ignore[union-attr]
        await client.subscribe_resource(COUNTER_URI)
        rec.check("subscription.subscribe", True, "", COUNTER_URI)
        bumped = await client.call_tool("bump", {})
        rec.check(
            "subscription.bump",
            not bumped.is_error and "notified=1" in text_of(bumped),
            f"bump should report one notified subscriber: {text_of(bumped)!r}",
            text_of(bumped),
        )
        try:
            with anyio.fail_after(STEP_TIMEOUT):
                await seen.counter_updated.wait()
        except TimeoutError:
            rec.check(
                "subscription.updated_notification",
                False,
                f"no notifications/resources/updated for {COUNTER_URI} within {STEP_TIMEOUT}s "
                f"(notifications seen: {seen.notification_methods!r})",
            )
        rec.check(
            "subscription.updated_notification",
            True,
            "",
            seen.resource_updates,
        )
        after = await client.read_resource(COUNTER_URI, cache_mode="bypass")
        after_value = int(after.contents[0].text)  # type: ignore[union-attr]
        rec.check(
            "subscription.counter_incremented",
            after_value == before_value + 1,
            f"counter went from {before_value} to {after_value}, expected +1",
            [before_value, after_value],
        )
        await client.unsubscribe_resource(COUNTER_URI)
        rec.check("subscription.unsubscribe", True, "")

    async def progress() -> None:
        updates: list[tuple[float, float | None, str | None]] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            updates.append((value, total, message))

        result = await client.call_tool("slow_count", {"to": 4, "delay_ms": 20}, progress_callback=on_progress)
        rec.check(
            "progress.result",
            not result.is_error and text_of(result) == "counted to 4",
            f"slow_count returned isError={result.is_error} text={text_of(result)!r}",
        )
        values = [u[0] for u in updates]
        rec.check(
            "progress.notifications",
            values == [1, 2, 3, 4] and all(u[1] == 4 for u in updates) and updates[-1][2] == "step 4 of 4",
            f"expected progress 1..4 of total 4 before the result, got {updates!r}",
            values,
        )

    async def logging() -> None:
        if mode == "legacy":
            # 2026-07-28 has no logging/setLevel: the client was built with log_level=.
            await client.set_logging_level("debug")
        logged = await client.call_tool("log", {"level": "warning", "message": "python hears you"})
        rec.check("logging.tool", not logged.is_error, f"log tool failed: {text_of(logged)!r}")
        try:
            with anyio.fail_after(STEP_TIMEOUT):
                await seen.log_arrived.wait()
        except TimeoutError:
            rec.check("logging.notification", False, f"no notifications/message within {STEP_TIMEOUT}s")
        msg = seen.log_messages[0]
        rec.check(
            "logging.notification",
            msg.get("level") == "warning" and msg.get("data") == "python hears you" and msg.get("logger") == "demo",
            f"notifications/message params were {msg!r}",
            msg,
        )

    async def sampling() -> None:
        result = await client.call_tool("sample", {"prompt": "what is six times seven?"})
        text = text_of(result)
        rec.check(
            "sampling.round_trip",
            not result.is_error and SAMPLING_REPLY in text and SAMPLING_MODEL in text,
            f"sample returned isError={result.is_error} text={text!r}; expected the callback's reply",
            text,
        )
        sent = seen.sampling_requests[-1] if seen.sampling_requests else {}
        first = (sent.get("messages") or [{}])[0]
        rec.check(
            "sampling.request_params",
            sent.get("maxTokens") == 256 and "six times seven" in json.dumps(first),
            f"sampling/createMessage params were {sent!r}",
        )

    async def elicitation() -> None:
        result = await client.call_tool("ask", {"question": "favourite colour?"})
        text = text_of(result)
        rec.check(
            "elicitation.round_trip",
            not result.is_error and '"accept"' in text and ELICIT_ANSWER in text,
            f"ask returned isError={result.is_error} text={text!r}; expected the callback's answer",
            text,
        )
        sent = seen.elicitation_requests[-1] if seen.elicitation_requests else {}
        rec.check(
            "elicitation.request_params",
            sent.get("message") == "favourite colour?" and "answer" in json.dumps(sent.get("requestedSchema")),
            f"elicitation/create params were {sent!r}",
        )

    async def roots() -> None:
        result = await client.call_tool("list_roots", {})
        text = text_of(result)
        rec.check(
            "roots.round_trip",
            not result.is_error and text.strip() == ROOT_URI and seen.roots_requests >= 1,
            f"list_roots returned isError={result.is_error} text={text!r}; expected {ROOT_URI}",
            text,
        )

    async def errors() -> None:
        # Unknown tool and invalid prompt arguments are -32602 protocol errors; an unknown
        # resource is -32002 in 2025-11-25 and -32602 in 2026-07-28.
        not_found = types.INVALID_PARAMS if mode == "auto" else -32002
        err = await expect_mcp_error(lambda: client.call_tool("no_such_tool", {}))
        rec.check(
            "errors.unknown_tool",
            err is not None and err.code == types.INVALID_PARAMS,
            f"tools/call of an unknown tool should fail with -32602, got {err!r}",
            None if err is None else err.code,
        )
        err = await expect_mcp_error(lambda: client.read_resource("demo://no-such-resource", cache_mode="bypass"))
        rec.check(
            "errors.unknown_resource",
            err is not None and err.code == not_found,
            f"resources/read of an unknown URI should fail with {not_found}, got {err!r}",
            None if err is None else err.code,
        )
        err = await expect_mcp_error(lambda: client.get_prompt("greet", {}))
        rec.check(
            "errors.missing_prompt_argument",
            err is not None and err.code == types.INVALID_PARAMS,
            f"prompts/get greet without its required 'name' should fail with -32602, got {err!r}",
            None if err is None else err.code,
        )

    async def cancellation() -> None:
        # The SDK abandons a request whose read timeout elapses and sends
        # notifications/cancelled for it; the session must stay usable afterwards.
        updates: list[float] = []

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            updates.append(value)

        err = await expect_mcp_error(
            lambda: client.call_tool(
                "slow_count",
                {"to": 100, "delay_ms": 100},
                read_timeout_seconds=0.5,
                progress_callback=on_progress,
            )
        )
        rec.check(
            "cancellation.timeout",
            err is not None and err.code == types.REQUEST_TIMEOUT,
            f"slow_count(100 x 100 ms) with a 0.5 s read timeout should time out (-32001), got {err!r}",
            {"progress_before_cancel": len(updates)},
        )
        await anyio.sleep(0.3)
        after = await client.call_tool("echo", {"text": "after cancel"})
        rec.check(
            "cancellation.session_usable",
            not after.is_error and text_of(after) == "after cancel",
            f"echo after a cancelled call returned isError={after.is_error} text={text_of(after)!r}",
        )

    async def ping() -> None:
        if mode == "legacy":
            await client.send_ping()
            rec.check("ping", True, "")

    groups: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("handshake", handshake),
        ("ping", ping),
        ("tools", tools),
        ("panic", panic),
        ("resources", resources),
        ("prompts", prompts),
        ("completion", completion),
        ("subscription", subscription),
        ("progress", progress),
        ("logging", logging),
        ("sampling", sampling),
        ("elicitation", elicitation),
        ("roots", roots),
        ("errors", errors),
        ("cancellation", cancellation),
    ]
    for name, group in groups:
        try:
            with anyio.fail_after(STEP_TIMEOUT * 2):
                await group()
        except AssertionError as err:
            print(f"[interop] FAILED {err}", file=sys.stderr)
        except BaseException as err:  # noqa: BLE001 - any other failure is recorded, then the run goes on
            if isinstance(err, anyio.get_cancelled_exc_class()):
                raise
            detail = "".join(traceback.format_exception(err)).strip()
            rec.fail(f"{name}.error", describe(err))
            print(f"[interop] FAILED group {name}:\n{detail}", file=sys.stderr)

    rec.check(
        "no_sdk_warnings",
        not SDK_WARNINGS.records,
        f"the SDK logged warnings (dropped or invalid messages?): {SDK_WARNINGS.records!r}",
    )
    rec.check(
        "no_transport_errors",
        not seen.transport_errors,
        f"transport-level errors reached the message handler: {seen.transport_errors!r}",
    )


def text_of_message(message: types.PromptMessage) -> str:
    return message.content.text if isinstance(message.content, types.TextContent) else ""


async def main_async(mode: str, command: list[str], rec: Recorder, wire_trace: bool) -> dict[str, Any]:
    seen = Observed()
    if wire_trace:
        # Relay through wire_tap.py, which copies every line in both directions to stderr.
        tap = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wire_tap.py")
        command = [sys.executable, tap, "--", *command]
    params = StdioServerParameters(command=command[0], args=command[1:])
    client = Client(
        params,
        mode=mode,
        read_timeout_seconds=STEP_TIMEOUT,
        client_info=types.Implementation(name="erlmcp-python-interop", version="1.0.0"),
        # Only 2026-07-28 reads it: the per-request opt-in to log messages.
        log_level="debug",
        **build_callbacks(seen),
    )
    # One scope bounds connect, checks and shutdown: the client's task groups must be
    # entered and exited inside the same cancel scope. The connect itself is bounded by
    # read_timeout_seconds (initialize) and the SDK's 10 s server/discover timeout.
    with anyio.fail_after(TOTAL_TIMEOUT):
        async with client:
            rec.check("connect", True, "", f"mode={mode}")
            await run_checks(client, rec, seen, mode)
    return {"notifications_seen": sorted(set(seen.notification_methods))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["legacy", "auto"], required=True)
    parser.add_argument(
        "--wire-trace",
        action="store_true",
        help="relay the server through wire_tap.py and log every JSON-RPC line to stderr",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="server command (after --)")
    ns = parser.parse_args()
    command = [c for c in ns.command if c != "--"] if ns.command[:1] == ["--"] else ns.command
    if not command:
        parser.error("missing server command")

    sdk_version = importlib.metadata.version("mcp")
    rec = Recorder()
    extra: dict[str, Any] = {}
    try:
        rec.check(
            "sdk_version",
            sdk_version.split(".")[0] == "2",
            f"this script targets the mcp 2.x client API, found mcp {sdk_version}",
            sdk_version,
        )
        extra = anyio.run(main_async, ns.mode, command, rec, ns.wire_trace)
    except AssertionError as err:
        print(f"[interop] FAILED {err}", file=sys.stderr)
    except BaseException as err:  # noqa: BLE001 - report, then exit non-zero
        detail = "".join(traceback.format_exception(err)).strip()
        rec.fail("run.error", describe(err))
        print(f"[interop] run aborted:\n{detail}", file=sys.stderr)

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
