"""app.py in a real browser: Debian's headless Chromium driven by Playwright, its microphone a
fake device fed from a WAV of the bundled sample. Upload a file and read the transcript and
emotion off the page; convert and get audio back; record from the microphone (WebM/Opus);
run live mode and watch the transcript grow. The real models run; nothing is mocked.
Screenshots go to the test's temporary folder."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emovc.asr.evaluate import wer
from emovc.core.audio import load_audio
from emovc.core.config import load_config
from emovc.core.labels import EMOTIONS
from emovc.convert import DetectConfig
from emovc.web.config import AppConfig
from emovc.web.server import create_app, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
WORDS = "We waited all afternoon, but nobody came to the meeting."
SAMPLE = "samples/sample.wav"
SHOWN = {*EMOTIONS, "uncertain"}


@pytest.fixture(scope="module")
def url():
    config = load_config("configs/app.yaml", AppConfig)
    with serving(create_app(config, load_config(config.detect, DetectConfig))) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory, url):
    """A page of the app in Chromium whose microphone plays the sample, then a second's pause, in a loop."""
    from playwright.sync_api import sync_playwright
    folder = tmp_path_factory.mktemp("browser")
    wav, sr = load_audio(SAMPLE)
    sf.write(folder / "mic.wav", np.concatenate([wav, np.zeros(sr, np.float32)]), sr, subtype="PCM_16")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={folder / 'mic.wav'}"])   # a fresh profile per launch
        context = browser.new_context(viewport={"width": 1100, "height": 1000})
        context.grant_permissions(["microphone"], origin=url)
        page = context.new_page()
        page.set_default_timeout(180_000)       # the models are slow on a busy 2-core machine
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']")
        assert page.inner_text("#convert-status") == "upload or record a recording first"  # why Convert is grey
        page.wait_for_selector("#models[data-ready='1']")        # the models load as the server starts
        assert page.inner_text("#models") == "models ready"
        page.folder = folder
        yield page
        browser.close()


def test_a_bad_upload_shows_one_error_line(page):
    page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == ("error: notes.txt: .txt is not an audio format this app reads; "
                                         "upload WAV, WebM/Opus, OGG, MP3, M4A or FLAC")


def test_upload_shows_transcript_and_emotion_then_convert_returns_audio(page):
    answers = []

    def keep(route):                    # pass the server's answer through, keeping a copy
        response = route.fetch(timeout=180_000)
        answers.append(response.json())
        route.fulfill(response=response)

    page.route("**/analyse?*", keep)
    page.set_input_files("#file", SAMPLE)
    page.wait_for_selector("#result:not([hidden])")
    page.unroute("**/analyse?*")
    detected = answers[0]["detected_emotion"]
    assert page.locator("#error").is_hidden()
    assert wer(WORDS, page.inner_text("#result-transcript")) <= 0.2
    assert page.get_attribute("#result-emotion", "data-emotion") == detected["top"] in EMOTIONS  # what the server found
    assert page.inner_text("#result-emotion .word").split(" ")[0].lower() in SHOWN   # a word, not colour alone
    assert page.locator("#result-bars tr").count() == len(EMOTIONS)
    page.wait_for_function("document.getElementById('result-picture').naturalWidth > 0")

    page.select_option("#emotion", "sad")
    page.select_option("#speaker", "middlemale")
    page.click("#convert-button")
    page.wait_for_selector("#converted:not([hidden])")
    assert "spoken as sad" in page.inner_text("#converted-summary")
    duration = page.evaluate("""() => new Promise((ok, fail) => {
        const audio = document.getElementById('converted-audio');
        if (audio.readyState >= 1) ok(audio.duration);
        audio.onloadedmetadata = () => ok(audio.duration); audio.onerror = () => fail('audio did not load'); })""")
    assert 1.0 < duration < 8.0
    report = page.evaluate("() => fetch(document.getElementById('download-report').href).then(r => r.json())")
    assert report["target_emotion"] == "sad" and report["speaker"] == "middlemale"
    page.screenshot(path=str(page.folder / "upload-convert.png"), full_page=True)


def test_record_from_the_microphone(page):
    page.click("#record-button")
    page.wait_for_timeout(4500)                 # the fake microphone says the sentence once
    page.click("#record-button")
    page.wait_for_function("document.getElementById('analyse-status').textContent.startsWith('recording.webm:')")
    assert page.locator("#error").is_hidden()
    heard = page.inner_text("#result-transcript")
    assert wer(WORDS, heard) <= 0.5, heard      # the recording may start or stop inside a word
    assert page.locator("#converted").is_hidden(), "the previous recording's conversion is still shown"


def test_phone_width_has_no_sideways_scrolling(page):
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        fits = """() => document.documentElement.scrollWidth <= window.innerWidth &&
            [...document.querySelectorAll('.emotion')].every((box) => box.scrollWidth <= box.clientWidth)"""
        assert page.evaluate(fits), "the page scrolls sideways at 390 px"
        page.evaluate("""() => showEmotion(document.getElementById('result-emotion'),   // the longest words shown
            { label: 'uncertain', top: 'surprised', probabilities: { surprised: 0.24 } })""")
        assert page.evaluate(fits), "'uncertain' overflows its box at 390 px"
        page.screenshot(path=str(page.folder / "phone.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1100, "height": 1000})


def test_live_mode_transcript_grows(page):
    page.click("#live-button")
    page.wait_for_function("document.getElementById('live-transcript').textContent.split(' ').length >= 3")
    first = page.inner_text("#live-transcript")
    assert page.get_attribute("#live-emotion", "data-emotion") in EMOTIONS
    page.wait_for_function(f"document.getElementById('live-transcript').textContent.length > {len(first)} + 10")
    page.screenshot(path=str(page.folder / "live.png"), full_page=False)
    page.click("#live-button")
    page.wait_for_function("document.getElementById('live-button').textContent === 'Start listening'")
    page.wait_for_function("document.getElementById('live-heard').textContent.startsWith('stopped after')")
    assert page.inner_text("#live-word") == "STOPPED" and page.get_attribute("#live-emotion", "data-emotion") is None
    final = page.inner_text("#live-transcript")
    assert len(final) > len(first)
    assert "waited all afternoon" in final.lower() and page.locator("#error").is_hidden()
