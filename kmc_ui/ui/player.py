"""The synchronized side-by-side player: one control drives the reference and the result.

A gr.HTML component: the template draws two <video> elements and one control bar; the
script keeps the result within about a frame of the reference while playing, seeks both
together, and can draw the reference's skeleton on a canvas over it. `offset` shifts the
result (seconds it starts after the reference, e.g. from the motion-agreement report).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import gradio as gr

from kmc_ui.ui.access import served_url

# Mediapipe pose landmark pairs drawn as bones (arms, torso, legs, shoulders-hips).
BONES = [
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (0, 11),
    (0, 12),
]

TEMPLATE = """
<div class="kmc-sync" data-ready="${value && value.ref ? 'yes' : 'no'}">
  <div class="kmc-sync-panes">
    <figure class="kmc-pane">
      <figcaption>${(value && value.ref_label) || 'Reference'}</figcaption>
      <div class="kmc-stage">
        <video class="kmc-ref" preload="auto" playsinline muted src="${(value && value.ref) || ''}"
               aria-label="${(value && value.ref_label) || 'Reference video'}"></video>
        <canvas class="kmc-skel" aria-hidden="true"></canvas>
      </div>
    </figure>
    <figure class="kmc-pane">
      <figcaption>${(value && value.out_label) || 'Result'}</figcaption>
      <div class="kmc-stage">
        <video class="kmc-out" preload="auto" playsinline src="${(value && value.out) || ''}"
               poster="${(value && value.poster) || ''}"
               aria-label="${value?.description || value?.ui?.generated || 'Generated video'}"></video>
      </div>
    </figure>
  </div>
  <div class="kmc-sync-bar" role="group" aria-label="${value?.ui?.bar || 'Playback of both videos'}">
    <button type="button" class="kmc-play" aria-label="${value?.ui?.play || 'Play both'}">▶</button>
    <input type="range" class="kmc-seek" min="0" max="1" step="0.01" value="0"
           aria-label="${value?.ui?.position || 'Position (s)'}">
    <span class="kmc-time" aria-live="off">0.00 / 0.00 s</span>
    <label><input type="checkbox" class="kmc-skel-toggle"> ${value?.ui?.skeleton || 'skeleton'}</label>
    <label>${value?.ui?.speed || 'speed'}
      <select class="kmc-speed" aria-label="${value?.ui?.speed_label || 'Speed'}">
      <option value="0.25">0.25x</option><option value="0.5">0.5x</option><option value="1" selected>1x</option>
    </select></label>
  </div>
  <p class="kmc-desc">${(value && value.description) || ''}</p>
