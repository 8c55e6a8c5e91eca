"""ARCHITECTURE.md is the map of the package: every module and data file under src/payerpolicy is named in its
section "The modules, stage by stage", under its own package, and nothing named there is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "payerpolicy"


def _section() -> dict[str, str]:
    """The section's text, by the package each bullet is about (`` for the top level's bullets)."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## The modules, stage by stage", 1)[1].split("\n## ", 1)[0]
    bullets: dict[str, str] = {}
    for bullet in re.split(r"\n- ", section)[1:]:
        package = re.match(r"`(\w+)/`:", bullet)
        key = package[1] if package else ""
        bullets[key] = bullets.get(key, "") + bullet
    return bullets


def test_every_module_is_named_under_its_package():
    bullets = _section()
    missing = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if path.is_dir() or "__pycache__" in rel.parts or rel.parts[0] in ("schemas",) or "page" in rel.parts:
            continue
        if rel.name == "__init__.py" and len(rel.parts) > 1:
            continue  # a package is named by its folder
        package = rel.parts[0] if len(rel.parts) > 1 else ""
        if f"`{rel.name}`" not in bullets.get(package, ""):
            missing.append(rel.as_posix())
    assert not missing, f"name these in ARCHITECTURE.md, under their package: {missing}"


def test_every_module_named_is_there():
    bullets = _section()
    gone = []
    for package, text in bullets.items():
        for name in re.findall(r"`([\w.]+\.(?:py|json))`", text):
            if package == "" and name.endswith(".schema.json"):
                continue
            where = PACKAGE / package / name if package else PACKAGE / name
            if not where.exists() and not (package == "" and (PACKAGE / "schemas" / name).exists()):
                gone.append(f"{package}/{name}" if package else name)
    assert not gone, f"ARCHITECTURE.md names modules that are not in the tree: {gone}"
    assert {"cli", "judge", "claims", "policy", "rules", "program", "render"} <= set(bullets)
    for folder in PACKAGE.iterdir():
        if folder.is_dir() and (folder / "__init__.py").exists():
            assert folder.name in bullets, f"ARCHITECTURE.md has no bullet for {folder.name}/"
