"""Exact-block rate of hf-lsp's post-processing on holes cut from real source files.

    .venv/bin/python bench/holes.py                 # every language found on this machine
    .venv/bin/python bench/holes.py javascript go   # some of them
    .venv/bin/python bench/holes.py --misses 20     # show up to 20 misses per language
    .venv/bin/python bench/holes.py --fresh         # the next 80 files of each language

Each hole is cut deterministically from a file that is on this machine but not in this
repository (the Python standard library, npm's own JavaScript, the JDK's ``src.zip``, Debian's
Go and Rust source packages, C and C++ files shipped inside Python packages …):

- ``rest``: the rest of a line, from a point after its indentation;
- ``line``: a whole line, the cursor after its indentation;
- ``body``: a block's body, the cursor on an indented empty line below the opener; the
  block's closing line stays in the document (an editor's auto-closed ``}``);
- ``block``: a block's body and its closing lines (``} else { … }`` included), as typed
  without auto-closing.

To have every language (each one missing is reported and skipped)::

    npm install --prefix /tmp/closers_src rxjs@7      # TypeScript sources
    apt-get install -y golang-golang-x-mod-dev golang-golang-x-sync-dev \
        golang-github-pkg-errors-dev librust-semver-dev librust-smallvec-dev \
        librust-regex-syntax-dev librust-itoa-dev      # Go and Rust sources

The model's answer is the true text plus an overrun: what follows the hole in the file, cut
after 30–400 characters, as a model that does not stop writes the code after the cursor
again. The answer goes through the real post-processing (``clean_with_range``) at the cursor
spot the server computes (``context.window``), and the hole counts as exact when the
document with the cleaned answer inserted is the file again (trailing spaces aside).
A quarter of the files (by a hash of their path) are held out: the figure on them is
printed apart, and the misses listed are from the others only. ``--fresh`` measures the
next 80 files of each language in the same order, which no tuning run has read.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sys
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hf_lsp.config.settings import Context  # noqa: E402
from hf_lsp.generation.fim_templates import COMMON_SPECIAL, TEMPLATES  # noqa: E402
from hf_lsp.language.context import window  # noqa: E402
from hf_lsp.language.document import Document  # noqa: E402
from hf_lsp.language.postprocess import Cleanup, clean_with_range  # noqa: E402

PY = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
VENV = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
JDK = sorted(Path("/usr/lib/jvm").glob("*/lib/src.zip"))

# language id → (directories or zip files, file suffixes)
SOURCES: dict[str, tuple[list[Path], tuple[str, ...]]] = {
    "python": ([PY], (".py",)),
    "javascript": ([Path("/usr/lib/node_modules/npm/lib"),
                    Path("/usr/lib/node_modules/npm/node_modules")], (".js",)),
    "typescript": ([Path("/tmp/closers_src/node_modules/rxjs/src"),
                    HERE.parent / "editors/vscode/node_modules"], (".ts",)),
    "go": ([Path("/usr/share/gocode/src")], (".go",)),
    "rust": ([Path("/usr/share/cargo/registry")], (".rs",)),
    "c": ([VENV / "site-packages/mypyc/lib-rt", Path("/usr/share/doc/nettle-dev/examples"),
           PY.parent.parent / "include"], (".c",)),
    "cpp": ([VENV / "site-packages/greenlet"], (".cpp", ".hpp")),
    "java": (JDK, (".java",)),
}
FILES_PER_LANGUAGE = 80
HOLES_PER_KIND = 2  # per file and kind
MAX_FILE = 150_000
_COMMENT = re.compile(r"^\s*(?:#|//|/\*|\*|\"\"\"|''')")
_OPENS = {"python": re.compile(r":\s*$")}
_BRACE_OPENS = re.compile(r"\{\s*$")


@dataclass(frozen=True)
class Hole:
    kind: str
    path: str
    start: int  # offsets into the file's text: the hole is text[start:end]
    end: int

    def line_no(self, text: str) -> int:
        return text.count("\n", 0, self.start) + 1


def files(language: str, offset: int = 0) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of the language's files on this machine, in a fixed order.

    ``offset``: skip that many first (``--fresh`` takes the next ones, never measured while
    tuning).
    """
    roots, suffixes = SOURCES[language]
    found: list[tuple[str, Path | tuple[Path, str]]] = []
    for root in roots:
        if root.suffix == ".zip" and root.is_file():
            with zipfile.ZipFile(root) as z:
                names = [n for n in z.namelist()
                         if n.startswith("java.base/") and n.endswith(suffixes)]
            found.extend((n, (root, n)) for n in names)
            break
        if root.is_dir():
            found.extend((str(p), p) for p in root.rglob("*") if p.suffix in suffixes
                         and not p.name.endswith(".d.ts") and p.is_file()
                         and "site-packages" not in p.parts[len(root.parts) :])
    found.sort(key=lambda item: hashlib.sha1(item[0].encode()).hexdigest())
    for name, where in found[offset : offset + FILES_PER_LANGUAGE]:
        if isinstance(where, tuple):
            with zipfile.ZipFile(where[0]) as z:
                text = z.read(where[1]).decode("utf-8", "replace")
        else:
            text = where.read_text(encoding="utf-8", errors="replace")
        if len(text) <= MAX_FILE and "\r" not in text:
            yield name, text


