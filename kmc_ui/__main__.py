"""Command line: `python -m kmc_ui check|generate|serve|worker|runs|report` (see ../shared/interfaces.md).

IMAGE and VIDEO are file paths or http(s) URLs (URLs pass the private-address guard).
`check` exits 1 when any finding is an error; `generate` exits 0 only when a result was written;
`runs` lists the runs in the run store for operators (owners as a short hash, never their ids).
`report` prints the motion-agreement report for any two videos; exit 2 when it cannot be measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kmc_ui.limits import LIMITS, MODELS, ORIENTATIONS, TIERS
from kmc_ui.settings import ALL_BACKENDS, Settings, load_settings

if TYPE_CHECKING:
    from kmc_ui.runs import RunRecord
    from kmc_ui.studio import Inputs, Studio


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m kmc_ui", description="Kling Motion Control Studio")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("image", help="character image: a file path or an http(s) URL")
        sp.add_argument("video", help="motion reference video: a file path or an http(s) URL")
        sp.add_argument("--orientation", choices=ORIENTATIONS, default="video")
        sp.add_argument("--tier", choices=TIERS, default="std")
        sp.add_argument("--model", choices=MODELS, default="v2.6")
        sp.add_argument("--prompt", default="")
        sp.add_argument(
            "--angle",
            action="append",
            default=[],
            metavar="PICTURE",
            help="identity lock: another picture of the character (1-3, other angles; Kling 3.0 on kling2)",
        )
        sp.add_argument("--json", action="store_true", help="print one JSON object")

    check = sub.add_parser("check", help="print the findings; exit 1 when any is an error")
    common(check)
    check.add_argument("--no-sound", action="store_true", help="drop the original sound")
    check.add_argument("--backend", choices=ALL_BACKENDS, default=None)
    check.add_argument("--no-pose", action="store_true", help="skip the body (pose) checks: limits only, instant")
    gen = sub.add_parser("generate", help="run one job and write the result video")
    common(gen)
    gen.add_argument("--out", required=True, help="where to write the result video")
    gen.add_argument("--backend", choices=ALL_BACKENDS, default=None)
    gen.add_argument("--no-sound", action="store_true", help="drop the original sound")
    gen.add_argument("--trim-start", type=float, default=0.0, help="start of the trim window (s)")
    gen.add_argument("--watermark", action="store_true", help="also keep a watermarked copy (Kling official API)")
    serve = sub.add_parser("serve", help="start the web app")
    serve.add_argument("--port", type=int, default=None)
    worker = sub.add_parser("worker", help="drive runs from the shared queue (no web page); see README")
    worker.add_argument("--threads", type=int, default=None, help="runs driven at once (default KMC_WORKERS)")
    worker.add_argument(
        "--media-port",
        type=int,
        default=None,
        help="serve the files of the runs this worker sends by URL on this port (KMC_PUBLIC_BASE_URL must reach it)",
    )
    runs = sub.add_parser("runs", help="list the runs in the run store (for operators)")
    runs.add_argument("--json", action="store_true", help="print one JSON array")
    runs.add_argument("--status", default=None, help="only runs with this status (succeeded, failed, running, ...)")
    report = sub.add_parser("report", help="the motion-agreement report for two videos (score 0-100)")
    report.add_argument("reference", help="the motion reference video (a file path)")
    report.add_argument("result", help="the result video to compare with it (a file path)")
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")
    report.add_argument(
        "--image",
        default=None,
        help="the character picture the result was made from: limb colours are compared with it (appearance checks)",
    )
    return p


def _local(path_or_url: str, settings: Settings, tmp: Path, max_bytes: int, label: str) -> str:
    """A local path as given, or the URL downloaded (guarded); UrlRefused names the input."""
    if path_or_url.startswith(("http://", "https://")):
        from kmc_ui.media.remote import UrlRefused, download_url
        from kmc_ui.messages import Msg

        try:
            return str(download_url(path_or_url, tmp, max_bytes=max_bytes, allow_private=settings.allow_private_urls))
        except UrlRefused as exc:
            raise UrlRefused(Msg("remote.labelled", {"label": label, "what": exc.msg})) from None
    return path_or_url


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    if args.command == "serve":
        from kmc_ui.server import launch

        launch(settings, server_port=args.port)
        return 0
    if args.command == "runs":
        return _runs(settings, args.json, args.status)
    if args.command == "worker":
        from kmc_ui.worker import main as worker_main

        if args.threads is not None:
            settings = replace(settings, workers=max(1, args.threads))
        return worker_main(replace(settings, workers=max(1, settings.workers)), args.media_port)
    if args.command == "report":
        return _report(Path(args.reference), Path(args.result), args.json, args.image)

    from kmc_ui.media.remote import UrlRefused
    from kmc_ui.server import make_backends, make_media_host
    from kmc_ui.studio import Inputs, Studio

    host = make_media_host(settings)
    studio = Studio(settings, make_backends(settings, host), media_host=host)
    studio.read_ahead = False  # no motion report here: nothing to read ahead for
    with tempfile.TemporaryDirectory() as tmp:
        try:
            image = _local(args.image, settings, Path(tmp) / "image", LIMITS.image_max_bytes * 5, "Image")
            video = _local(args.video, settings, Path(tmp) / "video", LIMITS.video_max_bytes * 3, "Video")
        except UrlRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        inputs = Inputs(
            image=image,
            video=video,
            prompt=args.prompt,
            orientation=args.orientation,
            tier=args.tier,
            model=args.model,
            keep_sound=not args.no_sound,
            backend=args.backend or settings.backend,
            trim_start=getattr(args, "trim_start", 0.0),
            watermark=getattr(args, "watermark", False),
            extra_pictures=tuple(args.angle),
        )
        if args.command == "check":
            return _check(studio, inputs, args.json, pose=not args.no_pose)
        # A public video URL is sent as it is where the provider reads URLs (when it needs no change).
        url = args.video if args.video.startswith(("http://", "https://")) else ""
        return _generate(studio, inputs, Path(args.out), args.json, url)


def _check(studio: Studio, inputs: Inputs, as_json: bool, pose: bool = True) -> int:
    verdict = studio.verdict(inputs, studio.body_check(inputs, previews=False) if pose else None)
    report = verdict.report  # its findings: the limit check's and the body check's
    if as_json:
        print(json.dumps(report.to_dict(), indent=1, default=str))
    else:
        for f in report.findings:
            print(f"{f.level.upper():7} {f.input:6} {f.code}: {f.text()}")
        if not report.findings:
            print("OK: both inputs fit every limit.")
        if report.estimate:
            print(f"Cost: {report.estimate.text()}")
    return 1 if verdict.has_errors else 0


def _generate(studio: Studio, inputs: Inputs, out: Path, as_json: bool, video_url: str = "") -> int:
    last = None
    width = shutil.get_terminal_size((80, 20)).columns
    terminal = sys.stderr.isatty()
    said = ""  # a log (not a terminal) gets each new step once, on a line of its own
    for p in studio.generate(inputs, owner="cli", address="cli", video_url=video_url):  # the CLI is a visitor too
        last = p
        line = f"[{p.elapsed:6.1f}s] {p.stage:<11} {p.text}"
        if terminal:
            print("\r" + line[: width - 1].ljust(width - 1), end="", file=sys.stderr, flush=True)
        elif f"{p.stage} {p.text}" != said:
            said = f"{p.stage} {p.text}"
            print(line, file=sys.stderr, flush=True)
    if terminal:
        print(file=sys.stderr)
    if last is None or last.stage != "done" or not last.result_path:
        print(f"error: {last.text if last else 'nothing happened'}", file=sys.stderr)
        if as_json and last is not None:
            print(json.dumps(studio.history.get("cli", last.run_id) or {}, indent=1, default=str))
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(last.result_path, out)
    record = studio.history.get("cli", last.run_id) or {}
    if as_json:
        print(json.dumps(record, indent=1, default=str))
    else:
        print(f"wrote {out}")
    return 0


def _report(reference: Path, result: Path, as_json: bool, image: str | None = None) -> int:
    """Exit 0 with the report; 2 with a message on stderr when the videos cannot be compared (or the
    picture given with --image is not a file)."""
    if image and not Path(image).is_file():
        print(f"error: the character picture {image} cannot be read: no such file", file=sys.stderr)
        return 2
    for label, path in (("reference", reference), ("result", result)):
        problem = _unreadable_video(path)
        if problem:
            print(f"error: the {label} video {path} cannot be read: {problem}", file=sys.stderr)
            return 2
    from kmc_ui.engine.agreement import agreement_report

    report = agreement_report(reference, result, character_image=image)
    if not report.ok:
        print(f"error: {report.summary()}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict() | {"summary": report.summary()}, indent=1) if as_json else report.summary())
    return 0


def _unreadable_video(path: Path) -> str:
    """Why `path` is not a video that can be decoded ("" when it is one)."""
    if not path.is_file():
        return "no such file"
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "it has no video stream"
    except (av.FFmpegError, OSError) as exc:
        return str(exc)
    return ""


def _runs(settings: Settings, as_json: bool, status: str | None) -> int:
    from kmc_ui.history import History

    history = History(settings.data_dir, settings.database_url)  # (imports an older version's records)
    records = history.store.list(status=status)
    work = history.store.work.all([r.run_id for r in records])
    rows = [_run_row(record, work.get(record.run_id) or {}) for record in records]
    history.close()
    if as_json:
        print(json.dumps(rows, indent=1))
        return 0
    columns = ("run_id", "owner", "backend", "status", "task_id", "created", "finished", "cost", "worker")
    table = [columns] + [tuple("-" if row[c] in (None, "") else str(row[c]) for c in columns) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    print(f"{len(rows)} run(s)")
    return 0


def _run_row(record: RunRecord, work: dict[str, Any]) -> dict[str, Any]:
    """What an operator sees of a run: the owner as a short hash, times in UTC, the estimated cost,
    and the worker ("host:pid:token") holding a run still going."""
    from kmc_ui.history import ENDED
    from kmc_ui.worker import ACTIVE

    def utc(seconds: float | None) -> str | None:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)) if seconds else None

    cost = record.extra.get("estimate_usd")
    return {
        "run_id": record.run_id,
        "owner": hashlib.sha256(record.owner.encode()).hexdigest()[:12],
        "backend": record.provider,
        "status": record.status,
        "task_id": record.task_id,
        "created": utc(record.created_at),
        "finished": utc(record.updated_at) if record.status in ENDED else None,
        "cost": f"${cost:.2f}" if isinstance(cost, int | float) else None,
        "worker": work.get("worker") if record.status in ACTIVE else None,
    }


if __name__ == "__main__":
    from kmc_ui.native_logs import quiet_native_logs

    quiet_native_logs()  # mediapipe's I0000/W0000 lines stay out of the command's stderr
    sys.exit(main())
