"""Minimal SVG line and scatter plots (no third-party packages), for generated reports."""
import math
from xml.sax.saxutils import escape

W, H, L, R, T, B = 560, 320, 64, 16, 28, 44  # size and margins


def _ticks(lo, hi, n=5):
    step = 10 ** math.floor(math.log10(max((hi - lo) / n, 1e-12)))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    t = math.ceil(lo / step) * step
    out = []
    while t <= hi + step * 1e-9:
        out.append(t)
        t += step
    return out


def _fmt(v):
    return f"{v:g}" if abs(v) < 1e5 else f"{v:.0e}"


def plot(title, xlabel, ylabel, series, log=False, diagonal=False):
    """series: [(label, colour, [(x, y)], 'line' | 'dots')]. log: both axes log10."""
    pts = [p for _, _, ps, _ in series for p in ps if not log or (p[0] > 0 and p[1] > 0)]
    f = (lambda v: math.log10(v)) if log else (lambda v: v)
    xs, ys = [f(x) for x, _ in pts], [f(y) for _, y in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = (min(ys), max(ys)) if log else (0.0, max(ys) * 1.05)
    if diagonal:
        x0 = y0 = min(x0, y0)
        x1 = y1 = max(x1, y1)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def px(x):
        return L + (f(x) - x0) / (x1 - x0) * (W - L - R)

    def py(y):
        return H - B - (f(y) - y0) / (y1 - y0) * (H - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>',
           f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle">{escape(xlabel)}</text>',
           f'<text x="14" y="{H / 2}" text-anchor="middle" transform="rotate(-90 14 {H / 2})">'
           f'{escape(ylabel)}</text>']
    for t in _ticks(x0, x1):
        v = 10 ** t if log else t
        out.append(f'<line x1="{px(v):.1f}" y1="{T}" x2="{px(v):.1f}" y2="{H - B}" '
                   f'stroke="#ddd"/><text x="{px(v):.1f}" y="{H - B + 14}" '
                   f'text-anchor="middle">{_fmt(v)}</text>')
    for t in _ticks(y0, y1):
        v = 10 ** t if log else t
        out.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{W - R}" y2="{py(v):.1f}" '
                   f'stroke="#ddd"/><text x="{L - 4}" y="{py(v) + 4:.1f}" '
                   f'text-anchor="end">{_fmt(v)}</text>')
    if diagonal:
        a, b = 10 ** x0 if log else x0, 10 ** x1 if log else x1
        out.append(f'<line x1="{px(a):.1f}" y1="{py(a):.1f}" x2="{px(b):.1f}" y2="{py(b):.1f}" '
                   f'stroke="#999" stroke-dasharray="4 3"/>')
    for i, (label, colour, ps, kind) in enumerate(series):
        ps = sorted(p for p in ps if not log or (p[0] > 0 and p[1] > 0))
        if kind == "line":
            d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ps)
            out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        else:
            out += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}" '
                    f'fill-opacity="0.6"/>' for x, y in ps]
        out.append(f'<rect x="{L + 10}" y="{T + 6 + 16 * i}" width="12" height="4" '
                   f'fill="{colour}"/><text x="{L + 28}" y="{T + 12 + 16 * i}">'
                   f'{escape(label)}</text>')
    out.append("</svg>\n")
    return "\n".join(out)
