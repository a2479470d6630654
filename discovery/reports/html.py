"""HTML helpers for reports: escaping, number formatting, tables, the page template.

Everything the report shows goes through :func:`esc` or a Jinja2 template
with autoescaping, so text from result folders (SMILES, column names, paths)
can never break the page.
"""

from __future__ import annotations

import html as _html
import math
from typing import Any, Iterable, Sequence

NOT_REPORTED = "not reported"


def esc(value: Any) -> str:
    """HTML-escape ``str(value)`` (quotes included).

    ``@`` becomes ``&#64;`` as well, so text taken from result folders can never
    be read as a ``[@key]`` citation marker.
    """
    return _html.escape("" if value is None else str(value), quote=True).replace("@", "&#64;")


def _decimals(x: float) -> int:
    ax = abs(x)
    if ax == 0 or ax >= 100:
        return 1 if ax >= 100 else 3
    if ax >= 10:
        return 2
    return 3


def fmt_num(x: Any, decimals: int | None = None) -> str:
    """A number as the report prints it.

    3 decimals below 10, 2 below 100, 1 above; integers as integers;
    ``None``/non-numbers/NaN as ``"not reported"``.

    Examples
    --------
    >>> fmt_num(0.61234), fmt_num(12.3456), fmt_num(7), fmt_num(None)
    ('0.612', '12.35', '7', 'not reported')
    """
    if isinstance(x, bool) or x is None:
        return NOT_REPORTED
    if isinstance(x, int):
        return str(x)
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return NOT_REPORTED
    if not math.isfinite(xf):
        return NOT_REPORTED
    d = _decimals(xf) if decimals is None else decimals
    return f"{xf:.{d}f}"


def mean_sd(values: Iterable[Any]) -> tuple[float | None, float | None, int]:
    """Mean and sample standard deviation (ddof = 1) of the finite numbers in ``values``.

    Returns
    -------
    mean : float or None
        ``None`` when there is no finite number.
    sd : float or None
        ``None`` with fewer than two numbers.
    n : int
        How many numbers went in.
    """
    xs: list[float] = []
    for v in values:
        if v is None or isinstance(v, bool):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            xs.append(f)
    n = len(xs)
    if n == 0:
        return None, None, 0
    m = sum(xs) / n
    if n < 2:
        return m, None, n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    return m, sd, n


