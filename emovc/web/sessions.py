"""Sessions: one per browser tab, named by an unguessable token, each with a private folder
(mode 0700) under the server's own temporary folder. Idle sessions expire; everything is
deleted when the server stops. When `max_sessions` are open, a new one may close only a
session idle for `evict_idle_s`, else it is refused (503): no client can close pages in use."""
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from emovc.web.uploads import RequestError


@dataclass
class Session:
    token: str
    folder: Path
    seen: float = field(default_factory=time.monotonic)
    input: Path | None = None           # the last recording uploaded (decoded to WAV)
    analysis: object = None             # its analysis.Analysis, which a conversion reuses
    live: object | None = None          # its LiveStream while the microphone runs


class Sessions:
    def __init__(self, ttl_s: float, max_sessions: int, evict_idle_s: float):
        self.ttl_s, self.max_sessions, self.evict_idle_s = ttl_s, max_sessions, evict_idle_s
        self.root = Path(tempfile.mkdtemp(prefix="emotion-app-"))
        self.lock = threading.Lock()
        self.open: dict[str, Session] = {}

    def new(self) -> Session:
        with self.lock:
            self._expire()
            if len(self.open) >= self.max_sessions:
                idlest = min(self.open.values(), key=lambda s: s.seen)
                if time.monotonic() - idlest.seen < self.evict_idle_s:
                    raise RequestError(f"the server is busy ({self.max_sessions} pages open); "
                                       f"try again in a few minutes", status=503)
                self._close(idlest)
            token = secrets.token_urlsafe(18)
            folder = self.root / token
            folder.mkdir(mode=0o700)
            session = self.open[token] = Session(token, folder)
            return session

    def get(self, token: str) -> Session:
        with self.lock:
            self._expire()
            session = self.open.get(token)
            if session is None:
                raise RequestError("this session has expired or does not exist; reload the page", status=404)
            session.seen = time.monotonic()
            return session

    def close_all(self) -> None:
        with self.lock:
            self.open.clear()
            shutil.rmtree(self.root, ignore_errors=True)

    def _expire(self) -> None:
        now = time.monotonic()
        for session in [s for s in self.open.values() if now - s.seen > self.ttl_s]:
            self._close(session)

    def _close(self, session: Session) -> None:
        del self.open[session.token]
        shutil.rmtree(session.folder, ignore_errors=True)
