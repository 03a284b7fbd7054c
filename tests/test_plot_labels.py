"""Log-axis tick labels are plain text (10⁻³, 2×10¹), not mathtext: the same labels for less time."""

import pytest

from gdbench.harness import plots


@pytest.mark.parametrize("label, plain", [
    (r"$\mathdefault{10^{-3}}$", "10⁻³"),
    (r"$\mathdefault{10^{0}}$", "10⁰"),
    (r"$\mathdefault{10^{12}}$", "10¹²"),
    ("$\\mathdefault{10^{\u221212}}$", "10⁻¹²"),
    (r"$\mathdefault{2\times10^{1}}$", "2×10¹"),
    (r"$\mathdefault{1}$", "1"),
    (r"$\mathdefault{10^{0.50}}$", r"$\mathdefault{10^{0.50}}$"),  # no superscript for it: unchanged
    (r"$\alpha$", r"$\alpha$"),
    ("", ""),
    ("lr", "lr"),
])
def test_plain_power_label(label, plain):
    assert plots.plain_power_label(label) == plain


def test_saved_figures_parse_no_mathtext(tmp_path, monkeypatch):
    """A figure with a long and a short log axis (the short one labels its minor ticks) is saved
    without calling the mathtext parser, and its tick labels are matplotlib's, as plain text."""
    import io

    import matplotlib.mathtext
    import numpy as np

    plt = plots._plt()

    def figure():
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.loglog(np.geomspace(2.0, 9.0, 20), np.geomspace(1e-12, 1e2, 20))
        ax.set_title("t")
        return fig, ax

    def labels(ax):
        return [[t.get_text() for t in ts if t.get_text()]
                for ts in (ax.get_xticklabels(), ax.get_xticklabels(minor=True), ax.get_yticklabels())]

    fig, ax = figure()  # as matplotlib draws it
    fig.savefig(io.BytesIO(), format="png")
    want = labels(ax)
    plt.close(fig)
    monkeypatch.setattr(matplotlib.mathtext.MathTextParser, "parse", no_mathtext)
    fig, ax = figure()
    path = plots._save(fig, tmp_path / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    got = labels(ax)
    assert all("$" in s for row in want for s in row)
    assert got == [[plots.plain_power_label(s) for s in row] for row in want]
    assert "10⁻¹²" in got[2] and "10²" in got[2]
    assert any("×" in s for s in got[1])  # an axis shorter than a decade labels its minor ticks


def no_mathtext(*a, **k):
    raise AssertionError("mathtext parsed")
