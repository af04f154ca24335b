"""Render a page in headless Chromium through the DevTools protocol, with aiohttp's websocket
client (already a dependency: the sandbox runs on aiohttp), and report what a reader would see.

What comes back: the page's console errors, uncaught exceptions and log errors, every request it
made (a self-contained page makes none beyond its own file), the result of a script evaluated in
the page, and a full-page PNG screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)


def find_or_install_chromium() -> tuple[str | None, str]:
    """Debian's chromium: found, or installed with apt when we may (root, apt-get present);
    otherwise None and the reason, for the test to skip with."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found, ""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return None, "Chromium is not installed and cannot be installed here (needs apt-get as root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in (
        ["apt-get", "install", "-y", "-q", "chromium"],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "chromium"],
    ):
        done = subprocess.run(attempt, capture_output=True, text=True, timeout=900, env=env)
        if attempt[1] == "install" and done.returncode == 0:
            break
    found = shutil.which("chromium")
    return found, "" if found else f"installing Debian's chromium failed: {done.stderr.strip()[-300:]}"


@dataclass
class Rendered:
    evaluated: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""


class _Session:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.ids, self.events = ws, itertools.count(1), []  # type: ignore[var-annotated]

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=60)).data)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    async def until(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            message = json.loads((await self.ws.receive(timeout=max(0.1, deadline - time.monotonic()))).data)
            self.events.append(message)


async def _render(chromium: str, page: Path, script: str, width: int) -> Rendered:
    # its helper processes may still write to the profile for a moment after they are told to stop
    with tempfile.TemporaryDirectory(prefix="crrsim-chromium-", ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.is_file() and port_file.read_text().strip()):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("Chromium did not open its DevTools port")
                await asyncio.sleep(0.1)
            port = port_file.read_text().split()[0]
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
                    targets = await answer.json()
                ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
                async with http.ws_connect(ws_url, max_msg_size=0) as ws:
                    cdp = _Session(ws)
                    for domain in ("Runtime", "Log", "Network", "Page"):
                        await cdp.call(f"{domain}.enable")
                    await cdp.call(
                        "Emulation.setDeviceMetricsOverride",
                        width=width,
                        height=900,
                        deviceScaleFactor=1,
                        mobile=False,
                    )
                    await cdp.call("Page.navigate", url=page.resolve().as_uri())
                    await cdp.until("Page.loadEventFired")
                    result = await cdp.call("Runtime.evaluate", expression=script, returnByValue=True)
                    size = (await cdp.call("Page.getLayoutMetrics"))["cssContentSize"]
                    shot = await cdp.call(
                        "Page.captureScreenshot",
                        format="png",
                        captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1},
                    )
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)  # the browser and every helper it started
            proc.wait(30)
    rendered = Rendered(result.get("result", {}).get("value"), screenshot=base64.b64decode(shot["data"]))
    for event in cdp.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            rendered.errors.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            rendered.errors.append(str(params.get("args")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            rendered.errors.append(str(params["entry"].get("text")))
        elif method == "Network.requestWillBeSent":
            rendered.requests.append(str(params.get("request", {}).get("url")))
    return rendered


def render(chromium: str, page: Path, script: str, width: int = 1280) -> Rendered:
    return asyncio.run(_render(chromium, page, script, width))
