"""The web app: upload or record speech, see its emotion and transcript, convert it, or watch
the emotion live while someone speaks.

    python app.py            # then open http://127.0.0.1:7860
"""
import argparse
import sys

from emovc.core.cli import ArgumentParser, add_config_options


def port_arg(value: str) -> int:
    """An argparse type for a TCP port: 1 to 65535."""
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port; give 1 to 65535")
    return int(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description="Serve the local web app (offline): upload or record speech, see the emotion, "
                    "transcript and pictures, convert it, or follow the emotion live.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=port_arg, default=7860, help="port, 1 to 65535 (default: 7860)")
    add_config_options(parser, "configs/app.yaml", what="limits and models", example="upload.max_mb=20")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from emovc.core.config import load_config
    from emovc.convert.config import DetectConfig
    from emovc.web.config import AppConfig
    config = load_config(args.config, AppConfig, args.set)
    detect = load_config(config.detect, DetectConfig)
    from emovc.asr import check_options
    check_options(detect.asr.backend, config.live.asr_options, args.config, "live.asr_options.")
    from emovc.convert import Converter
    from emovc.web.server import create_app, serve   # FastAPI and the stages load once the arguments are valid
    converter = Converter(detect, say=lambda message: print(message, file=sys.stderr, flush=True))
    app = create_app(config, detect, converter)
    try:
        serve(app, args.host, args.port)
    finally:                    # also when the port or host cannot be had
        app.state.sessions.close_all()
    return 0


def entry() -> None:
    """`emovc-app` and `python app.py`."""
    parse_args()    # --help and usage errors answer before FastAPI and the stages are imported
    from emovc.core.cli import run
    run(main)
