"""The HTTP side of app.py: a FastAPI app over one `Converter` (and its `Analyzer`), the same as
detect.py's. `Studio` does the work of each route; `create_app` only maps routes onto it.

    POST /api/session                    -> {token}: a private session (folder, live stream)
    POST /api/s/TOKEN/analyse?name=F     body: the recording -> emotion, transcript, text emotion,
                                         fused emotion, picture, timeline (long files)
    POST /api/s/TOKEN/convert            JSON {emotion, speaker, intensity, keep_voice, text}
                                         -> detect.py's report + URLs of N.wav, N.json, N.png
    GET  /api/s/TOKEN/files/NAME         a file of that session only
    GET  /api/status                     -> {ready, error}: whether the models have loaded
    POST /api/s/TOKEN/live/start | chunk?sr=R (body: 16-bit PCM) | stop -> emotion, transcript
Every refusal is JSON {"error": "error: ..."} with a 4xx status.
"""
import contextlib
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from fastapi import Request as HttpRequest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from emovc.analysis.plots import Clip, render_clips, render_timeline, write_png
from emovc.asr import load_asr
from emovc.convert.config import DetectConfig
from emovc.convert.pipeline import Converter, Request
from emovc.core.audio import SR, resample, save_audio
from emovc.core.errors import UserError
from emovc.core.labels import EMOTIONS
from emovc.web.config import AppConfig
from emovc.web.live import LiveAsr, LiveStream, ModelLocks
from emovc.web.sessions import Session, Sessions
from emovc.web.uploads import FORMATS, RequestError, check_name, decode, receive

STATIC = Path(__file__).with_name("static")
FILE_NAME = re.compile(r"^(\d+\.(wav|json|png)|[a-z-]+(-\d+)?\.png)$")


class ConvertForm(BaseModel):
    emotion: str
    speaker: str
    intensity: str | float = "normal"
    keep_voice: bool = False
    text: str | None = None


