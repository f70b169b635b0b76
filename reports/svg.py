"""Charts drawn on the server as inline SVG (no script, no CDN: the dashboard works offline and prints).

``chart_svg(result)`` draws a report's declared chart: grouped bars or lines, one series per value column, the
label column along the x axis (categories with the same label are summed), a legend, a y axis with round ticks.
Every text goes through XML escaping."""
import math
from decimal import Decimal
from xml.sax.saxutils import escape

PALETTE = ("#2f6db3", "#e07b28", "#3a9a4a", "#c23b3b", "#7b5ea7", "#8c6d31", "#d162a4", "#5f6b7a")
WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 30, 78
MAX_CATEGORIES = 40


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _nice_max(value):
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value):
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.2f}"


def series_of(result):
    """``(categories, [(column label, [values])])`` of a report's chart, categories summed by label."""
    chart = result.definition.chart
    labels = dict(result.definition.columns)
    order, sums = [], {}
    for row in result.rows:
        category = str(row.get(chart["label"]) if row.get(chart["label"]) is not None else "-")
        if category not in sums:
            order.append(category)
            sums[category] = [0.0] * len(chart["values"])
        for i, key in enumerate(chart["values"]):
            sums[category][i] += _number(row.get(key))
    order = order[:MAX_CATEGORIES]
    return order, [(labels.get(key, key), [sums[c][i] for c in order]) for i, key in enumerate(chart["values"])]


def render(kind, title, categories, series, width=WIDTH, height=HEIGHT):
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    top = _nice_max(max([v for _n, values in series for v in values] or [0]))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(5):  # y axis: 0 … top in 4 steps
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(value)}</text>')
    if not categories:
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="#666">'
                     f'No data</text></svg>')
        return "".join(parts)
    slot = plot_w / len(categories)

    def y_of(value):
        return TOP + plot_h - plot_h * value / top

    if kind == "line":
        for s, (_name, values) in enumerate(series):
            color = PALETTE[s % len(PALETTE)]
            points = " ".join(f"{LEFT + slot * (i + 0.5):.1f},{y_of(v):.1f}" for i, v in enumerate(values))
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
            for i, v in enumerate(values):
                parts.append(f'<circle cx="{LEFT + slot * (i + 0.5):.1f}" cy="{y_of(v):.1f}" r="3" fill="{color}">'
                             f'<title>{escape(categories[i])}: {_fmt(v)}</title></circle>')
    else:
        bar = slot * 0.8 / max(len(series), 1)
        for s, (_name, values) in enumerate(series):
            color = PALETTE[s % len(PALETTE)]
            for i, v in enumerate(values):
                x = LEFT + slot * i + slot * 0.1 + bar * s
                parts.append(f'<rect x="{x:.1f}" y="{y_of(v):.1f}" width="{max(bar - 1, 1):.1f}" '
                             f'height="{TOP + plot_h - y_of(v):.1f}" fill="{color}">'
                             f'<title>{escape(categories[i])}: {_fmt(v)}</title></rect>')
    for i, category in enumerate(categories):  # x labels, slanted
        x, y = LEFT + slot * (i + 0.5), TOP + plot_h + 12
        text = category if len(category) <= 18 else category[:16] + "..."
        parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="end" transform="rotate(-35 {x:.1f} {y})">'
                     f'{escape(text)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#444"/>')
    x = LEFT
    for s, (name, _values) in enumerate(series):  # legend, top right
        parts.append(f'<rect x="{x + 200}" y="6" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>'
                     f'<text x="{x + 214}" y="15">{escape(name)}</text>')
        x += 16 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def chart_svg(result):
    chart = result.definition.chart
    if not chart:
        return ""
    categories, series = series_of(result)
    return render(chart.get("kind", "bar"), result.definition.title, categories, series)
