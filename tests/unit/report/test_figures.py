import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from neurotox.report.figures import PALETTE, group_means_plot, render, time_course_plot


def _grip(analysis, table):
    results, _ = analysis
    res = results[(results["endpoint"] == "grip_strength_forelimb") & (results["sex"] == "M")]
    vals = table[(table["endpoint"] == "grip_strength_forelimb") & (table["sex"] == "M")]
    return res, vals


def _horizontal(ax):
    return [seg for c in ax.collections if isinstance(c, LineCollection)
            for seg in c.get_segments() if len(seg) == 2 and seg[0][1] == seg[1][1]]


def _vertical(ax):
    return [seg for c in ax.collections if isinstance(c, LineCollection)
            for seg in c.get_segments() if len(seg) == 2 and seg[0][0] == seg[1][0]]


@pytest.mark.parametrize("spread", ["sd", "sem"])
def test_group_scatter_draws_values_mean_and_the_spread_of_the_tables(analysis, table, spec,
                                                                       spread):
    res, vals = _grip(analysis, table)
    fig, ax = group_means_plot(res, vals, spec, ylabel="Grip (g)", spread=spread)
    assert len(ax.patches) == 0  # no bars: a scatter of every value with the mean
    means = sorted(seg[0][1] for seg in _horizontal(ax))
    assert np.allclose(means, sorted([1000.0, 973.333333, 805.0]))
    half = sorted((seg[1][1] - seg[0][1]) / 2 for seg in _vertical(ax))
    assert np.allclose(half, sorted(res[spread].to_numpy(float)))
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in points) == 12  # the excluded one included
    kept_colours = {to_hex(c.get_facecolor()[0]) for c in points if len(c.get_facecolor())}
    assert kept_colours <= {p.lower() for p in PALETTE}
    assert [t.get_text() for t in ax.texts] == ["**↓"]
    mark = ax.texts[0]
    assert ax.get_ylim()[0] < mark.get_position()[1] < ax.get_ylim()[1]  # inside the frame
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
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Bin 1", "Bin 2", "Bin 10"]
    assert len(fig.legends[0].get_texts()) == 3


