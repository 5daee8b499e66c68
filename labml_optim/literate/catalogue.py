"""The catalogue: which modules are chapters, in which group and order they are read.

Every chapter says where it belongs in its module docstring's front matter:

    ---
    title: NAdam
    summary: One line for the chapter list.
    group: Optimizers
    order: 42
    ---

`discover(package_dir)` finds the chapters of a package:

- every top-level module whose name does not start with `_` is a chapter, and must have
  `title`, `summary`, `group` and a numeric `order` (a missing one is an error that names
  the file and line);
- in subpackages (`experiments/`, at any depth), a module with front matter is a chapter and
  is held to the same rules; a module without front matter (a helper, an `__init__`) is not.

Groups are read in the order of the smallest `order` in each group; chapters within a group
by `order`, then by name. Everything that lists chapters (the site's nav and home page, the
tests, the benchmark) reads this one catalogue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .render import Chapter, ChapterError, load_chapter

__all__ = ["CatalogueError", "Entry", "chapter_names", "discover", "groups", "listing"]

REQUIRED = ("title", "summary", "group", "order")


class CatalogueError(ValueError):
    """Chapters that cannot be listed; one `file:line: message` line per problem."""


@dataclass
class Entry:
    """One chapter. `name` is its module path inside the package (`experiments.radam_x`)."""

    name: str
    module: str  # importable name: labml_optim.experiments.radam_x
    path: Path
    title: str
    summary: str
    group: str
    order: float
    chapter: Chapter

    @property
    def page(self) -> str:
        """The page's path in the site, mirroring the package: `experiments/radam_x.md`."""
        return self.name.replace(".", "/") + ".md"

    @property
    def stem(self) -> str:
        """`experiments/radam_x`: the page, the source download and the figure share it."""
        return self.name.replace(".", "/")


def _candidates(package_dir: Path) -> list[tuple[Path, bool]]:
    """(file, top_level) for every module that may be a chapter."""
    found = [(p, True) for p in sorted(package_dir.glob("*.py")) if not p.name.startswith("_")]
    for sub in sorted(p for p in package_dir.rglob("__init__.py") if p.parent != package_dir):
        parts = sub.parent.relative_to(package_dir).parts
        if any(part.startswith((".", "_")) for part in parts):
            continue
        if not all((package_dir / Path(*parts[: i + 1]) / "__init__.py").is_file()
                   for i in range(len(parts))):
            continue  # not importable as a subpackage
        found += [(p, False) for p in sorted(sub.parent.glob("*.py"))
                  if not p.name.startswith("_")]
    return found


def _order(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def discover(package_dir: str | Path, *, label: str | None = None) -> list[Entry]:
    """The chapters of the package at `package_dir`, in reading order.

    `label` is how error messages name the package directory (default: its path); every
    error is collected and raised together as `CatalogueError`.
    """
    package_dir = Path(package_dir)
    shown = label if label is not None else str(package_dir)
    if not package_dir.is_dir():
        raise CatalogueError(f"{shown}: chapter directory not found")
    errors: list[str] = []
    entries: list[Entry] = []
    for path, top in _candidates(package_dir):
        rel = path.relative_to(package_dir).with_suffix("")
        where = f"{shown}/{path.relative_to(package_dir).as_posix()}"
        try:
            chapter = load_chapter(path, strict=False, label=where)
        except ChapterError as exc:
            errors.append(str(exc))
            continue
        meta = chapter.meta
        if not top and not meta:
            continue  # a helper module of a subpackage
        missing = [key for key in REQUIRED if not meta.get(key)]
        if missing:
            keys = ", ".join(f"'{k}:'" for k in missing)
            errors.append(f"{where}:{chapter.meta_line}: front matter of the module docstring "
                          f"has no {keys} line")
            continue
        order = _order(meta["order"])
        if order is None:
            errors.append(f"{where}:{chapter.meta_line}: front matter 'order: {meta['order']}' "
                          "is not a number")
            continue
        entries.append(Entry(
            name=".".join(rel.parts),
            module=".".join((package_dir.name, *rel.parts)),
            path=path,
            title=meta["title"],
            summary=" ".join(meta["summary"].split()),
            group=meta["group"],
            order=order,
            chapter=chapter,
        ))
    if errors:
        raise CatalogueError("\n".join(errors))
    if not entries:
        raise CatalogueError(f"{shown}: no chapters found")
    first = {}
    for e in entries:
        first[e.group] = min(first.get(e.group, e.order), e.order)
    entries.sort(key=lambda e: (first[e.group], e.group, e.order, e.name))
    return entries


def groups(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    """The entries cut into their groups, keeping the reading order."""
    out: list[tuple[str, list[Entry]]] = []
    for entry in entries:
        if not out or out[-1][0] != entry.group:
            out.append((entry.group, []))
        out[-1][1].append(entry)
    return out


def listing(entries: list[Entry], *, link_prefix: str = "") -> str:
    """The Markdown chapter list of the home page: a `##` heading per group."""
    parts: list[str] = []
    for group, members in groups(entries):
        parts.append(f"## {group}\n")
        parts += [f"- [{e.title}]({link_prefix}{e.page}): {e.summary}" for e in members]
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def chapter_names(package_dir: str | Path | None = None) -> list[str]:
    """The chapters' names in reading order (default package: `labml_optim`)."""
    if package_dir is None:
        package_dir = Path(__file__).resolve().parent.parent
    return [e.name for e in discover(package_dir)]
