"""A minimal Chrome DevTools Protocol client for the browser tests.

Starts Debian's headless ``chromium`` with ``--remote-debugging-port=0``,
reads the port from ``DevToolsActivePort``, opens a page target and talks to
it over one WebSocket (``websocket-client``). Every console message, page
exception, log entry and network request is recorded, so a test can assert
that a report loads with no error and requests nothing but ``file:``/``data:``
URLs.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PageEvents:
    """What the page did while loading."""

    console: list[dict[str, Any]] = field(default_factory=list)  # {type, text}
    exceptions: list[str] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)  # {level, source, text, url}
    requests: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        out = [f"console.{c['type']}: {c['text']}" for c in self.console if c["type"] in ("error", "assert")]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log {e['level']} ({e.get('source')}): {e.get('text')} {e.get('url', '')}" for e in self.log
                if e["level"] == "error"]
        return out

    @property
    def non_file_requests(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith("file://") or u.startswith("data:"))]


class Browser:
    """Headless Chromium driven over CDP.

    Parameters
    ----------
    executable : str
        Chromium binary.
    width, height : int
        Viewport in CSS pixels.
    """

    def __init__(self, executable: str, width: int = 1280, height: int = 900, timeout: float = 60.0) -> None:
        import websocket  # websocket-client

        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="discovery-cdp-")
        args = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
            # belt and braces: a request that slipped through resolves nowhere (it is still recorded)
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
            f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
            "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port_file = Path(self.profile) / "DevToolsActivePort"
        t0 = time.monotonic()
        while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"chromium exited with {self.proc.returncode}: {err[-2000:]}")
            if time.monotonic() - t0 > timeout:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=timeout,
                                              suppress_origin=True)
        self._id = 0
        self.events = PageEvents()
        self._pending: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    # ---- protocol
    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._record(reply)
        raise TimeoutError(method)

    def _record(self, ev: dict[str, Any]) -> None:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            self.events.console.append({"type": p.get("type"), "text": text})
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.events.exceptions.append(d.get("exception", {}).get("description") or d.get("text", ""))
        elif m == "Log.entryAdded":
            e = p.get("entry", {})
            self.events.log.append({"level": e.get("level"), "source": e.get("source"), "text": e.get("text"),
                                    "url": e.get("url", "")})
        elif m == "Network.requestWillBeSent":
            self.events.requests.append(p.get("request", {}).get("url", ""))
        elif m == "Network.loadingFailed":
            self.events.failed.append(p)
        self._pending.append(ev)

    def wait_event(self, method: str, timeout: float | None = None) -> dict[str, Any]:
        for i, ev in enumerate(self._pending):
            if ev.get("method") == method:
                return self._pending.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            ev = json.loads(self.ws.recv())
            self._record(ev)
            if ev.get("method") == method:
                self._pending.remove(ev)
                return ev
        raise TimeoutError(method)

    def drain(self, seconds: float = 0.5) -> None:
        """Read events for ``seconds`` (late console messages, lazy requests)."""
        self.ws.settimeout(0.1)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                try:
                    self._record(json.loads(self.ws.recv()))
                except Exception as err:  # timeout
                    if "timed out" not in str(err).lower():
                        raise
        finally:
            self.ws.settimeout(self.timeout)

    # ---- actions
    def open(self, url: str) -> None:
        self._pending.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")
        self.drain(0.7)

    def eval(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"JS error: {res['exceptionDetails']}")
        return res.get("result", {}).get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            h = self.eval("Math.ceil(document.documentElement.scrollHeight)")
            w = self.eval("Math.ceil(document.documentElement.scrollWidth)")
            params["clip"] = {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    env = os.environ.get("DISCOVERY_CHROMIUM")
    return env if env and Path(env).is_file() else None
