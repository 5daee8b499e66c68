"""Command line for the literate page generator.

    python -m labml_optim.literate render FILE.py [--figure NAME.png] [--download URL] [--strict]

`render` prints the Markdown page of FILE.py to stdout (math left as TeX, for a
site that pre-renders it or for any Markdown tool with md_in_html). Without
`--strict` a module with no `title`/`summary` front matter is titled by its file
name; with it, missing front matter is an error. Errors go to stderr as
`file:line: message` and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .render import ChapterError, load_chapter, render_page


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m labml_optim.literate",
        description="Render a Python module as a side-by-side literate page (Markdown).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser(
        "render",
        help="print the Markdown page of one Python file",
        description="Print the Markdown page of FILE (notes beside code) to stdout.",
    )
    render.add_argument("file", metavar="FILE.py", help="the Python module to render")
    render.add_argument("--figure", metavar="NAME.png", help="image to show beside def main")
    render.add_argument("--download", metavar="URL", help="link to download the source file")
    render.add_argument("--strict", action="store_true", help="require title/summary front matter")
    args = parser.parse_args(argv)
    try:
        chapter = load_chapter(args.file, strict=args.strict)
        page = render_page(chapter, figure=args.figure, download=args.download)
    except ChapterError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{args.file}:1: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
