"""The domain must stay plain Python: importable with no Django installed or configured."""

import ast
import subprocess
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "chronicle" / "domain"


def test_no_module_in_the_domain_imports_django():
    offenders = []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] in ("django", "rest_framework", "celery")
            ]
    assert offenders == []


def test_the_domain_imports_without_django_configured():
    code = (
        "import sys; sys.modules['django'] = None\n"
        "import chronicle.domain.development, chronicle.domain.edtf, chronicle.domain.content\n"
        "print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=DOMAIN.parents[1])
    assert result.stdout.strip() == "ok", result.stderr
