"""Literate pages from Python source: notes beside the code they explain.

`parse` cuts a module into sections (Markdown notes, code with real line numbers),
`load_chapter` + `render_page` turn a chapter file into one Markdown page of
side-by-side rows, `extract_math` / `render_math` / `substitute_math`
pre-render its TeX with KaTeX, and `draw_figure` runs a chapter's `main` for its
figure. `python -m labml_optim.literate --help` shows the command line. Only the
standard library is used (KaTeX runs under node).
"""

from .figures import FigureError, draw_figure, figure_path
from .math import MathError, MathItem, extract_math, render_math, substitute_math
from .parse import Section, parse, read_front_matter, split_front_matter
from .render import (
    Chapter,
    ChapterError,
    code_blocks,
    load_chapter,
    render_page,
    split_at_headings,
)

__all__ = [
    "Chapter",
    "ChapterError",
    "FigureError",
    "MathError",
    "MathItem",
    "Section",
    "code_blocks",
    "draw_figure",
    "extract_math",
    "figure_path",
    "load_chapter",
    "parse",
    "read_front_matter",
    "render_math",
    "render_page",
    "split_at_headings",
    "split_front_matter",
    "substitute_math",
]
