"""Every chapter ends with its sources, and its section references are links.

Each chapter's module docstring ends with a `## References` section (docs/conventions.md,
"References"): the papers with their arXiv or DOI link, and the authors' code where it
matters. The site shows it as the last row of the page. Every arXiv id cited is in
`CHECKED` below with its title: each was looked up (id, title, year and authors) when it
was added, so a mistyped id fails here rather than sending a reader to another paper.
"""

from __future__ import annotations

import re

import pytest
from support.site import REPO

from labml_optim.literate import load_chapter, render_page
from labml_optim.literate.catalogue import discover

CHAPTERS = discover(REPO / "labml_optim")

# arXiv id -> title, as checked against the arXiv listing.
CHECKED = {
    "1308.0850": "Generating Sequences With Recurrent Neural Networks",
    "1408.3595": "Analysis and Design of Optimization Algorithms via Integral Quadratic "
                 "Constraints",
    "1412.6980": "Adam: A Method for Stochastic Optimization",
    "1706.02677": "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
    "1608.03983": "SGDR: Stochastic Gradient Descent with Warm Restarts",
    "1706.03762": "Attention Is All You Need",
    "1708.03888": "Large Batch Training of Convolutional Networks",
    "1711.05101": "Decoupled Weight Decay Regularization",
    "1804.04235": "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost",
    "1904.00962": "Large Batch Optimization for Deep Learning: Training BERT in 76 Minutes",
    "1904.03590": "On the Convergence Proof of AMSGrad and a New Version",
    "1904.09237": "On the Convergence of Adam and Beyond",
    "1907.04164": "Which Algorithmic Choices Matter at Which Batch Sizes? Insights From a "
                  "Noisy Quadratic Model",
    "1908.03265": "On the Variance of the Adaptive Learning Rate and Beyond",
    "1910.04209": "On the Adequacy of Untuned Warmup for Adaptive Optimization",
    "2002.04745": "On Layer Normalization in the Transformer Architecture",
    "2010.07468": "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed "
                  "Gradients",
    "2102.06356": "A Large Batch Optimizer Reality Check: Traditional, Generic Optimizers "
                  "Suffice Across Batch Sizes",
    "2302.06675": "Symbolic Discovery of Optimization Algorithms",
    "2305.14342": "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model "
                  "Pre-training",
    "2405.15682": "The Road Less Scheduled",
    "2409.20325": "Old Optimizer, New Norm: An Anthology",
}
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def references(docstring: str) -> str:
    """The `## References` part of a module docstring ("" if none)."""
    found = re.search(r"^## References\n(.*)\Z", docstring, re.S | re.M)
    return found.group(1) if found else ""


def docstring_of(source: str) -> str:
    return source.split('"""', 2)[1]


@pytest.mark.parametrize("entry", CHAPTERS, ids=[e.stem for e in CHAPTERS])
def test_every_chapter_ends_its_docstring_with_references(entry) -> None:
    docstring = docstring_of(entry.path.read_text(encoding="utf-8"))
    refs = references(docstring)
    assert refs, f"{entry.stem}: no '## References' section at the end of the docstring"
    assert not re.search(r"^#{1,2} ", refs, re.M), "References must be the last section"
    items = re.split(r"^- ", refs.strip(), flags=re.M)[1:]
    assert items, f"{entry.stem}: References list no source"
    for item in items:
        links = LINK.findall(item)
        assert links, f"{entry.stem}: a reference without a link: {item!r}"
        for url in links:
            assert url.startswith("https://"), url
        for arxiv in re.findall(r"arxiv\.org/abs/([0-9.]+)", item):
            assert arxiv in CHECKED, f"{entry.stem}: arXiv {arxiv} was not checked"
            title = " ".join(item.split())
            assert CHECKED[arxiv].lower() in title.replace("*", "").lower(), (arxiv, item)


@pytest.mark.parametrize("entry", CHAPTERS, ids=[e.stem for e in CHAPTERS])
def test_the_references_are_the_last_row_of_the_page(entry) -> None:
    chapter = load_chapter(entry.path)
    page = render_page(chapter, figure=f"{entry.name}.png")
    last = page[page.rindex('<div class="lo-section'):]
    assert 'class="lo-section lo-prose"' in last
    assert "## References" in last


def test_every_section_reference_is_a_link() -> None:
    # "section 7", "Section 6", "§2", 'section "Before the threshold"' outside a link text.
    bare = re.compile(r"""(?<!\[)\b[Ss]ections? (\d|"|')|(?<!\[)§ ?\d""")
    found = []
    for entry in CHAPTERS:
        for number, line in enumerate(entry.path.read_text(encoding="utf-8").split("\n"), 1):
            if bare.search(line):
                found.append(f"{entry.path.name}:{number}: {line.strip()}")
    assert found == []