def test_time_course_never_joins_different_sessions(analysis, spec):
    from neurotox.report.labels import TimepointLabels

    results, _ = analysis
    rename = {"bin1": "pretest_bin01", "bin2": "pretest_bin02", "bin10": "week4_bin01"}
    res = results[(results["endpoint"] == "motor_activity_counts") & (results["sex"] == "M")]
    res = res.assign(timepoint=res["timepoint"].replace(rename))
    labels = TimepointLabels({"motor_activity": 10.0}, {"motor_activity": 1})
    fig, ax = time_course_plot(res, spec, labels=labels)
    pretest_x = max(ax.get_xticks()[:2])
    week4_x = ax.get_xticks()[2]
    for line in ax.get_lines():
        xs = line.get_xdata()
        if len(xs) > 1 and line.get_linestyle() != "None":
            assert not (min(xs) <= pretest_x + 0.5 and max(xs) >= week4_x - 0.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0–10 min", "10–20 min", "0–10 min"]
    assert {t.get_text() for t in ax.texts} >= {"Pre-test"}
    assert "*" in {t.get_text() for t in ax.texts} or "**" in {t.get_text() for t in ax.texts}


def test_render_is_deterministic_undated_and_300_dpi(analysis, table, spec):
    import io

    from PIL import Image

    res, vals = _grip(analysis, table)
    png1, svg1 = render(group_means_plot(res, vals, spec)[0])
    png2, svg2 = render(group_means_plot(res, vals, spec)[0])
    assert png1 == png2 and svg1 == svg2
    assert b"<dc:date>" not in svg1 and b"Software" not in png1
    with Image.open(io.BytesIO(png1)) as im:
        assert im.size == (1500, 1020)  # 5 x 3.4 in at 300 dpi
        assert round(im.info["dpi"][0]) == 300
        im.verify()  # chunk CRCs, the added resolution chunk included
    # the same pixels as matplotlib's own PNG of the figure
    fig = group_means_plot(res, vals, spec)[0]
    own = io.BytesIO()
    fig.savefig(own, format="png", dpi=300)
    with Image.open(io.BytesIO(png1)) as ours, Image.open(own) as theirs:
        assert np.array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize("workers", [1, 2])
def test_figure_queue_reuses_started_jobs_and_numbers_as_the_final_list(analysis, table, spec,
                                                                       workers):
    from dataclasses import replace

    from neurotox.parallel import TaskPool
    from neurotox.report.figures import FigureJob, FigureQueue, draw

    res, vals = _grip(analysis, table)
    a = FigureJob(1, "Grip", "groups-grip", "neuromuscular", "groups",
                  {"results": res, "values": vals, "spec": spec})
    b = FigureJob(2, "Grip again", "groups-grip-2", "neuromuscular", "groups",
                  {"results": res, "values": vals, "spec": spec, "spread": "sem"})
    with TaskPool(workers) as pool:
        queue = FigureQueue(pool)
        queue.start([a])
        first = queue.started["groups-grip"][2]
        # final list: a new job first, the started one renumbered
        final = queue.figures([replace(b, number=1), replace(a, number=2)])
    assert queue.started["groups-grip"][2] is first  # not drawn twice
    assert [(f.number, f.key) for f in final] == [(1, "groups-grip-2"), (2, "groups-grip")]
    assert final[1].png == draw(a).png and final[0].png == draw(b).png
    assert final[0].png != final[1].png  # SEM bars are not SD bars


def test_endpoint_without_included_values_gets_no_figure(analysis, table, spec):
    # e.g. the per-cell endpoints of a co-culture run: every value excluded, n = 0 in
    # every group; the report drew empty axes (-0.04 ... 0.04) for each of them
    from neurotox.report.context import Context
    from neurotox.report.figures import plan_figures

    results, decisions = analysis
    grip_m = (results["endpoint"] == "grip_strength_forelimb") & (results["sex"] == "M")
    assert grip_m.any()
    emptied = results.copy()
    emptied.loc[grip_m, ["n", "mean", "sd", "sem"]] = [0, np.nan, np.nan, np.nan]
    keys = {j.key for j in plan_figures(Context(spec, table), emptied, decisions)}
    before = {j.key for j in plan_figures(Context(spec, table), results, decisions)}
    assert before - keys == {"groups-fob-grip-strength-forelimb-m"}


def test_censored_values_are_drawn_as_open_triangles_and_the_caption_says_so(analysis, table,
                                                                            spec):
    """stranger30 L4: '< LOD' values were plotted as ordinary dots, like measured values."""
    from neurotox.report.context import Context
    from neurotox.report.figures import plan_figures

    res, vals = _grip(analysis, table)
    side = np.where(vals["value"] >= 1050, "right", np.where(vals["value"] <= 760, "left", "none"))
    vals = vals.assign(censoring=side)
    fig, ax = group_means_plot(res, vals, spec)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    open_tri = [c for c in points if len(c.get_offsets()) and not len(c.get_facecolor())
                and to_hex(c.get_edgecolor()[0]) != "#808080"]  # not the excluded (grey)
    drawn = sorted(float(y) for c in open_tri for _, y in c.get_offsets())
    assert drawn == [760.0, 1050.0]  # G3M2 below, G1M3 above, at the values recorded
    assert sum(len(c.get_offsets()) for c in points) == 12  # every value still drawn once
    captions = {j.key: j.title for j in plan_figures(Context(spec, table.assign(
        censoring=np.where(table["value"] >= 1050, "right", "none"))), *analysis)}
    assert captions["groups-fob-grip-strength-forelimb-m"].endswith(
        "mean ± SD; ▽ / △ value censored below / above its limit, drawn at the limit. "
        "n = 3–4 per group; Dunnett vs control: * p ≤ 0.05, ** p ≤ 0.01 (two-sided), ↑/↓ "
        "above/below control; open grey circles: excluded values, not in n, mean or test.")


def test_captions_name_n_the_test_the_flags_and_what_was_tested(analysis, table, spec):
    """stranger37 #7: captions were number + title only; the flags drawn on a brain
    weight scatter were the ANCOVA-adjusted means' while the plot shows unadjusted ones."""
    from neurotox.report.context import Context
    from neurotox.report.figures import plan_figures

    results, decisions = analysis
    grip = (decisions["endpoint"] == "grip_strength_forelimb") & (decisions["sex"] == "F")
    decisions = decisions.assign(path=decisions["path"].where(~grip, "ancova"))
    captions = {j.key: j.title for j in plan_figures(Context(spec, table), results, decisions)}
    assert captions["groups-fob-grip-strength-forelimb-f"] == (
        "Forelimb grip strength — Females: individual values and group mean ± SD. "
        "n = 4 per group; Dunnett vs control: * p ≤ 0.05, ** p ≤ 0.01 (two-sided), ↑/↓ "
        "above/below control; flags from the ANCOVA-adjusted means (see the table); the "
        "plot shows unadjusted means.")
    assert captions["time-course-motor-activity-motor-activity-counts-m"] == (
        "Time course of Motor activity counts — Males (mean ± SD). n = 4 per group; "
        "Dunn / Dunnett vs control: * p ≤ 0.05, ** p ≤ 0.01 (two-sided), ↑/↓ above/below "
        "control.")


def test_time_course_sessions_are_split_as_the_time_order_splits_them():
    """A trial, an upper-case block: parts of one session (``timepoints.session_and_part``);
    bare bins share the unnamed session."""
    from neurotox.report.figures import _sessions

    assert _sessions(["day2_trial1", "day1_trial2", "day1_trial1", "PND22_BLOCK1", "bin2",
                      "bin1", "PND22_block2"]) == [
        ("day1", ["day1_trial1", "day1_trial2"]), ("day2", ["day2_trial1"]),
        ("", ["bin1", "bin2"]), ("PND22", ["PND22_BLOCK1", "PND22_block2"])]


LONG_ID = ("DRUG_mu7_10mgkg_ip_daily_from_day_minus1_to_day21_all_cohorts_of_the_nerve_injury_"
           "study_and_its_recovery_groups_2026_ABC")


def _long_ids(analysis, table, spec):
    """The hand-made study with group G3 renamed to a 120-character ID."""
    results, _ = analysis
    data = spec.model_dump(mode="json", exclude_unset=True)
    for g in data["groups"]:
        g["id"] = LONG_ID if g["id"] == "G3" else g["id"]
    rename = {"G3": LONG_ID}
    return (type(spec).model_validate(data), results.assign(group=results["group"].replace(rename)),
            table.assign(group=table["group"].replace(rename)))


def _texts_outside(fig):
    """Every visible text of the figure whose box leaves the figure (pixels of the 300-dpi PNG)."""
    from neurotox.report.figures import PNG_DPI

    fig.set_dpi(PNG_DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    texts = fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible() and a.get_text())
    return [t.get_text() for t in texts
            if not (0 <= t.get_window_extent(renderer).x0
                    and t.get_window_extent(renderer).x1 <= width
                    and 0 <= t.get_window_extent(renderer).y0
                    and t.get_window_extent(renderer).y1 <= height)]


def test_a_120_character_group_id_is_wrapped_inside_legend_and_axis(analysis, table, spec):
    import io

    import matplotlib
    from PIL import Image

    from neurotox.report.figures import _RC

    assert len(LONG_ID) == 120
    long_spec, res, vals = _long_ids(analysis, table, spec)
    with matplotlib.rc_context(_RC):
        motor = res[(res["endpoint"] == "motor_activity_counts") & (res["sex"] == "M")]
        fig, _ = time_course_plot(motor, long_spec)
        texts = [t.get_text() for t in fig.legends[0].get_texts()]
        wrapped = ["DRUG_mu7_10mgkg_ip_daily_", "from_day_minus1_to_day21_",
                   "all_cohorts_of_the_nerve_", "injury_study_and_its_", "recovery_groups_2026_ABC"]
        assert texts == ["G1 0\u00a0mg/kg/day", "G2 10\u00a0mg/kg/day",
                         "\n".join([*wrapped, "100\u00a0mg/kg/day"])]
        assert _texts_outside(fig) == []
        legend = fig.legends[0].get_window_extent()
        assert legend.y0 > fig.axes[0].get_window_extent().y1  # above the axes, not on them
        png, _ = render(fig)
        with Image.open(io.BytesIO(png)) as im:
            assert im.size[0] == 1920 and im.size[1] > 1080  # 6.4 in wide, taller than 3.6 in
        res_g, vals_g = _grip((res, None), vals)
        fig, ax = group_means_plot(res_g, vals_g, long_spec)
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks == ["G1\n0 mg/kg/day", "G2\n10 mg/kg/day",
                         "\n".join([*wrapped, "100 mg/kg/day"])]
        assert _texts_outside(fig) == []


def test_short_group_ids_keep_the_figure_size_and_legend_in_one_row(analysis, spec):
    results, _ = analysis
    motor = results[(results["endpoint"] == "motor_activity_counts") & (results["sex"] == "M")]
    fig, _ = time_course_plot(motor, spec)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == \
        ["G1 0\u00a0mg/kg/day", "G2 10\u00a0mg/kg/day", "G3 100\u00a0mg/kg/day"]
    assert tuple(fig.get_size_inches()) == (6.4, 3.6)


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("DRUG_mu7_10mgkg_ip_daily", 12, ["DRUG_mu7_", "10mgkg_ip_", "daily"]),
    ("SNI control", 40, ["SNI control"]),
    ("ABCDEFGHIJKLMNOPQRST", 8, ["ABCDEFGH", "IJKLMNOP", "QRST"]),
    ("G3 100\u00a0mg/kg/day", 8, ["G3", "100\u00a0mg/k", "g/day"]),
])
def test_wrap_name_breaks_after_separators_else_at_the_width(text, width, lines):
    from neurotox.report.figures import wrap_name

    assert wrap_name(text, width).split("\n") == lines