</div>
"""

CSS = """
.kmc-sync-panes {display: flex; gap: 8px;}
.kmc-pane {flex: 1; margin: 0; min-width: 0;}
.kmc-pane figcaption {font-size: 0.85em; opacity: 0.8; margin-bottom: 2px;}
.kmc-stage {position: relative; background: #111; border-radius: 6px; overflow: hidden;}
.kmc-stage video {width: 100%; max-height: 480px; display: block; margin: 0 auto;}
.kmc-skel {position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none;}
.kmc-sync-bar {display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin-top: 6px;}
.kmc-seek {flex: 1 1 160px; min-width: 0;}
.kmc-play {min-width: 2.6em; font-size: 1.1em;}
.kmc-time {font-variant-numeric: tabular-nums; font-size: 0.9em; white-space: nowrap;}
.kmc-sync-bar label {display: inline-flex; align-items: center; gap: 4px; white-space: nowrap;}
@media (max-width: 640px) {.kmc-seek {flex-basis: 100%; order: -1;}}
.kmc-desc {font-size: 0.85em; opacity: 0.8;}
"""

JS = """
const BONES = %BONES%;
let raf = null;
function parts() {
  return {
    ref: element.querySelector('video.kmc-ref'), out: element.querySelector('video.kmc-out'),
    play: element.querySelector('.kmc-play'), seek: element.querySelector('.kmc-seek'),
    time: element.querySelector('.kmc-time'), skel: element.querySelector('.kmc-skel'),
    toggle: element.querySelector('.kmc-skel-toggle'), speed: element.querySelector('.kmc-speed'),
  };
}
function offset() { return (props.value && props.value.offset) || 0; }
function target(p) { return Math.max(0, p.ref.currentTime - offset()); }
function follow(p, tolerance) {
  if (!p.out || !p.out.src || isNaN(p.out.duration)) return;
  const t = target(p);
  if (t >= p.out.duration) { if (!p.out.paused) p.out.pause(); return; }
  if (Math.abs(p.out.currentTime - t) > tolerance) p.out.currentTime = t;
}
function drawSkeleton(p) {
  const sk = props.value && props.value.skeleton;
  const c = p.skel;
  if (!c) return;
  const ctx = c.getContext('2d');
  c.width = c.clientWidth; c.height = c.clientHeight;
  ctx.clearRect(0, 0, c.width, c.height);
  if (!sk || !p.toggle.checked || !sk.times || !sk.times.length || !p.ref.videoWidth) return;
  let k = 0, best = 1e9;
  for (let i = 0; i < sk.times.length; i++) {
    const d = Math.abs(sk.times[i] - p.ref.currentTime);
    if (d < best) { best = d; k = i; }
  }
  const pts = sk.points[k];
  if (!pts) return;
  const vw = p.ref.videoWidth, vh = p.ref.videoHeight;
  const s = Math.min(c.width / vw, c.height / vh), ox = (c.width - vw * s) / 2, oy = (c.height - vh * s) / 2;
  ctx.lineWidth = 3; ctx.strokeStyle = '#39ff88'; ctx.fillStyle = '#ff3b6b';
  for (const [a, b] of BONES) {
    const A = pts[a], B = pts[b];
    if (!A || !B || A[2] < 0.5 || B[2] < 0.5) continue;
    ctx.beginPath(); ctx.moveTo(ox + A[0] * vw * s, oy + A[1] * vh * s);
    ctx.lineTo(ox + B[0] * vw * s, oy + B[1] * vh * s); ctx.stroke();
  }
}
function show(p) {
  const d = p.ref.duration || 0;
  if (!isNaN(d) && d > 0) p.seek.max = d.toFixed(2);
  p.seek.value = p.ref.currentTime.toFixed(2);
  p.time.textContent = p.ref.currentTime.toFixed(2) + ' / ' + (isNaN(d) ? 0 : d).toFixed(2) + ' s';
  p.play.textContent = p.ref.paused ? '▶' : '⏸';
  const ui = (props.value && props.value.ui) || {};
  p.play.setAttribute('aria-label', p.ref.paused ? (ui.play || 'Play both') : (ui.pause || 'Pause both'));
  drawSkeleton(p);
}
function loop() {
  const p = parts();
  if (!p.ref) return;
  follow(p, 0.05);
  show(p);
  if (!p.ref.paused) raf = requestAnimationFrame(loop); else raf = null;
}
function setup() {
  const p = parts();
  if (!p.ref) return;
  p.play.onclick = () => {
    if (p.ref.paused) {
      follow(p, 0.0);
      const t = target(p);
      p.ref.play();
      if (p.out && p.out.src && t < (p.out.duration || 0)) p.out.play();
      if (!raf) raf = requestAnimationFrame(loop);
    } else {
      p.ref.pause(); if (p.out) p.out.pause(); follow(p, 0.0); show(p);
    }
  };
  p.seek.oninput = () => { p.ref.currentTime = parseFloat(p.seek.value); follow(p, 0.0); show(p); };
  p.speed.onchange = () => {
    const r = parseFloat(p.speed.value);
    p.ref.playbackRate = r;
    if (p.out) p.out.playbackRate = r;
  };
  p.toggle.onchange = () => show(p);
  p.ref.onseeked = () => { follow(p, 0.0); show(p); };
  p.ref.onloadedmetadata = () => show(p);
  p.ref.onended = () => { if (p.out) p.out.pause(); show(p); };
  p.ref.onpause = () => { if (p.out && !p.out.paused) p.out.pause(); follow(p, 0.0); show(p); };
  show(p);
}
setup();
watch('value', setup);
""".replace("%BONES%", str([list(b) for b in BONES]))


def player_value(
    reference: str | Path | None,
    output: str | Path | None,
    *,
    offset: float = 0.0,
    skeleton: dict[str, Any] | None = None,
    description: str = "",
    labels: tuple[str, str] = ("Reference", "Result"),
    lang: str = "en",
    poster: str | Path | None = None,
) -> dict[str, Any]:
    """The player's value. `description` and `labels` are given in `lang`; for "zh" the control
    bar's own words (aria labels, "skeleton", "speed") come along as `ui`. `poster`: a picture shown
    in the result's place before there is a result (the latest frame of a render still going).

    The template puts these strings into HTML as they are, so every one is escaped here: the
    description carries the visitor's prompt."""
    value = {
        "ref": html.escape(served_url(reference)),
        "out": html.escape(served_url(output)),
        "poster": html.escape(served_url(poster)),
        "offset": round(float(offset), 3),
        "skeleton": skeleton,
        "description": html.escape(description),
        "ref_label": html.escape(labels[0]),
        "out_label": html.escape(labels[1]),
    }
    if lang == "zh":
        value["ui"] = {k: html.escape(v) for k, v in UI_ZH.items()}
    return value


UI_ZH = {
    "bar": "同时播放两段视频",
    "play": "同时播放",
    "pause": "同时暂停",
    "position": "位置（秒）",
    "skeleton": "骨架",
    "speed": "速度",
    "speed_label": "播放速度",
    "generated": "生成的视频",
}


def sync_player(**kwargs: Any) -> gr.HTML:
    return gr.HTML(
        value=player_value(None, None),
        html_template=TEMPLATE,
        css_template=CSS,
        js_on_load=JS,
        **kwargs,
    )