def held_out(name: str) -> bool:
    return hashlib.sha1(name.encode()).digest()[0] % 4 == 0


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def holes(language: str, name: str, text: str) -> list[Hole]:
    """The holes cut from one file: a few of each kind, chosen by a seeded generator."""
    rng = random.Random(name)
    lines = text.split("\n")
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln) + 1)
    code = [i for i, ln in enumerate(lines) if len(ln.strip()) >= 6 and not _COMMENT.match(ln)]
    found: list[Hole] = []
    for i in rng.sample(code, min(HOLES_PER_KIND, len(code))):
        ln = lines[i]
        lead = len(ln) - len(ln.lstrip())
        col = rng.randint(lead + 2, len(ln.rstrip()) - 1)
        found.append(Hole("rest", name, starts[i] + col, starts[i] + len(ln.rstrip())))
    for i in rng.sample(code, min(HOLES_PER_KIND, len(code))):
        ln = lines[i]
        lead = len(ln) - len(ln.lstrip())
        found.append(Hole("line", name, starts[i] + lead, starts[i] + len(ln.rstrip())))
    opener = _OPENS.get(language, _BRACE_OPENS)
    headers = [i for i in code if opener.search(lines[i]) and i + 1 < len(lines)
               and _indent(lines[i + 1]) > _indent(lines[i]) and lines[i + 1].strip()]
    for i in rng.sample(headers, min(HOLES_PER_KIND, len(headers))):
        level = _indent(lines[i])
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > level):
            j += 1
        last = j - 1
        while not lines[last].strip():
            last -= 1
        first = lines[i + 1]
        body_start = starts[i + 1] + len(first) - len(first.lstrip())
        found.append(Hole("body", name, body_start, starts[last] + len(lines[last].rstrip())))
        if language == "python":
            continue
        # the block's closing lines too: `}`, `} else {` … down to the statement's last `}`
        end = None
        while j < len(lines) and _indent(lines[j]) == level and lines[j].lstrip()[:1] in "})]":
            end = j
            j += 1
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > level):
                j += 1
        if end is not None:
            found.append(Hole("block", name, body_start, starts[end] + len(lines[end].rstrip())))
    return found


@dataclass(frozen=True)
class Outcome:
    hole: Hole
    expected: str
    got: str
    exact: bool
    why: str


SETTINGS = Context()
TEMPLATE = TEMPLATES["starcoder"]
SPECIAL = tuple(dict.fromkeys((*TEMPLATE.special_tokens, *COMMON_SPECIAL)))


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.rstrip().split("\n")]


_CLOSING = re.compile(r"^\s*(?:[)\]}]+[;,)]*|end\b.*|fi|done|esac)?\s*$")


_CLOSES_ONLY = re.compile(r"^\s*[)\]}][^{(\[]*$|^\s*(?:end|fi|done|esac)\b")


def new_code(text: str, hole: Hole, rng: random.Random) -> str:
    """The closing lines after the hole, then code from elsewhere in the file (a new unit)."""
    lines = text[hole.end :].split("\n")
    closing = 1  # the lines that only close what is open (`}`, `})`, `}()`), not `} else {`
    while closing < len(lines) and _CLOSES_ONLY.match(lines[closing]):
        closing += 1
    # a new statement at the level of the block's header, or an outer one, after a blank line
    header = text[: hole.start].rstrip("\n \t").rsplit("\n", 1)[-1]
    other = text.split("\n")
    starts = [i for i, ln in enumerate(other) if ln.strip() and not _COMMENT.match(ln)
              and i > 0 and not other[i - 1].strip()
              and _indent(ln) <= _indent(header) and not _CLOSING.match(ln)]
    at = rng.choice(starts) if starts else 0
    return "\n".join(lines[:closing]) + "\n\n" + "\n".join(other[at : at + 12])[:300]


