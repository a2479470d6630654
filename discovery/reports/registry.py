"""Section builders, keyed by a result folder's manifest ``kind``.

A report is a summary, one section per kind of result, a methods paragraph
with references, software versions and provenance. Each section comes from a
*section builder*: a callable that takes every result folder of its kind and
returns a :class:`Section`. New capabilities plug in by registering a builder
for their kind; a kind without one is still reported by the generic builder
(manifest and flattened metrics), never dropped.

Examples
--------
Registering a builder for a new kind::

    from discovery.reports.registry import Section, register_section

    @register_section("screening.search")
    def screening_section(results, options):
        return Section(id="screening", title="Similarity screening", html="<p>...</p>")

Built-in builders are registered by import path (``"module:function"``) so
that importing :mod:`discovery.reports` stays light.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, Union

from ..data.registry import Citation

if TYPE_CHECKING:
    from .results import ResultFolder


# A work cited in the methods paragraph: the same record the dataset registry
# keeps for dataset citations (key, text, doi, url; ``str()`` gives "text doi:...").
Reference = Citation


@dataclass
class SummaryItem:
    """One headline in the report summary.

    Attributes
    ----------
    what : str
        What was run, e.g. ``"ESOL · logp · D-MPNN ensemble"``.
    headline : str
        The main number with its uncertainty, e.g. ``"test RMSE 0.62 ± 0.03"``.
    detail : str
        Supporting text (seeds, split, sizes).
    """

    what: str
    headline: str
    detail: str = ""


@dataclass
class Section:
    """A finished report section.

    Attributes
    ----------
    id : str
        HTML id (anchor) of the section, unique in the report.
    title : str
        Heading.
    html : str
        Body markup, already escaped; may contain ``[@key]`` citation markers.
    summary : list of SummaryItem
        Headlines for the report's summary.
    methods : str
        Methods paragraph markup (escaped) with ``[@key]`` citation markers.
    references : list of Reference
        Works cited by ``html`` and ``methods``.
    n_figures : int
        Figures in ``html`` (for the table of contents).
    """

    id: str
    title: str
    html: str
    summary: list[SummaryItem] = field(default_factory=list)
    methods: str = ""
    references: list[Reference] = field(default_factory=list)
    n_figures: int = 0


@dataclass
class ReportOptions:
    """Options every section builder receives.

    Attributes
    ----------
    baseline : Path or None
        JSON file with peer results (e.g. ``benchmarks/results/molprop_vs_chemprop.json``).
    top_n : int
        Molecules to draw in "top predicted" panels.
    ad_threshold : float
        Applicability domain: a molecule whose maximum Tanimoto similarity to
        the training set is below this is flagged "outside domain".
    max_plot_targets : int
        Per group, figures are drawn for at most this many targets (all
        targets stay in the tables).
    """

    baseline: Path | None = None
    top_n: int = 8
    ad_threshold: float = 0.3
    max_plot_targets: int = 4


SectionBuilder = Callable[[Sequence["ResultFolder"], ReportOptions], Section]

#: kind -> builder, or "module:function" resolved on first use.
SECTION_BUILDERS: dict[str, Union[SectionBuilder, str]] = {
    "molprop.train": "discovery.reports.sections.molprop:build_section",
    "targets.evaluate": "discovery.reports.sections.targets:build_evaluate",
    "targets.rank": "discovery.reports.sections.targets:build_rank",
    "targets.dta": "discovery.reports.sections.targets:build_dta",
    **{k: "discovery.reports.sections.screening:build_section" for k in (
        "screening.index", "screening.search", "screening.cluster", "screening.pick", "screening.select",
        "screening.active_learning")},
    "cohorts.screen": "discovery.reports.sections.cohorts:build_section",
    "cohorts.parser_eval": "discovery.reports.sections.cohorts:build_section",
    "cohorts.synth": "discovery.reports.sections.cohorts:build_section",
    **{k: "discovery.reports.sections.literature:build_section" for k in (
        "literature.evaluate", "literature.extract", "literature.summary", "literature.ingest")},
}
#: Used for kinds that have no builder.
GENERIC_BUILDER = "discovery.reports.sections.generic:build_section"


def register_section(kind: str, builder: SectionBuilder | str | None = None, *, replace: bool = False):
    """Register the section builder for result folders of ``kind``.

    Parameters
    ----------
    kind : str
        Manifest ``kind``, e.g. ``"screening.search"``.
    builder : callable or str, optional
        ``builder(results, options) -> Section``, or ``"module:function"``.
        Omit it to use this as a decorator.
    replace : bool
        Allow replacing an existing registration.

    Raises
    ------
    ValueError
        ``kind`` is already registered and ``replace`` is false.
    """

    def _add(fn: SectionBuilder | str) -> SectionBuilder | str:
        if kind in SECTION_BUILDERS and not replace and SECTION_BUILDERS[kind] is not fn:
            raise ValueError(f"a section builder for kind {kind!r} is already registered")
        SECTION_BUILDERS[kind] = fn
        return fn

    if builder is None:
        return _add
    return _add(builder)


def _resolve(spec: SectionBuilder | str) -> SectionBuilder:
    if callable(spec):
        return spec
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def get_section_builder(kind: str) -> SectionBuilder:
    """The builder for ``kind``; the generic builder when none is registered."""
    spec = SECTION_BUILDERS.get(kind)
    if spec is None:
        return _resolve(GENERIC_BUILDER)
    fn = _resolve(spec)
    SECTION_BUILDERS[kind] = fn
    return fn
