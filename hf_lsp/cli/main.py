"""The ``hf-lsp`` command: serve LSP on stdio or TCP, or run one completion from the shell."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from hf_lsp import __version__, logs
from hf_lsp.cli.exchange import show_exchange
from hf_lsp.config.layered import Configuration, section_of
from hf_lsp.config.settings import Settings, merge, parse_settings
from hf_lsp.errors import SettingsError
from hf_lsp.language.document import Document
from hf_lsp.language.languages import language_from_path
from hf_lsp.redact import redact, scan_for_tokens

if TYPE_CHECKING:
    import argparse

log = logging.getLogger("hf_lsp.cli.main")
# what build_parser().parse_args(ARGS) gives for each of these: editors start the server so,
# and argparse costs ~5 ms of start-up (a test checks that the two agree)
SERVE_STDIO = {(): {"stdio": False}, ("--stdio",): {"stdio": True}}


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="hf-lsp",
        description="Code generation from Hugging Face models, as a language server.",
    )
    parser.add_argument("--version", action="version", version=f"hf-lsp {__version__}")
    parser.add_argument("--stdio", action="store_true", help="serve on stdio (the default)")
    parser.add_argument("--tcp", action="store_true", help="serve on TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    _common(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    complete = commands.add_parser(
        "complete",
        help="complete once at FILE:LINE:COL and print the result",
        description="Run the completion pipeline once, as an editor would, and print the text.",
    )
    complete.add_argument("target", metavar="FILE:LINE:COL", help="1-based line and column")
    _settings_flags(complete)
    complete.add_argument("--show-request", action="store_true",
                          help="also print the request sent (token hidden) and the raw response")
    _common(complete)
    check = commands.add_parser(
        "check",
        help="send one tiny request to the configured backend and diagnose the answer",
        description="Check the set-up: print what was sent and what came back (token hidden), "
        "the server's limits, the latency, and what to do about a failure. Exit code 0 only "
        "when the backend answered with text.",
    )
    _settings_flags(check)
    _common(check)
    models = commands.add_parser(
        "models",
        help="list the code models Inference Providers serve now, by route",
        description="List the code models Inference Providers serve now: for fill-in-the-"
        "middle (the Hub's text-generation mapping) and for chat (the router's /v1/models), "
        "with provider, status, context length, price per million tokens (input/output) and "
        "the FIM template hf-lsp knows for each.",
    )
    route = models.add_mutually_exclusive_group()
    route.add_argument("--fim", dest="route", action="store_const", const="fim",
                       help="only models served for fill-in-the-middle (raw text-generation)")
    route.add_argument("--chat", dest="route", action="store_const", const="chat",
                       help="only models served for chat")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.add_argument("--all", action="store_true",
                        help="list every model, not only code models")
    models.add_argument("--router-url", metavar="URL",
                        help="the router (default: the huggingface backend's url when it is a "
                        "router base, else https://router.huggingface.co)")
    models.add_argument("--hub-url", metavar="URL",
                        help="the Hub API (default: $HF_ENDPOINT or https://huggingface.co)")
    models.add_argument("--settings", metavar="FILE.json",
                        help="settings: the same JSON object as initializationOptions "
                        "(default: $HF_LSP_SETTINGS, a file path or JSON text)")
    _common(models)
    return parser


def _settings_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", metavar="FILE.json",
                        help="settings: the same JSON object as initializationOptions "
                        "(default: $HF_LSP_SETTINGS, a file path or JSON text)")
    parser.add_argument("--backend", help="override the backend setting")
    parser.add_argument("--url", help="override the url setting")
    parser.add_argument("--model", help="override the model setting")


def _common(parser: argparse.ArgumentParser) -> None:
    import argparse

    parser.add_argument("--log-file", metavar="PATH", default=argparse.SUPPRESS,
                        help="write logs to PATH instead of stderr")
    parser.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="more logs (-vv: every LSP message too)")
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="only warnings and errors")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = tuple(sys.argv[1:] if argv is None else argv)
    args: Any = serve_stdio_args(arguments) or build_parser().parse_args(arguments)
    verbose = -1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0)
    logs.setup(verbose, getattr(args, "log_file", None))
    if args.command == "complete":
        return asyncio.run(complete(args))
    if args.command not in ("check", "models"):
        return serve(args)
    try:
        settings = load_settings(args)
    except SettingsError as exc:
        print(f"hf-lsp: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        from hf_lsp.cli.check import run_check

        return asyncio.run(run_check(settings))
    from hf_lsp.cli.models import run_models

    return asyncio.run(run_models(
        settings, router=args.router_url, hub=args.hub_url, route=args.route,
        as_json_output=args.json, include_all=args.all,
    ))


def serve_stdio_args(arguments: tuple[str, ...]) -> SimpleNamespace | None:
    """What the parser makes of a plain ``hf-lsp`` or ``hf-lsp --stdio``, without argparse."""
    if arguments not in SERVE_STDIO:
        return None
    return SimpleNamespace(tcp=False, host="127.0.0.1", port=2087, command=None,
                           **SERVE_STDIO[arguments])


def serve(args: argparse.Namespace) -> int:
    from hf_lsp.lsp.server import create_server

    server = create_server()
    if args.tcp:
        log.info("serving on %s:%d", args.host, args.port)
        server.start_tcp(args.host, args.port)
    else:
        from hf_lsp.lsp.framing import Resync

        server.start_io(Resync(sys.stdin.buffer))  # type: ignore[arg-type]
    return 0


def parse_target(target: str) -> tuple[Path, int, int]:
    """``FILE:LINE:COL`` (1-based) → (path, line, column); the file name may hold colons."""
    path, line, column = target.rsplit(":", 2) if target.count(":") >= 2 else (target, "", "")
    try:
        return Path(path), int(line), int(column)
    except ValueError:
        raise SettingsError(f"expected FILE:LINE:COL with numbers, got {target!r}") from None


def load_settings(args: argparse.Namespace) -> Settings:
    raw: Mapping[str, Any] = {}
    source = args.settings or os.environ.get("HF_LSP_SETTINGS", "").strip()
    if source:
        try:
            text = source if source.startswith("{") else Path(source).read_text(encoding="utf-8")
            loaded = json.loads(text)
        except (OSError, ValueError) as exc:
            raise SettingsError(f"cannot read the settings {source!r}: {exc}") from None
        section = section_of(loaded)
        if section is None:
            raise SettingsError(f"{source} holds no hf-lsp settings object")
        raw = section
    overrides = {
        k: getattr(args, k) for k in ("backend", "url", "model") if getattr(args, k, None)
    }
    merged = merge(raw, overrides)
    scan_for_tokens(merged)
    return parse_settings(merged)


async def complete(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args)
        path, line, column = parse_target(args.target)
        text = path.read_text(encoding="utf-8", errors="replace")
    except SettingsError as exc:
        print(f"hf-lsp: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hf-lsp: cannot read {args.target}: {exc.strerror}", file=sys.stderr)
        return 2
    show = show_exchange if args.show_request else None
    config = Configuration(settings, on_exchange=show)
    if args.show_request:
        print(f"# token: {config.token_source}")
    doc = Document(path.resolve().as_uri(), text, language_from_path(path.name))
    row = min(max(line - 1, 0), len(doc.lines) - 1)
    index = min(max(column - 1, 0), len(doc.line_text(row)))
    try:
        outcome = await config.engine.complete(doc, row, index, invoked=True, alternatives=False)
    finally:
        await config.aclose()
    if outcome.error:
        print(f"hf-lsp: {redact(outcome.error)}", file=sys.stderr)
        return 1
    if args.show_request:
        print("# completion")
    if not outcome.completions:
        print("hf-lsp: no completion here", file=sys.stderr)
        return 0
    for i, completion in enumerate(outcome.completions):
        if i:
            print("# alternative")
        print(completion.text)
    return 0