def run_hole(language: str, text: str, hole: Hole, overrun_max: int = 400,
             other_code: bool = False) -> Outcome:
    rng = random.Random(f"{hole.path}:{hole.start}:{hole.kind}:{other_code}")
    expected = text[hole.start : hole.end]
    overrun = text[hole.end : hole.end + rng.randint(30, 400)] if overrun_max else ""
    if other_code:
        overrun = new_code(text, hole, rng)
    doc_text = text[: hole.start] + text[hole.end :]
    line = doc_text.count("\n", 0, hole.start)
    index = hole.start - (doc_text.rfind("\n", 0, hole.start) + 1)
    doc = Document("file:///bench/hole", doc_text, language)
    win = window(doc, line, index, SETTINGS)
    cleanup = Cleanup(
        prompt=TEMPLATE.render(win.prefix, win.suffix), prefix=win.prefix, suffix=win.suffix,
        line_after=win.line_after, stops=(), special_tokens=SPECIAL,
        single_line=win.single_line, language_id=language,
    )
    got, replaced = clean_with_range(expected + overrun, cleanup)
    result = doc_text[: hole.start] + got + doc_text[hole.start + replaced :]
    exact = _lines(result) == _lines(text)
    return Outcome(hole, expected, got, exact, "" if exact else _why(expected, got, doc_text,
                                                                      hole.start))


def _why(expected: str, got: str, doc: str, cursor: str | int) -> str:
    """A rough name for what went wrong."""
    want, have = expected.rstrip(), got.rstrip()
    after = doc[int(cursor) :].lstrip()
    if not have:
        return "nothing kept"
    if have.startswith(want):
        extra = have[len(want) :].strip()
        if extra and after.startswith(extra.split("\n")[0].strip()):
            return "kept text the document has after the cursor"
        return "kept more than the block"
    if want.startswith(have):
        return f"stopped early (before {want[len(have):].strip()[:20]!r})"
    return "different text"


def exact_rate(language: str, offset: int = 0) -> tuple[float, int]:
    """The exact-block rate (%) on the language's holes, with an overrun, and their number."""
    found = [run_hole(language, text, hole) for name, text in files(language, offset)
             for hole in holes(language, name, text)]
    return _rate(found), len(found)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("languages", nargs="*", default=list(SOURCES))
    ap.add_argument("--misses", type=int, default=5)
    ap.add_argument("--fresh", action="store_true",
                    help=f"the next {FILES_PER_LANGUAGE} files of each language instead")
    args = ap.parse_args()
    offset = FILES_PER_LANGUAGE if args.fresh else 0
    print(f"{'language':<11} {'holes':>5} {'exact':>7} {'held-out':>9} {'no overrun':>11}"
          f" {'new code':>10}   by kind (exact %)")
    for language in args.languages:
        outcomes: list[tuple[bool, Outcome]] = []
        stopping: list[tuple[bool, Outcome]] = []  # the same holes, by a model that stops
        other: list[tuple[bool, Outcome]] = []  # blocks, then closers and code of its own
        for name, text in files(language, offset):
            for hole in holes(language, name, text):
                outcomes.append((held_out(name), run_hole(language, text, hole)))
                stopping.append((held_out(name), run_hole(language, text, hole, 0)))
                if hole.kind in ("body", "block"):
                    other.append((held_out(name), run_hole(language, text, hole, 0, True)))
        if not outcomes:
            print(f"{language:<11} no source files found on this machine")
            continue
        tune = [o for h, o in outcomes if not h]
        held = [o for h, o in outcomes if h]
        kinds: dict[str, list[bool]] = defaultdict(list)
        for _, o in outcomes:
            kinds[o.hole.kind].append(o.exact)
        by_kind = "  ".join(f"{k} {100 * sum(v) / len(v):.0f}" for k, v in sorted(kinds.items()))
        print(f"{language:<11} {len(outcomes):>5} {_rate(tune):>6.1f}% {_rate(held):>8.1f}%"
              f" {_rate([o for _, o in stopping]):>10.1f}% {_rate([o for _, o in other]):>9.1f}%"
              f"   {by_kind}", flush=True)
        misses = [o for o in tune if not o.exact]
        for why, n in Counter(o.why for o in misses).most_common():
            print(f"      {n:>3} × {why}")
        stopped = [o for h, o in stopping if not h and not o.exact]  # held-out files: unseen
        wandered = [o for h, o in other if not h and not o.exact]
        for o in [*misses[: args.misses], *stopped[: args.misses], *wandered[: args.misses]]:
            print(f"    - {o.hole.kind} {o.hole.path}: {o.why}")
            print(f"        want {o.expected[-160:]!r}")
            print(f"        got  {o.got[-160:]!r}")


def _rate(outcomes: list[Outcome]) -> float:
    return 100 * sum(o.exact for o in outcomes) / len(outcomes) if outcomes else 0.0


if __name__ == "__main__":
    main()
