"""The `literate` mkdocs plugin: options, serving, and a project outside this repository."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from support.site import FIXTURE_CHAPTERS, REPO, code_lines, mkdocs_build

from labml_optim.literate.catalogue import discover


def minimal_project(root: Path, options: dict | None = None) -> Path:
    """A project of its own: own mkdocs.yml, own chapter package, own home page."""
    project = root / "elsewhere"
    package = project / "toypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Two toy chapters."""\n')
    for path in FIXTURE_CHAPTERS.glob("*.py"):
        shutil.copy(path, package / path.name)
    docs = project / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Toys\n\n<!-- chapters -->\n", encoding="utf-8")
    config = {
        "site_name": "Toys",
        "use_directory_urls": False,
        "theme": {"name": "material", "font": False},
        "plugins": ["search", {"literate": {"chapters": "toypkg", **(options or {})}}],
    }
    (project / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return project


def test_a_project_outside_the_repo_builds_with_the_plugin(tmp_path: Path) -> None:
    project = minimal_project(tmp_path)
    assert not project.resolve().is_relative_to(REPO)
    out = tmp_path / "out"
    proc = mkdocs_build(project, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    nav = index[: index.index("<article")]
    groups = [re.search(rf">\s*{label}\s*<", nav) for label in ("Optimizers", "Schedules")]
    assert groups[0] and groups[1] and groups[0].start() < groups[1].start()
    article = index[index.index("<article") :]
    assert article.index('href="toy_descent.html"') < article.index('href="toy_schedule.html"')
    page = (out / "toy_descent.html").read_text(encoding="utf-8")
    shown, duplicates = code_lines(page)
    source = (FIXTURE_CHAPTERS / "toy_descent.py").read_text(encoding="utf-8")
    assert not duplicates and shown
    for number, text in shown.items():
        assert text.rstrip() == source.splitlines()[number - 1].rstrip()
    assert 'class="katex' in page and "lo-anchor" in page
    assert (out / "toy_descent.png").stat().st_size > 0
    assert (out / "css" / "literate.css").is_file() and (out / "css" / "katex" / "katex.css")
    assert 'href="css/literate.css"' in page
    # The figures were cached inside that project, not in this repository.
    assert list((project / ".cache" / "figures").glob("toy_descent-*.png"))


@pytest.mark.parametrize(
    ("option", "value"),
    [("figure_workers", "two"), ("figure_timeout", "soon"), ("figure_workers", 0),
     ("chapters", 3)],
)
def test_an_option_of_the_wrong_type_fails_naming_it(
    tmp_path: Path, option: str, value: object
) -> None:
    project = minimal_project(tmp_path, {option: value})
    proc = mkdocs_build(project, tmp_path / "out")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"Plugin 'literate' option '{option}'" in output, output
    assert "Traceback" not in output


def test_the_plugin_watches_the_chapters_when_serving(tmp_path: Path) -> None:
    from mkdocs.config import load_config

    project = minimal_project(tmp_path)
    cwd = os.getcwd()
    try:
        os.chdir(project)
        config = load_config(str(project / "mkdocs.yml"))
    finally:
        os.chdir(cwd)
    plugin = config.plugins["literate"]
    plugin.on_config(config)

    class Server:
        watched: list[str] = []

        def watch(self, path: str) -> None:
            self.watched.append(path)

    plugin.on_serve(Server(), config=config, builder=None)
    assert str((project / "toypkg").resolve()) in Server.watched


def test_the_catalogue_reads_subpackages(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "experiments").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "experiments" / "__init__.py").write_text('"""Not a chapter."""\n')
    (package / "experiments" / "_common.py").write_text("x = 1\n")
    (package / "experiments" / "helper.py").write_text('"""Helps."""\n')

    def chapter(title: str, group: str, order: int) -> str:
        return textwrap.dedent(f'''\
            """
            ---
            title: {title}
            summary: About {title}.
            group: {group}
            order: {order}
            ---
            """
            ''')

    (package / "b.py").write_text(chapter("B", "Optimizers", 20))
    (package / "a.py").write_text(chapter("A", "Optimizers", 30))
    (package / "s.py").write_text(chapter("S", "Schedules", 5))
    (package / "experiments" / "run.py").write_text(chapter("Run", "Experiments", 500))
    entries = discover(package)
    assert [e.name for e in entries] == ["s", "b", "a", "experiments.run"]
    run = entries[-1]
    assert run.page == "experiments/run.md" and run.module == "pkg.experiments.run"
    (package / "c.py").write_text('"""No front matter."""\n')
    with pytest.raises(ValueError, match=r"pkg/c\.py:1: .*'title:'.*'order:'"):
        discover(package, label="pkg")
