"""The package boundaries: who may import whom.

``api`` and ``worker`` are two processes that share ``store`` (the SQL) and
``core`` (configuration, errors, trace vocabulary, KB folder format) and
never import each other, so a change inside the worker cannot break the API
process. ``client`` (the ``c2xc`` command) speaks only the public HTTP API
and imports none of them. Every import statement of every module is walked,
including imports inside functions; a new violation fails here with its file
and line.
"""
import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUR_PACKAGES = {"api", "worker", "store", "core", "client"}
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "api": {"core", "store"},
    "worker": {"core", "store"},
    "client": set(),
}


def _imported_packages(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def violations() -> list[str]:
    found = []
    for package, allowed in ALLOWED.items():
        for path in sorted((REPO / package).rglob("*.py")):
            for line, module in _imported_packages(path):
                top = module.split(".")[0]
                if top in OUR_PACKAGES and top != package and top not in allowed:
                    found.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return found


def test_api_and_worker_import_store_and_core_never_each_other():
    assert violations() == []


def test_the_rule_walker_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from worker.loop import Worker\n")
    assert list(_imported_packages(sample)) == [(2, "worker.loop")]


def test_loading_the_api_app_loads_no_worker_module():
    probe = ("import sys\nimport api.app\n"
             "bad = sorted(m for m in sys.modules if m == 'worker' or m.startswith('worker.'))\n"
             "print(bad)\nsys.exit(1 if bad else 0)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
