// The page of app.py: live mode, upload/record + analyse, convert. No external scripts.
"use strict";
const $ = (id) => document.getElementById(id);
let token = null, options = null;

async function api(path, init = {}) {
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({ error: `error: the server answered ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `error: the server answered ${response.status}`);
  return data;
}
const session = (path) => `/api/s/${token}/${path}`;

// A probability as every line of the app and the commands write it: "87%".
const percent = (p) => `${Math.round(100 * p)}%`;

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
  $("error").hidden = !error;
}

// The emotion as a word and a colour (never colour alone); 'uncertain' says which was most likely.
function showEmotion(box, prediction, idle = "no speech") {
  const word = box.querySelector(".word"), confidence = box.querySelector(".confidence");
  box.className = box.className.replace(/\b(none|uncertain|neutral|calm|happy|sad|angry|fearful|disgust|surprised)\b/g, "").trim();
  if (!prediction) {
    delete box.dataset.emotion;
    box.classList.add("none");
    word.textContent = idle;
    confidence.textContent = "";
    return;
  }
  const uncertain = !(prediction.label in prediction.probabilities);
  box.classList.add(uncertain ? "uncertain" : prediction.top);
  word.textContent = prediction.label;
  confidence.textContent = (uncertain ? `${prediction.top} ` : "") + percent(prediction.probabilities[prediction.top]);
  box.dataset.emotion = prediction.top;
}

function showBars(table, probabilities) {
  table.replaceChildren(...Object.entries(probabilities).sort((a, b) => b[1] - a[1]).map(([label, p]) => {
    const row = document.createElement("tr");
    row.innerHTML = `<td>${label}</td><td class="bar"><div class="fill" style="width:${(100 * p).toFixed(1)}%"></div></td>` +
                    `<td>${percent(p)}</td>`;
    return row;
  }));
}

// ---- the models load when the server starts; the page says when they are ready ----
const models = { ready: false };
async function watchModels() {
  try {
    Object.assign(models, await api("/api/status"));
  } catch (error) {
    showError(error);
    return;
  }
  if (models.error) return showError(models.error);
  $("models").textContent = models.ready ? "models ready" : "loading models… (the first request waits for them)";
  $("models").dataset.ready = models.ready ? "1" : "0";
  if (!models.ready) setTimeout(watchModels, 1000);
}

// A long request's status line counts the seconds it has run; returns the function that stops it.
function ticking(element, text) {
  const started = performance.now();
  const show = () => { element.textContent = `${text} ${Math.round((performance.now() - started) / 1000)} s`; };
  show();
  const timer = setInterval(show, 1000);
  return () => clearInterval(timer);
}

// ---- analyse an upload or a recording ----
const NO_RECORDING = "upload or record a recording first";
async function analyse(blob, name) {
  showError(null);
  const done = ticking($("analyse-status"), models.ready ? `analysing ${name}…`
    : `${name} waits for the models to load, then is analysed…`);
  $("convert-button").disabled = true;
  $("convert-status").textContent = `wait for the analysis of ${name}`;
  $("converted").hidden = true;                 // the last conversion was of the previous recording
  $("converted-audio").removeAttribute("src");
  try {
    if (blob.size > options.max_mb * 1e6) throw new Error(`error: ${name} is larger than ${options.max_mb} MB; send a shorter recording`);
    const result = await api(session(`analyse?name=${encodeURIComponent(name)}`), { method: "POST", body: blob });
    showEmotion($("result-emotion"), result.detected_emotion);
    if (result.detected_emotion) showBars($("result-bars"), result.detected_emotion.probabilities);
    $("result-transcript").textContent = result.transcript || "(no words recognised)";
    showEmotion($("text-emotion"), result.text_emotion, "no words");
    showEmotion($("fused-emotion"), result.fused_emotion, "—");
    $("result-picture").src = result.picture_url;
    showTimeline(result.timeline);
    $("result").hidden = false;
    $("analyse-status").textContent = `${name}: ${result.duration_s.toFixed(1)} s`;
    $("convert-button").disabled = false;
    $("convert-status").textContent = "";
  } catch (error) {
    $("analyse-status").textContent = "";
    $("convert-status").textContent = NO_RECORDING;
    showError(error);
  } finally {
    done();
  }
}

function showTimeline(timeline) {
  $("timeline").hidden = !timeline;
  if (!timeline) return;
  const summary = timeline.summary, share = Object.entries(summary.share).filter(([, p]) => p > 0).sort((a, b) => b[1] - a[1]);
  $("timeline-summary").textContent = share.map(([label, p]) => `${label} ${percent(p)}`).join(", ") +
    (summary.longest.label ? `; longest: ${summary.longest.label} for ${summary.longest.duration_s.toFixed(0)} s` : "") +
    `; ${summary.changes_per_minute.toFixed(1)} changes a minute`;
  $("timeline-picture").src = timeline.picture_url;
  $("timeline-rows").tBodies[0].replaceChildren(...timeline.rows.map((row) => {
    const tr = document.createElement("tr");
    for (const value of [row.start.toFixed(1), row.end.toFixed(1), row.label, row.words, row.fused_label]) {
      tr.appendChild(Object.assign(document.createElement("td"), { textContent: value }));
    }
    return tr;
  }));
}

let recorder = null;
async function toggleRecording() {
  if (recorder) { recorder.stop(); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"].find((t) => MediaRecorder.isTypeSupported(t));
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const extension = recorder.mimeType.includes("mp4") ? "m4a" : recorder.mimeType.includes("ogg") ? "ogg" : "webm";
    recorder.ondataavailable = (event) => chunks.push(event.data);
    recorder.onstop = () => {
      stream.getTracks().forEach((track) => track.stop());
      recorder = null;
      $("record-button").textContent = "Record";
      analyse(new Blob(chunks, { type: chunks[0] ? chunks[0].type : "" }), `recording.${extension}`);
    };
    recorder.start();
    $("record-button").textContent = "Stop recording";
    $("analyse-status").textContent = "recording…";
  } catch (error) {
    showError(`error: no microphone (${error.message}); allow the microphone or choose a file`);
  }
}

// ---- convert ----
async function convert(event) {
  event.preventDefault();
  showError(null);
  $("convert-button").disabled = true;
  const done = ticking($("convert-status"), "converting…");
  const intensity = $("intensity").value;
  try {
    const result = await api(session("convert"), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ emotion: $("emotion").value, speaker: $("speaker").value,
                             intensity, keep_voice: $("keep-voice").checked }),
    });
    $("converted-audio").src = result.audio_url;
    $("download-audio").href = result.audio_url;
    $("download-report").href = result.report_url;
    $("converted-picture").src = result.picture_url;
    const report = result.report;
    $("converted-summary").textContent = `spoken as ${report.target_emotion}` +
      (report.mode === "keep-voice" ? " in the recorded voice" : `, voice ${report.speaker}`) +
      (report.check ? `; the recogniser hears ${report.check.predicted_label}` : "");
    $("converted").hidden = false;
    $("convert-status").textContent = "";
  } catch (error) {
    $("convert-status").textContent = "";
    showError(error);
  } finally {
    done();
    $("convert-button").disabled = false;
  }
}

// ---- live mode: 16-bit PCM chunks every update_s seconds; one request in flight at a time ----
let live = null;
async function startLive() {
  showError(null);
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    // 16 kHz where the browser resamples the microphone itself; else its own rate (the server resamples)
    let context = new AudioContext({ sampleRate: 16000 }), source;
    try { source = context.createMediaStreamSource(stream); } catch {
      await context.close();
      context = new AudioContext();
      source = context.createMediaStreamSource(stream);
    }
    await context.audioWorklet.addModule("/static/pcm-worklet.js");
    const node = new AudioWorkletNode(context, "pcm-capture");
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node).connect(mute).connect(context.destination);
    await api(session("live/start"), { method: "POST" });
    live = { stream, context, blocks: [], busy: false };
    node.port.onmessage = (event) => live && live.blocks.push(event.data);
    live.timer = setInterval(sendLive, 1000 * options.update_s);
    $("live-button").textContent = "Stop listening";
    showEmotion($("live-emotion"), null, "listening…");
  } catch (error) {
    showError(error.name === "NotAllowedError" || error.name === "NotFoundError"
      ? `error: no microphone (${error.message}); allow the microphone in the browser` : error);
  }
}

// The audio gathered since the last send; after a long stall only the newest max_chunk_s.
function takePcm() {
  const blocks = live.blocks.splice(0), limit = options.max_chunk_s * live.context.sampleRate;
  while (blocks.length > 1 && blocks.reduce((n, b) => n + b.length, 0) > limit) blocks.shift();
  const pcm = new Int16Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const block of blocks) for (const x of block) pcm[at++] = Math.max(-32768, Math.min(32767, Math.round(x * 32768)));
  return pcm;
}

function showLive(state) {
  showEmotion($("live-emotion"), state.emotion, "silence");
  $("live-transcript").textContent = state.transcript;
  const learning = state.adaptation && !state.adaptation.learnt
    ? ` · learning your voice… ${state.adaptation.heard}/${state.adaptation.needed}` : "";
  $("live-heard").textContent = `${state.heard_s.toFixed(0)} s heard${learning}`;
  $("live-emotion").dataset.updated = String(performance.now());
  showTranscribing(state);
}

// How the transcript keeps up: running, how far behind, what was skipped, a switch to a faster model.
function showTranscribing(state) {
  const notes = [];
  if (state.transcribing) notes.push(state.behind_s >= 1.5 * options.segment_s
    ? `transcribing… falling behind by ${state.behind_s.toFixed(0)} s` : "transcribing…");
  if (state.skipped_s > 0) notes.push(`the machine is too slow: ${state.skipped_s.toFixed(0)} s of speech were skipped (…)`);
  if (state.asr_model !== options.asr_model) notes.push(`switched to the faster ${state.asr_model} speech model`);
  $("live-asr").textContent = notes.join("; ");
}

async function sendLive() {
  if (!live || live.busy || !live.blocks.length) return;
  const current = live;                 // an answer that comes after Stop is not shown
  current.busy = true;
  try {
    const pcm = takePcm();
    const state = await api(session(`live/chunk?sr=${current.context.sampleRate}`), { method: "POST", body: pcm.buffer });
    if (live === current) showLive(state);
  } catch (error) {
    if (live === current) showError(error);
  } finally {
    current.busy = false;
  }
}

async function stopLive() {
  const stopping = live;
  live = null;
  clearInterval(stopping.timer);
  stopping.stream.getTracks().forEach((track) => track.stop());
  await stopping.context.close();
  $("live-button").textContent = "Start listening";
  showEmotion($("live-emotion"), null, "stopped");      // never the last emotion as if still live
  $("live-heard").textContent = "stopped; finishing the transcript…";
  try {
    const state = await api(session("live/stop"), { method: "POST" });
    $("live-transcript").textContent = state.transcript;
    $("live-heard").textContent = `stopped after ${state.heard_s.toFixed(0)} s`;
    showTranscribing(state);
  } catch (error) {
    $("live-heard").textContent = "stopped";
    showError(error);
  }
}

async function init() {
  try {
    options = await api("/api/options");
    token = (await api("/api/session", { method: "POST" })).token;
  } catch (error) {
    showError(error);
    return;
  }
  const fill = (select, values, chosen) => select.replaceChildren(...values.map((value) =>
    Object.assign(document.createElement("option"), { value, textContent: value, selected: value === chosen })));
  fill($("emotion"), ["same", ...options.emotions], "happy");
  fill($("speaker"), options.voices, options.voices[0]);
  fill($("intensity"), options.intensities, "normal");
  $("file").addEventListener("change", () => { const f = $("file").files[0]; if (f) analyse(f, f.name); $("file").value = ""; });
  $("record-button").addEventListener("click", toggleRecording);
  $("convert-form").addEventListener("submit", convert);
  $("live-button").addEventListener("click", () => (live ? stopLive() : startLive()));
  $("convert-status").textContent = NO_RECORDING;
  document.body.dataset.ready = "1";
  watchModels();
}
init();