def fmt_mean_sd(values: Iterable[Any], *, show_n: bool = False) -> str:
    """``"mean ± sd"`` over the finite numbers in ``values``, both at the mean's precision.

    One number prints alone; none prints ``"not reported"``.

    Examples
    --------
    >>> fmt_mean_sd([0.6, 0.65, 0.7])
    '0.650 ± 0.050'
    >>> fmt_mean_sd([0.6, None, 0.7], show_n=True)
    '0.650 ± 0.071 (n=2)'
    """
    m, sd, n = mean_sd(values)
    if m is None:
        return NOT_REPORTED
    d = _decimals(m)
    text = fmt_num(m, d) if sd is None else f"{fmt_num(m, d)} ± {fmt_num(sd, d)}"
    if show_n:
        text += f" (n={n})"
    return text


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, cls: str = "",
          raw: bool = False, caption: str | None = None, numeric_from: int = 1,
          row_classes: Sequence[str] | None = None) -> str:
    """An HTML table.

    Parameters
    ----------
    header : sequence of str
        Column headings (escaped).
    rows : sequence of sequences
        Cell values; escaped unless ``raw`` (then they must be safe markup).
    cls : str
        CSS class of the table.
    caption : str, optional
        Caption text (escaped).
    numeric_from : int
        Columns from this index on are right-aligned.
    row_classes : sequence of str, optional
        CSS class per row (empty string: none).
    """
    out = [f'<table class="{esc(cls)}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(
        f'<th{" class=num" if i >= numeric_from else ""}>{esc(h)}</th>' for i, h in enumerate(header)) + "</tr></thead>")
    out.append("<tbody>")
    for k, r in enumerate(rows):
        cells = []
        for i, c in enumerate(r):
            text = c if raw else esc(c)
            klass = ' class="num"' if i >= numeric_from else ""
            if text == NOT_REPORTED:
                klass = ' class="na"'
            cells.append(f"<td{klass}>{text}</td>")
        rc = row_classes[k] if row_classes and k < len(row_classes) and row_classes[k] else ""
        out.append((f'<tr class="{esc(rc)}">' if rc else "<tr>") + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def figure(svg: str, caption: str, *, cls: str = "") -> str:
    """A ``<figure>`` with inline SVG and an escaped caption."""
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<figure{klass}>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


CSS = """
:root { --ink:#1d232a; --muted:#5b6570; --line:#d9dee3; --bg:#ffffff; --panel:#f6f8fa;
        --accent:#0b5cad; --warn:#a4460b; --ok:#1f7a3f; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 1.5rem 1.75rem 3rem; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: .6rem; margin-bottom: 1rem; }
header.report h1 { font-size: 1.75rem; margin: 0 0 .2rem; }
header.report p { margin: 0; color: var(--muted); }
nav.toc { font-size: .9rem; margin: .4rem 0 1.2rem; color: var(--muted); }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 1.1rem; white-space: nowrap; }
h2 { font-size: 1.35rem; margin: 2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.08rem; margin: 1.4rem 0 .4rem; }
h4 { font-size: .98rem; margin: 1rem 0 .3rem; color: var(--muted); }
p { margin: .4rem 0 .7rem; }
.muted, figcaption, caption, .note { color: var(--muted); font-size: .86rem; }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .82rem; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: .8rem; margin: .6rem 0 1rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: 4px solid var(--accent);
        border-radius: 6px; padding: .65rem .8rem; }
.card .what { font-size: .86rem; color: var(--muted); }
.card .headline { font-size: 1.25rem; font-weight: 650; margin: .15rem 0; }
.card .detail { font-size: .8rem; color: var(--muted); }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .88rem; width: auto; max-width: 100%; }
caption { caption-side: top; text-align: left; padding-bottom: .25rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.na { color: var(--muted); font-style: italic; text-align: right; }
tr.baseline td { background: #fbf7ef; }
table.wide { width: 100%; }
.figs { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: flex-start; }
figure { margin: .4rem 0 1rem; max-width: 460px; flex: 1 1 380px; }
figure svg { display: block; width: 100%; height: auto; }
.mols { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: .7rem; margin: .5rem 0 1rem; }
.mol-card { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .5rem .5rem; background: #fff; }
.mol-card svg.mol { display: block; width: 100%; height: auto; }
.mol-card .val { font-weight: 650; font-size: 1.05rem; }
.mol-card .muted { font-size: .8rem; }
.mol-card .ad { white-space: nowrap; font-size: .78rem; }
main { counter-reset: fig; }
figure { counter-increment: fig; }
figcaption::before { content: "Figure " counter(fig) ". "; font-weight: 600; color: var(--ink); }
.side { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.mol-card .smi { font-size: .72rem; color: var(--muted); overflow-wrap: anywhere; }
.flag { display: inline-block; font-size: .74rem; border-radius: 3px; padding: 0 .35rem; font-weight: 600; }
.flag.in { background: #e3f3e8; color: var(--ok); }
.flag.out { background: #fbe8dc; color: var(--warn); }
.rule { background: var(--panel); border-left: 3px solid var(--muted); padding: .4rem .7rem; font-size: .86rem; }
.refs li { margin-bottom: .3rem; font-size: .88rem; }
.warn { color: var(--warn); }
footer { margin-top: 2.5rem; border-top: 1px solid var(--line); padding-top: .5rem; font-size: .8rem; color: var(--muted); }
@media print {
  html { font-size: 12px; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-after: avoid; }
  h3, h4 { break-after: avoid; }
  figure, table, .card, .mol-card, .rule { break-inside: avoid; }
  .figs { gap: .6rem; }
  figure { flex: 0 1 46%; max-width: 46%; }
  .mols { grid-template-columns: repeat(5, 1fr); gap: .4rem; }
  .mol-card { padding: .2rem .3rem; }
  .cards { grid-template-columns: repeat(3, 1fr); }
  section.major { break-before: auto; }
}
@page { size: A4; margin: 14mm 12mm; }
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="discovery {{ version }}">
<title>{{ title }}</title>
<style>{{ css | safe }}</style>
</head>
<body>
<main>
<header class="report">
  <h1>{{ title }}</h1>
  <p>Generated {{ created }} by discovery {{ version }} from {{ n_results }} result folder{{ "s" if n_results != 1 }}.</p>
</header>
<nav class="toc" aria-label="Contents">
  <a href="#summary">Summary</a>
  {%- for s in sections %}<a href="#{{ s.id }}">{{ s.title }}</a>{% endfor -%}
  <a href="#methods">Methods</a><a href="#references">References</a><a href="#software">Software</a><a href="#provenance">Provenance</a>
</nav>

<section id="summary" class="major">
  <h2>Summary</h2>
  <p>{{ summary_text }}</p>
  <div class="cards">
  {%- for s in sections %}{% for item in s.summary %}
    <div class="card"><div class="what">{{ item.what }}</div><div class="headline">{{ item.headline }}</div><div class="detail">{{ item.detail }}</div></div>
  {%- endfor %}{% endfor %}
  </div>
</section>

{% for s in sections %}
<section id="{{ s.id }}" class="major">
  <h2>{{ s.title }}</h2>
  {{ s.html | safe }}
</section>
{% endfor %}

<section id="methods" class="major">
  <h2>Methods</h2>
  {% for s in sections %}{% if s.methods %}<p>{{ s.methods | safe }}</p>{% endif %}{% endfor %}
  <p>{{ common_methods | safe }}</p>
</section>

<section id="references">
  <h2>References</h2>
  <ol class="refs">
  {%- for r in references %}
    <li id="ref-{{ r.key }}">{{ r.text }}{% if r.doi %} doi:{{ r.doi }}{% elif r.url %} {{ r.url }}{% endif %}</li>
  {%- endfor %}
  </ol>
</section>

<section id="software">
  <h2>Software versions</h2>
  {{ software | safe }}
</section>

<section id="provenance">
  <h2>Provenance</h2>
  {{ provenance | safe }}
</section>

<footer>Self-contained report: every figure is inline; this file makes no network request. Rebuild with <code>{{ rebuild }}</code>.</footer>
</main>
</body>
</html>
"""


def render_page(**context: Any) -> str:
    """Render :data:`PAGE` with Jinja2 (autoescape on)."""
    from .errors import require

    jinja2 = require("jinja2")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(PAGE).render(css=CSS, **context)
