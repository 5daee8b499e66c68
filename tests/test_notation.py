"""One symbol, one meaning: every chapter's notes keep to docs/notation.md.

The notes of a chapter are its docstrings, its comments and the strings its `main` draws
(titles, labels, legends). Every Greek letter in them must be a symbol of the notation
page's tables, and the uses that page retires must not come back.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

import pytest
from support.chapters import PACKAGE, ROOT, chapter_names

NOTATION = ROOT / "docs" / "notation.md"

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa "
    "lambda mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()
UNICODE = dict(zip(
    "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma "
    "tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi "
    "Omega".split(),
    strict=True,
))
COMMAND = re.compile(r"\\(" + "|".join(sorted(GREEK, key=len, reverse=True)) + r")(?![A-Za-z])")


def greek_in(text: str) -> set[str]:
    found = set(COMMAND.findall(text))
    found.update(UNICODE[ch] for ch in text if ch in UNICODE)
    return found


def notes(name: str) -> str:
    """Docstrings, comments and the strings of `main` of one chapter, joined."""
    source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
    parts = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                parts.append(doc)
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            parts.extend(
                sub.value for sub in ast.walk(node)
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            )
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            parts.append(token.string)
    return "\n".join(parts)


def allowed_symbols() -> set[str]:
    """The Greek letters in the first column of the notation page's symbol tables."""
    text = NOTATION.read_text(encoding="utf-8")
    tables = text.split("## Retired uses")[0]
    first_cells = [
        line.split("|")[1] for line in tables.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    return greek_in("\n".join(first_cells))


def test_the_notation_page_has_front_matter_and_is_linked_from_home() -> None:
    text = NOTATION.read_text(encoding="utf-8")
    assert re.match(r"---\ntitle: Notation\nsummary: .+\n---\n", text)
    assert "(notation.md)" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")


def test_the_retired_letters_are_not_symbols() -> None:
    allowed = allowed_symbols()
    assert "alpha" not in allowed
    assert {"eta", "beta", "lambda", "mu", "rho", "epsilon", "theta"} <= allowed


# A chapter may name the letter a paper uses, in exactly this form.
PAPERS_NAME = re.compile(r"the paper's \$\\alpha\$")


@pytest.mark.parametrize("name", chapter_names())
def test_every_greek_letter_is_in_the_notation_page(name: str) -> None:
    unknown = greek_in(PAPERS_NAME.sub("", notes(name))) - allowed_symbols()
    assert not unknown, f"{name}: {sorted(unknown)} are not symbols of docs/notation.md"


# (chapter, pattern, what it was): each pattern is a retired use of a symbol.
RETIRED = [
    ("*", r"\\alpha(?![A-Za-z])|α", "alpha: the learning rate is eta, RMSprop's constant beta"),
    ("lamb", r"\\rho(?![A-Za-z])|ρ", "rho is RAdam's SMA length only"),
    ("lamb", r"(?<![A-Za-z\\])r_(t|\{|1)|\$r\$|\\lVert r|\bu = r\b", "r_t is RAdam's only"),
    ("lamb", r"(?<![A-Za-z\\])x_(t|\{|l)|\\lVert x|\\Delta x|\$x\$", "parameters are theta"),
    ("warmup", r"r \+ \(1 - r\)|floor \$r\$", "the cosine floor is omega_min"),
    ("warmup", r"\\eta_k|\$k\$|\$k =|\{k\}|k / W", "the step is t"),
    ("noam", r"\\eta_k|\$k|k\^\{|k \\,|\(k\)|k \\cdot|\bw\^\{|\$w\$|w = 4000", "t and W"),
    ("adamw", r"(?<![A-Za-z\\])s_t|s_\{t", "Adam's denominator is D_t (s_t is AdaBelief's)"),
    ("adamw", r"\\eta_t\s*=\s*\\mathrm\{lr\}|\\eta_t\\lambda|\\eta_t\s*\\left", "multiplier"),
    ("sgd", r"\\lambda_|\\lambda\s*\\theta_i|\\eta\\lambda(?![A-Za-z])", "curvature is h"),
    ("sgd", r"\\phi|φ", "the look-ahead point is tilde theta"),
    ("radam", r"\\tau|\\mu(?![A-Za-z])", "tau is dampening, mu momentum"),
    ("adam", r"\\gamma|\\delta", "gamma is a clipping constant, delta Adagrad's lr_decay"),
    ("rmsprop", r"(?<![A-Za-z\\])q_t|(?<![A-Za-z\\])s_t", "s_t is AdaBelief's"),
    ("nadam", r"\\psi|ψ|\\phi|φ", "momentum decay is nu, the look-ahead point tilde theta"),
    ("adamax", r"(?<![A-Za-z\\])u_(\{t-1\}|0|1)|u_t\s*(=|\\ge|\\equiv)|/\s*u_t|\{u_t\}",
     "the infinity norm is n_t (u_t is LAMB's)"),
    ("adafactor", r"\\rho_t\s*=|\\rho_t,|\\rho_t\$,|\\alpha_t|\)/d\b|\$d\$",
     "relative step eta^rel_t, step size eta^abs_t, clipping threshold gamma"),
]


@pytest.mark.parametrize("name", chapter_names())
def test_no_retired_use(name: str) -> None:
    text = PAPERS_NAME.sub("", notes(name))
    for chapter, pattern, why in RETIRED:
        if chapter in ("*", name):
            hit = re.search(pattern, text)
            assert hit is None, f"{name}: {hit.group(0)!r} ({why})"


def test_the_checks_can_fail() -> None:
    """The pattern table and the Greek check catch what they are meant to catch."""
    assert greek_in(r"$\alpha_t$ and ρ") == {"alpha", "rho"}
    assert greek_in(PAPERS_NAME.sub("", r"the paper's $\alpha$, then $\alpha_t$")) == {"alpha"}
    assert "alpha" not in allowed_symbols()
    assert re.search(RETIRED[0][1], r"smoothing constant $\alpha$")
    assert re.search(RETIRED[2][1], r"$r_t = \hat m_t$")
    assert not re.search(RETIRED[2][1], r"$\lVert u_t \rVert$ and $q_t$")