class Studio:
    """The app's state (the models, their locks, the sessions, live mode's ASR) and what each
    route does, over the library: an upload is analysed as detect.py analyses a file, a
    conversion is detect.py's, live mode asks the same Analyzer."""

    def __init__(self, config: AppConfig, detect: DetectConfig, converter: Converter | None = None):
        self.config, self.detect = config, detect
        self.converter = converter or Converter(detect)
        self.analyzer = self.converter.analyzer
        self.locks = ModelLocks()
        self.asr_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-asr")
        self.sessions = Sessions(config.session_ttl_s, config.max_sessions, config.evict_idle_s)
        self.loading = {"ready": False, "error": None}       # what GET /api/status tells the page
        self._live_asr, self._live_lock = None, threading.Lock()

    def load(self) -> None:
        """Every model, once, at start-up; the log and the page say when they are ready."""
        started, say = time.perf_counter(), self.converter.say
        say("loading models… (requests wait for them)")
        try:
            with self.locks:
                self.converter.load()
            self.live_asr()
        except Exception as e:                  # a request that needs the model will say it again
            self.loading["error"] = f"error: loading the models failed ({type(e).__name__}: {e})"
            say(self.loading["error"])
            return
        self.loading["ready"] = True
        say(f"models ready ({time.perf_counter() - started:.0f} s)")

    def close(self) -> None:
        self.asr_pool.shutdown(wait=False, cancel_futures=True)
        self.sessions.close_all()

    def live_asr(self) -> LiveAsr:
        """Live mode's own ASR model (its own threads), loaded once."""
        with self._live_lock:
            if self._live_asr is None:
                live, asr = self.config.live, self.detect.asr
                load = lambda model: load_asr(asr.backend, model, asr.language, **live.asr_options)
                self._live_asr = LiveAsr(load, asr.model, live.fallback_model, live.max_rtf)
            return self._live_asr

    def options(self) -> dict:
        config = self.config
        return {"emotions": list(EMOTIONS), "voices": sorted(self.converter.voices), "intensities": ["normal", "strong"],
                "formats": list(FORMATS), "max_mb": config.upload.max_mb,
                "max_duration_s": config.upload.max_duration_s, "update_s": config.live.update_s,
                "max_chunk_s": config.live.max_chunk_s, "segment_s": config.live.segment_s,
                "asr_model": self.detect.asr.model}

    def analyse(self, session: Session, upload: Path, name: str) -> dict:
        """The upload's analysis (as detect.py's: emotion, transcript, the words' emotion and the
        fused one; for long files the timeline, from the same SER windows), and a picture."""
        wav, sr = decode(upload, name, self.config.upload.max_duration_s, self.detect.min_duration_s)
        session.input, session.analysis = save_audio(session.folder / "input.wav", wav, sr, overwrite=True), None
        with self.locks:
            found = self.analyzer.analyse(session.input, timeline=len(wav) / sr >= self.config.timeline.min_duration_s)
        session.analysis = found
        pictures = session.folder / "pictures"
        pictures.mkdir(exist_ok=True)
        picture = write_png(pictures / "clip.png", render_clips([Clip(name, wav, sr, found.emotion)]), numbered=True)
        segments = found.transcript.segments if found.transcript else []
        result = {"name": name, **found.to_dict(), "segments": [vars(s) for s in segments],
                  "picture_url": _url(session, picture.name), "timeline": None}
        if found.timeline is not None:
            drawn = write_png(pictures / "timeline.png", render_timeline(found.timeline), numbered=True)
            result["timeline"] = {**found.timeline.to_dict(), "picture_url": _url(session, drawn.name)}
        return result

    def convert(self, session: Session, form: "ConvertForm") -> dict:
        """detect.py's conversion of the session's recording (reusing its analysis), with URLs."""
        if session.input is None:
            raise RequestError("no recording yet; upload or record one first")
        request = Request(form.emotion, form.speaker, text=form.text, keep_voice=form.keep_voice,
                          intensity=form.intensity, check=self.detect.check.enabled, plots=True)
        with self.locks:
            report = self.converter.convert(session.input, request, session.folder / "output", session.analysis)
        out = Path(report["output"])
        return {"report": report, "audio_url": _url(session, out.name),
                "report_url": _url(session, out.with_suffix(".json").name),
                "picture_url": _url(session, out.with_suffix(".png").name)}

    def file(self, session: Session, name: str) -> Path:
        """A file of this session only (an output or a picture)."""
        path = session.folder / ("output" if name[0].isdigit() else "pictures") / name
        if not FILE_NAME.match(name) or not path.is_file():
            raise RequestError(f"{name}: no such file in this session", status=404)
        return path

    def live_start(self, session: Session) -> dict:
        live = self.config.live
        session.live = LiveStream(self.analyzer, self.locks.ser, self.live_asr(), self.asr_pool,
                                  live.emotion_window_s, live.segment_s, live.max_behind_s)
        return session.live.state()

    def live_chunk(self, session: Session, body: bytes, sr: int) -> dict:
        if session.live is None:
            raise RequestError("live mode is not running; press Start first", status=409)
        if not 8000 <= sr <= 192000:
            raise RequestError(f"sample rate {sr} Hz not supported; send 8000 to 192000 Hz")
        if len(body) % 2 or len(body) > self.config.live.max_chunk_s * sr * 2:
            raise RequestError(f"a live chunk must be 16-bit mono PCM of at most "
                               f"{self.config.live.max_chunk_s:g} s", status=413)
        return session.live.feed(resample(np.frombuffer(body, "<i2").astype(np.float32) / 32768.0, sr, SR))

    def live_stop(self, session: Session) -> dict:
        live, session.live = session.live, None
        if live is None:
            raise RequestError("live mode is not running", status=409)
        return live.finish()


