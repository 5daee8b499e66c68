"""The `literate` mkdocs plugin: a package of chapter modules becomes a site.

    plugins:
      - search
      - literate:
          chapters: labml_optim     # the chapter package, relative to mkdocs.yml
          figure_workers: 2         # chapters' `main` run at once
          figure_timeout: 600       # seconds before a `main` fails the build (and is killed)
          cache_dir: .cache/figures # figures, keyed by a hash of the chapter's source
          node_modules: null        # where `katex` is installed (default: looked up)
          offline: true             # search works when the site is opened from disk

This is the only module that imports mkdocs; what it does lives in `site.Site`.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as opt
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from .figures import VARIANTS, variant_path
from .search import search_text
from .site import (
    KATEX_DIR,
    Site,
    SiteError,
    SiteOptions,
    relative_root_links,
    write_search_script,
)

log = logging.getLogger("mkdocs.plugins.literate")

STYLESHEET = Path(__file__).with_name("literate.css")
FILE_WORKER = Path(__file__).with_name("file_worker.js")
FILE_WORKER_URI = "js/literate-file-worker.js"
# The interactive r_t chart, loaded only by pages that show an `img.lo-rt-chart`.
RT_CHART = Path(__file__).with_name("rt_chart.js")
RT_CHART_URI = "js/literate-rt-chart.js"
# What chapter pages need from Markdown; added when mkdocs.yml does not name them.
EXTENSIONS: dict[str, dict[str, Any]] = {
    "attr_list": {},
    "md_in_html": {},
    "toc": {"permalink": True},
    "pymdownx.superfences": {},
}
# Line anchors named after each line (`anchor_linenums`, `line_spans`), numbers in a gutter.
HIGHLIGHT = {"anchor_linenums": True, "line_spans": "__span", "linenums_style": "table"}


class _Positive(opt.Type):
    """A number above zero (an int when `kind` is int)."""

    def run_validation(self, value: object) -> Any:
        if isinstance(value, bool):
            raise opt.ValidationError(f"Expected a number above zero but received: {value!r}")
        value = super().run_validation(value)
        if not value > 0:
            raise opt.ValidationError(f"Expected a number above zero but received: {value!r}")
        return value


class LiteratePlugin(BasePlugin):
    config_scheme = (
        ("chapters", opt.Type(str, default="labml_optim")),
        ("figure_workers", _Positive(int, default=2)),
        ("figure_timeout", _Positive((int, float), default=600)),
        ("cache_dir", opt.Type(str, default=".cache/figures")),
        ("node_modules", opt.Optional(opt.Type(str))),
        ("offline", opt.Type(bool, default=True)),
    )

    site: Site | None = None
    _served: dict[str, str]

    def __init__(self) -> None:
        super().__init__()
        self._served = {}

    def _site(self) -> Site:
        if self.site is None:
            raise PluginError("literate: on_config has not run")
        return self.site

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        project = Path(config.config_file_path).resolve().parent
        chapters = (project / self.config["chapters"]).resolve()
        if not chapters.is_dir():
            raise PluginError(f"literate: option 'chapters': directory not found: {chapters}")
        own = Path(__file__).resolve().parent
        theirs = chapters / "literate"
        if (theirs / "mkdocs_plugin.py").is_file() and theirs.resolve() != own:
            raise PluginError(
                f"literate: the plugin was imported from {own}, but the chapters have their own "
                f"engine in {theirs}; run `python -m mkdocs` in {project} (or put it first on "
                "PYTHONPATH) so the build renders the checkout it runs from"
            )
        modules = self.config["node_modules"]
        self.site = Site(
            SiteOptions(
                project_dir=project,
                chapters_dir=chapters,
                docs_dir=Path(config.docs_dir).resolve(),
                cache_dir=(project / self.config["cache_dir"]).resolve(),
                node_modules=(project / modules).resolve() if modules else None,
                figure_workers=self.config["figure_workers"],
                figure_timeout=float(self.config["figure_timeout"]),
            ),
            log=log.info,
        )
        _install_log_filter(self.site)
        for name, settings in EXTENSIONS.items():
            if name not in config.markdown_extensions:
                config.markdown_extensions.append(name)
            for key, value in settings.items():
                config.mdx_configs.setdefault(name, {}).setdefault(key, value)
        if "pymdownx.highlight" not in config.markdown_extensions:
            config.markdown_extensions.append("pymdownx.highlight")
        config.mdx_configs.setdefault("pymdownx.highlight", {}).update(HIGHLIGHT)
        for css in (f"{KATEX_DIR}/katex.css", "css/literate.css"):
            if css not in config.extra_css:
                config.extra_css.append(css)
        if self.config["offline"]:
            # Read by mkdocs-material's base template into <head>, before its own scripts.
            polyfills = list(config.extra.get("polyfills") or [])
            if FILE_WORKER_URI not in polyfills:
                config.extra["polyfills"] = [*polyfills, FILE_WORKER_URI]
        return config

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        server.watch(str(self._site().options.chapters_dir))
        return server

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        site = self._site()
        try:
            site.load(lambda name: files.get_file_from_path(name) is not None)
            for page in site.chapters:
                stem = page.entry.stem
                content = site.chapter_page(page)
                files.append(File.generated(config, f"{stem}.md", content=content))
                files.append(File.generated(config, f"{stem}.py",
                                            abs_src_path=str(page.entry.path)))
                files.append(File.generated(config, f"{stem}.png",
                                            abs_src_path=str(page.figure)))
                for variant in VARIANTS:  # dark, phone layout, phone layout dark
                    files.append(File.generated(
                        config, f"{stem}.{variant}.png",
                        abs_src_path=str(variant_path(page.figure, variant))))
            docs = [f for f in files.documentation_pages() if f.generated_by is None]
            for file in docs:
                new = site.docs_page(file.src_uri, file.content_string)
                if new is not None:
                    file.content_string = new
            config.nav = site.nav([f.src_uri for f in docs])
            # Math first: a TeX error is reported in a second, before any figure is drawn.
            site.render_math()
            for path, source in site.katex_files():
                if isinstance(source, str):
                    files.append(File.generated(config, path, content=source))
                else:
                    files.append(File.generated(config, path, abs_src_path=str(source)))
            if files.get_file_from_path("css/literate.css") is None:
                files.append(File.generated(config, "css/literate.css",
                                            abs_src_path=str(STYLESHEET)))
            files.append(File.generated(config, RT_CHART_URI, abs_src_path=str(RT_CHART)))
            if self.config["offline"]:
                files.append(File.generated(config, FILE_WORKER_URI,
                                            abs_src_path=str(FILE_WORKER)))
            site.draw_figures()
        except SiteError as exc:
            raise PluginError(str(exc)) from None
        return files

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig,
                         files: Files) -> str:
        chapter = self._site().chapter_for(page.file.src_uri)
        if chapter is not None and page.file.generated_by is not None:
            page.meta.setdefault("title", chapter.entry.title)
            titles = [c.entry.title for c in self._site().chapters]
            boost = prefix_boost(chapter.entry.title, titles)
            if boost > 1:
                page.meta.setdefault("search", {}).setdefault("boost", boost)
        return markdown

    def on_page_content(self, html: str, page: Page, config: MkDocsConfig,
                        files: Files) -> str:
        site = self._site()
        try:
            html, anchors = site.page_html(page.file.src_uri, html)
        except SiteError as exc:
            raise PluginError(str(exc)) from None
        if page.present_anchor_ids is not None:
            page.present_anchor_ids |= anchors
        site.retitle(list(page.toc))
        return html

    # The search plugin indexes `page.content` in its on_page_context (priority 0): it sees
    # the page without glyph HTML, code cells, § and download link, then the page is back.
    @event_priority(100)
    def _search_content(self, context: Any, *, page: Page, config: MkDocsConfig,
                        nav: Any) -> Any:
        if page.content is not None:
            self._served[page.file.src_uri] = page.content
            page.content = search_text(page.content)
        return context

    @event_priority(-100)
    def _restore_content(self, context: Any, *, page: Page, config: MkDocsConfig,
                         nav: Any) -> Any:
        served = self._served.pop(page.file.src_uri, None)
        if served is not None:
            page.content = served
        return context

    on_page_context = CombinedEvent(_search_content, _restore_content)

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        output = self._site().post_page(output, page.url, page.file.src_uri)
        if self.config["offline"]:
            # In <head> the polyfill blocks the parser until it is fetched: inline it.
            output = inline_script(output, page.url, FILE_WORKER_URI, FILE_WORKER)
        return add_script_if(output, page.url, 'class="lo-rt-chart"', RT_CHART_URI)

    @event_priority(-100)  # after the search plugin has written its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.config["offline"]:
            write_search_script(Path(config.site_dir))

    def on_post_template(self, output_content: str, template_name: str,
                         config: MkDocsConfig) -> str:
        if template_name == "404.html":
            return relative_root_links(output_content)
        return output_content


def prefix_boost(title: str, titles: list[str]) -> int:
    """The search boost of a chapter: 1 + 2 for each other chapter whose title starts with
    its name and goes on (AdamW and Adamax for Adam).

    The search matches a typed word also as a prefix, and a longer, rarer name (AdamW)
    scores above the common word it extends (Adam, which every later chapter mentions);
    the boost puts the chapter named by the word first (measured on this site: 2 leaves
    AdamW above Adam for "Adam", 3 does not). A query for the longer name does not match
    the shorter one, so it is unaffected. The boost counts for every section of the page.
    """
    name = title.split()[0].lower() if title.split() else ""
    if not name:
        return 1
    longer = [t for t in titles if t.split() and t.split()[0].lower() != name
              and t.split()[0].lower().startswith(name)]
    return 1 + 2 * len(longer)


def add_script_if(html: str, page_url: str, marker: str, uri: str) -> str:
    """Adds `<script src=uri defer>` (relative to the page) when `marker` is in the page."""
    if marker not in html or "</body>" not in html:
        return html
    src = posixpath.relpath(uri, posixpath.dirname(page_url) or ".")
    at = html.rindex("</body>")
    return f'{html[:at]}<script src="{src}" defer></script>\n{html[at:]}'


def inline_script(html: str, page_url: str, uri: str, source: Path) -> str:
    """Puts the text of `source` in place of the page's `<script src=uri></script>`."""
    src = posixpath.relpath(uri, posixpath.dirname(page_url) or ".")
    tag = f'<script src="{src}"></script>'
    if tag not in html:
        return html
    text = source.read_text(encoding="utf-8").replace("</", "<\\/")
    return html.replace(tag, f"<script>{text}</script>", 1)


class _NameChapterFiles(logging.Filter):
    """Adds the chapter file to mkdocs' warnings about a generated chapter page."""

    def __init__(self, site: Site) -> None:
        super().__init__()
        self.site = site

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        found = re.match(r"Doc file '([^']+\.md)'", message)
        chapter = self.site.chapter_for(found.group(1)) if found else None
        if found is not None and chapter is not None:
            record.msg = message.replace(found.group(0), f"{found.group(0)} (from {chapter.rel})",
                                         1)
            record.args = ()
        return True


def _install_log_filter(site: Site) -> None:
    pages_log = logging.getLogger("mkdocs.structure.pages")
    for old in list(pages_log.filters):
        if isinstance(old, _NameChapterFiles):
            pages_log.removeFilter(old)  # one left by an earlier build under `mkdocs serve`
    pages_log.addFilter(_NameChapterFiles(site))
