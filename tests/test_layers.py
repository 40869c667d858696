"""`make lint` catches an import that points up the layers of docs/architecture.md.

Each case copies the source tree and pyproject.toml (its import-linter contracts) to a
temporary directory, adds one forbidden import to a module there and runs
`lint-imports` on the copy: it must fail and name the import. The unchanged copy
must pass, so the failure is the added line's doing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on ``tree``: its packages come first on the path (PYTHONPATH and
    the working directory), before the installed ones."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the packages and pyproject.toml on which lint-imports passes."""
    tree = tmp_path_factory.mktemp("pristine")
    for package in ("center", "gateway", "drivers", "simulators"):
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    clean = lint_imports(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    return tree


def add_import(module: Path, statement: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n{statement}  # noqa: E402\n")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("module", "imported", "verdict"),
    [
        # The acceptance case: proactive sits below views.
        ("gateway/proactive/digest.py", "gateway.views", "gateway.proactive -> gateway.views"),
        # The cycles the layers replaced: config -> views, the ticket history <-> proactive.
        ("gateway/config/site.py", "gateway.views.status", "gateway.config -> gateway.views"),
        ("gateway/tickets/history.py", "gateway.proactive", "gateway.tickets -> gateway.proactive"),
        # The bottom of the house, and the simulators beside it.
        ("drivers/snmp/base.py", "gateway.model", "drivers -> gateway.model"),
        ("simulators/cli.py", "drivers.snmp", "simulators -> drivers"),
    ],
)
def test_an_import_that_points_up_is_caught(
    pristine: Path, tmp_path: Path, module: str, imported: str, verdict: str
) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    add_import(tree / module, f"import {imported}")
    caught = lint_imports(tree)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "BROKEN" in caught.stdout, caught.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    importing, forbidden = verdict.split(" -> ")
    assert f"{importing} is not allowed to import {forbidden}:" in caught.stdout, caught.stdout
    assert re.search(
        rf"- +{re.escape(importer)} -> {re.escape(imported)} \(l\.\d+\)", caught.stdout
    )


@pytest.mark.integration
def test_make_lint_runs_lint_imports() -> None:
    planned = subprocess.run(
        ["make", "-n", "lint"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert any(line.endswith("/lint-imports --no-cache") for line in planned.splitlines())


def contract_layers() -> list[str]:
    """The layers contract of pyproject.toml, from the top."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    return [" | ".join(name.strip() for name in layer.split("|")) for layer in layers]


def test_every_module_of_the_gateway_has_its_layer() -> None:
    """A new package or top-level module takes its place in the contract: one left out
    would be free to import anything."""
    layers = contract_layers()
    listed = {name.strip() for layer in layers for name in layer.split("|")}
    present = {
        f"gateway.{path.stem}"
        for path in (ROOT / "gateway").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert present - listed == set()
    assert listed - present == {"drivers", "center"}


def test_docs_architecture_lists_the_layers_as_enforced() -> None:
    """docs/architecture.md shows the order from the bottom, as the contract has it."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Layers") :]
    block = section[section.index("```\n") + 4 : section.index("\n```", section.index("```\n"))]
    assert block.splitlines() == contract_layers()[::-1]
