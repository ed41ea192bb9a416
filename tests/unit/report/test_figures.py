import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from neurotox.report.figures import group_means_plot, render, time_course_plot


def _grip(analysis, table):
    results, _ = analysis
    res = results[(results["endpoint"] == "grip_strength_forelimb") & (results["sex"] == "M")]
    vals = table[(table["endpoint"] == "grip_strength_forelimb") & (table["sex"] == "M")]
    return res, vals


def test_group_means_plot_draws_means_points_and_flags(analysis, table, spec):
    res, vals = _grip(analysis, table)
    fig, ax = group_means_plot(res, vals, spec, ylabel="Grip (g)")
    heights = [p.get_height() for p in ax.patches]
    assert np.allclose(heights, [1000.0, 973.333333, 805.0])
    points = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections
                             if isinstance(c, PathCollection)])
    assert len(points) == 12  # every value, the excluded one (open circle) included
    assert [t.get_text() for t in ax.texts] == ["**↓"]
    assert [t.get_text() for t in ax.get_xticklabels()] == \
        ["G1\n0 mg/kg/day", "G2\n10 mg/kg/day", "G3\n100 mg/kg/day"]
    assert ax.get_ylabel() == "Grip (g)"


def test_plot_helpers_draw_on_given_axes(analysis, spec):
    results, _ = analysis
    res = results[(results["endpoint"] == "motor_activity_counts") & (results["sex"] == "F")]
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    fig2, ax2 = time_course_plot(res, spec, ax=ax)
    assert fig2 is fig and ax2 is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bin1", "bin2", "bin10"]
    assert len(ax.get_legend().get_texts()) == 3


def test_render_is_deterministic_and_undated(analysis, table, spec):
    res, vals = _grip(analysis, table)
    png1, svg1 = render(group_means_plot(res, vals, spec)[0])
    png2, svg2 = render(group_means_plot(res, vals, spec)[0])
    assert png1 == png2 and svg1 == svg2
    assert b"<dc:date>" not in svg1 and b"Software" not in png1
