"""Server-drawn SVG: the flow diagram (Sankey) interventions → modes → goals, and the bar
chart of passages per goal.

No script and no style attribute (the pages' Content-Security-Policy allows neither):
colours are SVG presentation attributes, so the picture prints as it shows. Every band is
an ``<a href>`` to the passages behind it; each drawing has a ``<title>`` and ``<desc>``
(named by ``aria-labelledby``; its links stay reachable by keyboard) for screen readers, and the page shows the same numbers as a table.

Layout (the classic three-column Sankey, without crossing minimisation): each node is as
tall as the larger of its incoming and outgoing band totals, one unit per intervention;
bands leave and enter their nodes stacked in the order of the other column.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

#: Fill colours for the modes (and their bands), dark enough for white-on and legible in
#: grey print; cycled when a study has more modes.
PALETTE = ("#1f5f99", "#a0522d", "#2e7d4f", "#6a3d9a", "#b8860b", "#c2185b", "#00796b", "#455a64")
UNIT = 14  # pixels per intervention
GAP = 8
NODE_W = 12
LABEL_CHARS = 58


@dataclass
class Node:
    key: str
    label: str
    href: str | None = None
    lang: str | None = None


@dataclass
class Band:
    source: str
    target: str
    value: int
    href: str
    title: str


def _clip(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def sankey_svg(columns: list[list[Node]], bands: list[Band], title: str, desc: str,
               colour_of: dict[str, str], width: int = 1100) -> str:
    """Three (or more) columns of nodes, bands between neighbouring columns."""
    inflow: dict[str, int] = {}
    outflow: dict[str, int] = {}
    for b in bands:
        outflow[b.source] = outflow.get(b.source, 0) + b.value
        inflow[b.target] = inflow.get(b.target, 0) + b.value
    size = {n.key: max(inflow.get(n.key, 0), outflow.get(n.key, 0), 1) for col in columns for n in col}
    heights = [sum(size[n.key] * UNIT for n in col) + GAP * max(len(col) - 1, 0) for col in columns]
    height = max(heights + [UNIT]) + 40
    label_w = 380
    xs = [label_w] + [label_w + (width - label_w - 260) * (k + 1) // (len(columns) - 1) for k in range(len(columns) - 1)]
    pos: dict[str, tuple[float, float]] = {}
    for k, col in enumerate(columns):
        y = 20 + (height - 40 - heights[k]) / 2
        for n in col:
            pos[n.key] = (xs[k], y)
            y += size[n.key] * UNIT + GAP
    out_y = {key: p[1] for key, p in pos.items()}
    in_y = dict(out_y)
    order = {n.key: (k, j) for k, col in enumerate(columns) for j, n in enumerate(col)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" width="{width}" '
        f'height="{height:.0f}" role="group" aria-labelledby="flow-title flow-desc" class="flow" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="flow-title">{escape(title)}</title>',
        f'<desc id="flow-desc">{escape(desc)}</desc>',
    ]
    for b in sorted(bands, key=lambda b: (order[b.source], order[b.target])):
        x0, _ = pos[b.source]
        x1, _ = pos[b.target]
        h = b.value * UNIT
        y0, y1 = out_y[b.source], in_y[b.target]
        out_y[b.source] += h
        in_y[b.target] += h
        xa, xb = x0 + NODE_W, x1
        mid = (xa + xb) / 2
        d = (f"M{xa:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {xb:.1f},{y1:.1f} "
             f"L{xb:.1f},{y1 + h:.1f} C{mid:.1f},{y1 + h:.1f} {mid:.1f},{y0 + h:.1f} {xa:.1f},{y0 + h:.1f} Z")
        colour = colour_of.get(b.source) or colour_of.get(b.target) or PALETTE[0]
        parts.append(
            f'<a href={quoteattr(b.href)} class="band"><path d="{d}" fill="{colour}" fill-opacity="0.42" '
            f'stroke="{colour}" stroke-opacity="0.7" stroke-width="0.5"><title>{escape(b.title)}</title></path></a>'
        )
    for k, col in enumerate(columns):
        for n in col:
            x, y = pos[n.key]
            h = size[n.key] * UNIT
            colour = colour_of.get(n.key, "#5b6675")
            rect = f'<rect x="{x}" y="{y:.1f}" width="{NODE_W}" height="{h:.1f}" fill="{colour}"><title>{escape(n.label)}</title></rect>'
            if k == 0:
                tx, anchor = x - 6, "end"
            else:
                tx, anchor = x + NODE_W + 6, "start"
            lang = f' xml:lang="{escape(n.lang)}"' if n.lang else ""
            text = (f'<text x="{tx}" y="{y + h / 2:.1f}" dominant-baseline="middle" text-anchor="{anchor}" '
                    f'fill="#1d2530"{lang}>{escape(_clip(n.label))}</text>')
            if n.href:
                parts.append(f'<a href={quoteattr(n.href)}>{rect}{text}</a>')
            else:
                parts.append(rect + text)
    parts.append("</svg>")
    return "\n".join(parts)


def bars_svg(groups: list[tuple[str, list[tuple[str, int, str]]]], title: str, desc: str,
             series_colours: dict[str, str], width: int = 720) -> str:
    """Horizontal grouped bars: *groups* is [(group label, [(series, value, href)])]."""
    bar_h, gap, label_w = 18, 14, 230
    top = 34
    maxv = max([v for _, series in groups for _, v, _ in series] + [1])
    rows = sum(len(series) for _, series in groups)
    height = top + rows * bar_h + len(groups) * gap + 10
    scale = (width - label_w - 60) / maxv
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="group" aria-labelledby="plot-title plot-desc" class="plot" font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="plot-title">{escape(title)}</title>',
        f'<desc id="plot-desc">{escape(desc)}</desc>',
    ]
    lx = label_w
    for name, colour in series_colours.items():
        parts.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{lx + 16}" y="16" fill="#1d2530">{escape(name)}</text>')
        lx += 20 + 8 * len(name) + 30
    y = top
    for label, series in groups:
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h * len(series) / 2:.1f}" dominant-baseline="middle" '
                     f'text-anchor="end" fill="#1d2530">{escape(_clip(label, 34))}</text>')
        for name, value, href in series:
            w = max(value * scale, 1)
            colour = series_colours.get(name, PALETTE[0])
            parts.append(
                f'<a href={quoteattr(href)}><rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 3}" '
                f'fill="{colour}"><title>{escape(f"{label}: {name} {value}")}</title></rect></a>'
                f'<text x="{label_w + w + 5:.1f}" y="{y + (bar_h - 3) / 2:.1f}" dominant-baseline="middle" '
                f'fill="#1d2530">{value}</text>'
            )
            y += bar_h
        y += gap
    parts.append("</svg>")
    return "\n".join(parts)
