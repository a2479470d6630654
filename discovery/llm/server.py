"""Start and stop a local OpenAI-compatible server (``llama-cpp-python[server]``) for tests and benchmarks.

Examples
--------
>>> from discovery.llm.server import LlamaServer
>>> from discovery.llm.tiny_gguf import write_tiny_llama
>>> with LlamaServer(write_tiny_llama("tiny.gguf")) as srv:     # doctest: +SKIP
...     print(srv.base_url)                                      # http://127.0.0.1:<port>/v1

The server binds to 127.0.0.1 only. ``llama-cpp-python`` has no wheel on PyPI for
CPU Linux; build it once with ``CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install
"llama-cpp-python[server]"`` (pip caches the wheel afterwards).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..errors import ConfigError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def llama_server_available() -> bool:
    """Whether ``llama_cpp.server`` can be imported (without importing it here)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None


class LlamaServer:
    """``python -m llama_cpp.server`` on loopback, as a context manager.

    Parameters
    ----------
    model : path-like
        GGUF file.
    port : int, optional
        Default: a free port.
    n_ctx : int
        Context length.
    chat_format : str
        llama-cpp-python chat format (``chatml`` matches :func:`~discovery.llm.tiny_gguf.write_tiny_llama`).
    log : path-like, optional
        Server output goes here (default: discarded).
    startup_timeout_s : float
    """

    def __init__(self, model: str | os.PathLike, *, port: int | None = None, n_ctx: int = 4096,
                 chat_format: str | None = "chatml", n_threads: int = 1, log: str | os.PathLike | None = None,
                 startup_timeout_s: float = 120.0, model_alias: str = "tiny") -> None:
        self.model = Path(model)
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.chat_format = chat_format
        self.n_threads = n_threads
        self.log = Path(log) if log else None
        self.startup_timeout_s = startup_timeout_s
        self.model_alias = model_alias
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LlamaServer":
        if not llama_server_available():
            raise ConfigError("llama-cpp-python[server] is not installed",
                              hint='CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install "llama-cpp-python[server]"')
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--host", "127.0.0.1",
               "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
               "--model_alias", self.model_alias]
        if self.chat_format:
            cmd += ["--chat_format", self.chat_format]
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        env = {**os.environ, "OMP_NUM_THREADS": str(self.n_threads)}
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.startup_timeout_s
        import httpx

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ConfigError(f"llama server exited with code {self.proc.returncode}",
                                  hint=f"see {self.log}" if self.log else "pass log= to see its output")
            try:
                r = httpx.get(f"{self.base_url}/models", timeout=2.0)
                if r.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise ConfigError(f"llama server did not answer within {self.startup_timeout_s:.0f}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DroppingProxy:
    """TCP proxy on loopback that closes the first ``drop`` connections without a reply, then forwards.

    Used to prove that the client retries a dropped connection against a real server.
    """

    def __init__(self, target_port: int, drop: int = 1) -> None:
        self.target_port = target_port
        self.drop = drop
        self.dropped = 0
        self.forwarded = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "DroppingProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stop.is_set():
                conn.close()
                return
            if self.dropped < self.drop:
                self.dropped += 1
                conn.settimeout(2)
                try:
                    conn.recv(65536)  # read the request, then hang up without answering
                except OSError:
                    pass
                conn.close()
                continue
            self.forwarded += 1
            up = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