def create_app(config: AppConfig, detect: DetectConfig, converter: Converter | None = None) -> FastAPI:
    """The app; models load in the background at start-up (requests wait for them)."""
    studio = Studio(config, detect, converter)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=studio.load, daemon=True).start()
        yield
        studio.close()

    app = FastAPI(title="Emotion studio", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.sessions = studio.sessions
    _add_error_handlers(app)
    session = studio.sessions.get

    @app.get("/")
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/favicon.ico")
    async def favicon():
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/api/status")
    async def status():
        return studio.loading

    @app.get("/api/options")
    async def options():
        return studio.options()

    @app.post("/api/session")
    async def new_session():
        return {"token": studio.sessions.new().token}

    @app.post("/api/s/{token}/analyse")
    async def analyse(token: str, name: str, request: HttpRequest):
        s = session(token)
        upload = s.folder / f"upload-{secrets.token_hex(8)}{check_name(name)}"     # concurrent uploads never clash
        try:
            await receive(request.stream(), upload, int(config.upload.max_mb * 1e6))
            return await run_in_threadpool(studio.analyse, s, upload, name)
        finally:
            upload.unlink(missing_ok=True)

    @app.post("/api/s/{token}/convert")
    async def convert(token: str, form: ConvertForm):
        return await run_in_threadpool(studio.convert, session(token), form)

    @app.get("/api/s/{token}/files/{name}")
    async def file(token: str, name: str):
        return FileResponse(studio.file(session(token), name), headers={"Cache-Control": "no-store"})

    @app.post("/api/s/{token}/live/start")
    async def live_start(token: str):
        return await run_in_threadpool(studio.live_start, session(token))

    @app.post("/api/s/{token}/live/chunk")
    async def live_chunk(token: str, request: HttpRequest, sr: int = SR):
        s = session(token)
        return await run_in_threadpool(studio.live_chunk, s, await request.body(), sr)

    @app.post("/api/s/{token}/live/stop")
    async def live_stop(token: str):
        return await run_in_threadpool(studio.live_stop, session(token))

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every refusal as JSON {"error": "error: ..."} with its status."""

    @app.exception_handler(UserError)
    async def refused(request, error: UserError):
        return _error(str(error), getattr(error, "status", 400))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, error: StarletteHTTPException):
        return _error(f"{request.url.path}: {error.detail}", error.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, error: RequestValidationError):
        first = error.errors()[0]
        return _error(f"{'.'.join(map(str, first['loc'][1:])) or 'request'}: {first['msg']}", 400)

    @app.exception_handler(Exception)
    async def failed(request, error: Exception):
        return _error(f"internal error ({type(error).__name__}: {error})", 500)


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` until SIGTERM or SIGINT (Ctrl-C); a port that cannot be had is a one-line error.
    A signal ends the process at once: the sessions' folders are deleted, and requests still
    running (a transcription, a conversion) abandoned, their threads not joined (os._exit)."""
    import uvicorn
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as e:
            raise UserError(f"cannot listen on {host}:{port} ({e.strerror}); choose another --port or --host")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)     # not the main thread: no signal handlers
    thread.start()
    print(f"serving on http://{host}:{port} (Ctrl-C stops)", file=sys.stderr, flush=True)
    while thread.is_alive() and not stop.wait(0.2):
        pass
    server.should_exit = True
    thread.join(timeout=0.5)            # idle connections close; running requests are not waited for
    app.state.sessions.close_all()
    if not stop.is_set():
        raise UserError(f"could not serve on {host}:{port}; choose another --port or --host")
    print("stopped; the session folders are deleted", file=sys.stderr, flush=True)
    os._exit(0)


@contextlib.contextmanager
def serving(app: FastAPI, host: str = "127.0.0.1", port: int = 0):
    """Run `app` with uvicorn in a thread (port 0: a free one); yields its URL, stops on exit."""
    import uvicorn
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise UserError(f"could not serve on {host}:{port}; choose another --port")
        threading.Event().wait(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _url(session: Session, name: str) -> str:
    return f"/api/s/{session.token}/files/{name}"


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": f"error: {message}"}, status_code=status)
