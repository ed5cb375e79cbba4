"""The import graph, read from the source (imports inside functions included): the layers only
point down (core <- the stages ser, asr, tts <- analysis <- convert <- web <- commands), no
stage imports another, and no module imports itself back through others."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "emovc"
ALLOWED = {                         # package -> the project packages it may import
    "core": {"core"},
    "ser": {"core", "ser"},
    "asr": {"core", "asr"},
    "tts": {"core", "tts"},
    "analysis": {"core", "ser", "asr", "analysis"},
    "convert": {"core", "ser", "asr", "tts", "analysis", "convert"},
    "web": {"core", "ser", "asr", "tts", "analysis", "convert", "web"},
    "commands": {"core", "ser", "asr", "tts", "analysis", "convert", "web", "commands"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in ALLOWED:
        for path in sorted((PACKAGE / package).rglob("*.py")):
            parts = ("emovc", *path.relative_to(PACKAGE).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, anywhere in it (`from a import b` counts a.b when b is a module)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_the_graph_is_read():
    graph = _graph()
    assert "emovc.ser" in graph["emovc.analysis.analyzer"]
    assert "emovc.core.audio" in graph["emovc.ser.recognizer"] and "emovc.core.weights" in graph["emovc.ser.features"]
    assert "emovc.convert.runner" in graph["emovc.commands.detect"]


def test_layers_point_down_and_stages_do_not_import_each_other():
    wrong = sorted(f"{a} -> {b}" for a, targets in _graph().items() for b in targets
                   if b.split(".")[1] not in ALLOWED[a.split(".")[1]])
    assert not wrong, "imports against the layers: " + ", ".join(wrong)


def test_no_import_circle():
    graph, state, circles = _graph(), {}, []

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                circles.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ re-exporting its own modules is not a circle when they do not import it back
    assert not circles, "import circles: " + "; ".join(circles)
