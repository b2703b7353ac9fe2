"""The code stays clean: ruff's checks and formatting (configured in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_code_is_formatted():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_the_layers_hold():
    """`.importlinter`: config > reports > ill > fees > notifications | patrons > core, and no import circle
    between the modules of any package. A new upward import fails here."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_import_is_hidden_inside_a_function():
    """An import inside a function is how a circle hides from the linter; only Django's own
    conventions (AppConfig.ready, migrations) are left to it."""
    offenders = []
    for package in ("config", "core", "ill", "fees", "notifications", "patrons", "reports"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                stripped = line.lstrip()
                if line != stripped and (stripped.startswith("from ") or stripped.startswith("import ")):
                    if stripped.startswith("from ") and " import " not in stripped:
                        continue
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []
