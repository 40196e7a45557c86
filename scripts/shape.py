"""Check the package's shape: module and function sizes, and no import cycle inside hf_lsp.

    .venv/bin/python scripts/shape.py            # prints what is over, exits 1 if anything is

Limits: a module of at most MODULE_LINES lines, a function of at most FUNCTION_LINES.
KNOWN_LARGE lists what is over today, with its size then: a listed module or function may
shrink but not grow, and a new one may not join it. Imports inside functions are run-time
imports and do not count towards cycles; ``if TYPE_CHECKING:`` imports do not either.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hf_lsp"
MODULE_LINES = 400
FUNCTION_LINES = 60

# what is over the limits today (lines then); it may only shrink
KNOWN_LARGE: dict[str, int] = {
    "hf_lsp/config/settings.py": 939,
    "hf_lsp/completion/service.py": 820,
    "hf_lsp/backends/http.py": 542,
    "hf_lsp/language/functions.py": 470,
    "hf_lsp/lsp/features/actions.py": 452,
    "hf_lsp/generation/client.py": 436,
    "hf_lsp/actions/catalog.py": 430,
    "hf_lsp/completion/chat_fim.py": 401,
}
KNOWN_LONG: dict[str, int] = {
    "hf_lsp/actions/catalog.py:plan": 80,
    "hf_lsp/completion/service.py:build_request": 100,
    "hf_lsp/completion/service.py:complete": 84,
    "hf_lsp/generation/client.py:generate": 78,
    "hf_lsp/generation/client.py:generate_long": 68,
    "hf_lsp/lsp/features/actions.py:run_action": 97,
    "hf_lsp/lsp/features/actions.py:register": 61,
    "hf_lsp/lsp/features/completion.py:register": 93,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(tree: ast.Module, name: str, is_package: bool) -> set[str]:
    """The hf_lsp modules ``tree`` imports at import time (not in functions, not typing-only)."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                            ast.ClassDef)) else ():
            if isinstance(sub, ast.Import):
                found.update(a.name for a in sub.names if a.name.startswith("hf_lsp"))
            elif isinstance(sub, ast.ImportFrom) and sub.module:
                base = sub.module
                if sub.level:
                    package = name if is_package else name.rpartition(".")[0]
                    for _ in range(sub.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{sub.module}"
                if base.startswith("hf_lsp"):
                    found.add(base)
                    found.update(f"{base}.{a.name}" for a in sub.names)
    return found


def functions(tree: ast.Module, rel: str) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
            out.append((f"{rel}:{node.name}", node.end_lineno - node.lineno + 1))
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each found once from its smallest module."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def check() -> list[str]:
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    modules = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    for name, path in modules.items():
        rel = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        allowed = KNOWN_LARGE.get(rel, MODULE_LINES)
        if lines > allowed:
            problems.append(f"{rel}: {lines} lines (limit {allowed})")
        tree = ast.parse(text)
        for fn, length in functions(tree, rel):
            limit = KNOWN_LONG.get(fn, FUNCTION_LINES)
            if length > limit:
                problems.append(f"{fn}: {length} lines (limit {limit})")
        imported = top_level_imports(tree, name, path.name == "__init__.py")
        graph[name] = {m for m in imported if m in modules and m != name}
    for cycle in cycles(graph):
        problems.append("import cycle: " + " -> ".join(cycle))
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
