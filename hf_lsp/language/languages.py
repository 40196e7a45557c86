"""One table of languages: file extensions, comment markers, block openers and closer lines.

Every part of hf-lsp that needs a language fact reads it here: the prompt's path comment,
the code actions' comment detection and writing, the cursor's spot, the clean-up of answers.
"""

from __future__ import annotations

import re

# what opens a block at the end of a line: `:` `{` `(` `[` `=>` `->` `do` `then` `else`
OPENS_BLOCK = re.compile(r"(?:[:{(\[]|=>|->|\bdo|\bthen|\belse)\s*$")
# a line that only closes blocks: brackets (with `;` `,` `)` after), `end`, `fi`, `done`, `esac`
CLOSER_LINE = re.compile(r"^\s*(?:[)\]}]+[;,)]*|end\b.*|fi|done|esac)\s*$")

LINE_COMMENT: dict[str, str] = {
    **dict.fromkeys(
        "python ruby shellscript sh bash zsh fish perl r yaml toml dockerfile makefile elixir "
        "julia nim crystal coffeescript powershell cmake".split(),
        "#",
    ),
    **dict.fromkeys(
        "c cpp objective-c objective-cpp java javascript javascriptreact typescript "
        "typescriptreact go rust swift kotlin csharp scala php dart zig groovy solidity "
        "verilog proto glsl hlsl cuda d v odin".split(),
        "//",
    ),
    **dict.fromkeys("lua sql haskell elm ada purescript".split(), "--"),
    **dict.fromkeys("lisp clojure scheme racket commonlisp fennel".split(), ";;"),
    **dict.fromkeys("erlang latex tex matlab prolog".split(), "%"),
    "vim": '"',
    "ocaml": "(*",
    "fsharp": "//",
}

EXTENSIONS: dict[str, str] = {
    "py": "python", "rb": "ruby", "sh": "shellscript", "bash": "shellscript", "pl": "perl",
    "r": "r", "yml": "yaml", "yaml": "yaml", "toml": "toml", "ex": "elixir", "exs": "elixir",
    "jl": "julia", "c": "c", "h": "c", "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "hpp": "cpp",
    "hh": "cpp", "m": "objective-c", "java": "java", "js": "javascript", "mjs": "javascript",
    "cjs": "javascript", "jsx": "javascriptreact", "ts": "typescript", "mts": "typescript",
    "tsx": "typescriptreact", "go": "go", "rs": "rust", "swift": "swift", "kt": "kotlin",
    "kts": "kotlin", "cs": "csharp", "scala": "scala", "php": "php", "dart": "dart",
    "zig": "zig", "lua": "lua", "sql": "sql", "hs": "haskell", "elm": "elm", "clj": "clojure",
    "lisp": "lisp", "scm": "scheme", "erl": "erlang", "tex": "latex", "vim": "vim",
    "ml": "ocaml", "fs": "fsharp", "cu": "cuda", "proto": "proto", "groovy": "groovy",
    "sol": "solidity", "cmake": "cmake", "ps1": "powershell", "nim": "nim",
}

COMMENT_CLOSE: dict[str, str] = {"(*": " *)"}


def language_from_path(path: str) -> str:
    """A VS Code language id guessed from a file name ("" when unknown)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in ("makefile", "gnumakefile"):
        return "makefile"
    if name == "dockerfile":
        return "dockerfile"
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return EXTENSIONS.get(ext, "")


def comment_marker(language: str) -> str:
    """The language's line comment (``//`` when the language is unknown)."""
    return LINE_COMMENT.get(language, "//")


def path_header(path: str, language_id: str) -> str:
    """A first comment line naming the file, in the language's comment syntax ("" if unknown)."""
    marker = LINE_COMMENT.get(language_id)
    if not marker or not path:
        return ""
    return f"{marker} Path: {path}{COMMENT_CLOSE.get(marker, '')}\n"