def test_error_bars_are_cut_at_the_lowest_possible_value():
    from neurotox.report.figures import error_bars

    bars = error_bars(np.array([0.2, 1.0, 3.0]), np.array([0.5, 0.3, np.nan]), 0.0)
    assert bars.tolist() == [[0.2, 0.3, 0.0], [0.5, 0.3, 0.0]]
    assert error_bars(np.array([0.2]), np.array([0.5]), None).tolist() == [[0.5], [0.5]]


def test_sd_bars_stop_at_zero_and_the_caption_defines_cut_bars_and_both_sided_marks(
        analysis, table, spec):
    """stranger45 #23: SD bars ran below 0 for a count; the mark "2<>" was not defined."""
    from neurotox.report.context import Context
    from neurotox.report.figures import plan_figures

    results, decisions = analysis
    wide = (results["endpoint"] == "motor_activity_counts") & (results["group"] == "G3") \
        & (results["timepoint"] == "bin10") & (results["sex"] == "M")
    results = results.assign(sd=results["sd"].where(~wide, 150.0),
                             n_censored=np.where(wide, 2, 0),
                             censoring=np.where(wide, "both", ""))
    motor = results[(results["endpoint"] == "motor_activity_counts") & (results["sex"] == "M")]
    fig, ax = time_course_plot(motor, spec, floor=0.0)
    lows = [min(seg[0][1], seg[1][1]) for seg in _vertical(ax)]
    g3 = motor[(motor["group"] == "G3") & (motor["timepoint"] == "bin10")]
    assert float(g3["mean"].iloc[0]) - 150 < 0 and min(lows) == 0.0
    assert "2<>" in [t.get_text() for t in ax.texts]
    captions = {j.key: j.title for j in plan_figures(Context(spec, table), results, decisions)}
    assert captions["time-course-motor-activity-motor-activity-counts-m"].startswith(
        "Time course of Motor activity counts — Males (mean ± SD; n> / n<: values censored "
        "above / below the limit, counted at it; n<>: n values censored, some below the lower "
        "and some above the upper limit; SD bars cut at 0 (values cannot be negative)). ")
    assert captions["time-course-motor-activity-motor-activity-counts-f"].startswith(
        "Time course of Motor activity counts — Females (mean ± SD). ")
