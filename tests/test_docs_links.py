"""The README and docs/ hold together: every relative link reaches a file of the repository (and
a heading there, when it names one), no table row is too wide to read, and nothing in the
repository points at a file outside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from repo_paths import REPO

from automl_bench.config_reference import anchor

PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
MAX_TABLE_ROW = 320  # about 300: a row that still reads on one screen
# files that lived beside the repository while it was built, never inside it
OUTSIDE = re.compile(r"STYLE\.md|DESIGN\.md|ANCHORS\.md|\.\./shared/")


def _prose(page: Path) -> str:
    """The page without its fenced code blocks."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", _prose(page), flags=re.MULTILINE)
    return {anchor(h) for h in headings}


def _relative_links(page: Path) -> list[str]:
    return [t for t in LINK.findall(_prose(page)) if not re.match(r"[a-z]+:", t)]


def test_there_are_pages_and_links_to_check() -> None:
    assert REPO / "docs" / "index.md" in PAGES
    assert len(_relative_links(REPO / "README.md")) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = [t for t in _relative_links(page) if not _resolves(page, t)]
    assert not broken, f"{page.name}: links to nothing: {broken}"


def _resolves(page: Path, target: str) -> bool:
    """The link's file is in the repository, and so is its heading, when it names one."""
    path, _, fragment = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    if not file.exists() or REPO not in (file, *file.parents):
        return False
    return not fragment or file.suffix != ".md" or fragment in _anchors(file)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_table_row_is_too_wide(page: Path) -> None:
    rows = [r for r in _prose(page).splitlines() if r.startswith("|")]
    wide = [r[:60] for r in rows if len(r) > MAX_TABLE_ROW]
    assert not wide, f"{page.name}: table rows over {MAX_TABLE_ROW} characters: {wide}"


def test_the_index_links_every_page_of_docs() -> None:
    index = REPO / "docs" / "index.md"
    linked = {target.partition("#")[0] for target in _relative_links(index)}
    pages = {page.name for page in PAGES if page.parent == index.parent} - {"index.md"}
    assert pages <= linked, f"not linked from docs/index.md: {sorted(pages - linked)}"


def test_the_readme_is_a_front_door() -> None:
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_nothing_in_the_repository_points_outside_it() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    this_file = Path(__file__).resolve().relative_to(REPO).as_posix()
    hits = []
    for name in tracked:
        path = REPO / name
        if name == this_file or not path.is_file() or path.suffix in {".png", ".db", ".pkl"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        hits += [f"{name}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not hits, hits
