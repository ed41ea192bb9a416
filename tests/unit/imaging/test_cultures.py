"""Field analysis on culture-like images: non-neurites, every channel layout, QC measures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage as ndi

from neurotox.imaging import FieldSettings, analyse_field
from neurotox.imaging.neurites import detect_neurites
from neurotox.imaging.qc import fine_structure_fraction, focus_score
from neurotox.imaging.somata import NonNeuronal, find_somata, non_neuronal_somata
from neurotox.imaging.synthetic import _splat

PX = 0.65


def _blob(shape, r, c, ry, rx, angle=0.0):
    rows, cols = np.mgrid[:shape[0], :shape[1]]
    a = np.deg2rad(angle)
    y, x = rows - r, cols - c
    u, v = y * np.cos(a) + x * np.sin(a), -y * np.sin(a) + x * np.cos(a)
    return ndi.gaussian_filter(((u / ry) ** 2 + (v / rx) ** 2 <= 1).astype(np.float32), 1.0)


def _line(shape, r0, c0, angle, length_px, width_um=1.2):
    acc = np.zeros(shape, np.float32)
    t = np.arange(0, length_px, 0.25)
    a = np.deg2rad(angle)
    _splat(acc, np.c_[r0 + t * np.sin(a), c0 + t * np.cos(a)], 0.25)
    sigma = width_um / PX / 2.355
    return ndi.gaussian_filter(acc, sigma) * np.sqrt(2 * np.pi) * sigma


def _coculture(neurites: bool, seed: int = 0, shape=(400, 400)):
    """Flat non-neuronal cells (bright, wide, one with a process) +/- straight neurites."""
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, np.float32)
    for r, c, ang in ((80, 90, 20), (250, 110, -35), (300, 300, 70), (110, 300, 0)):
        img += 600 * _blob(shape, r, c, 14 / PX, 24 / PX, ang)         # ~28 x 48 um cell
    img += 500 * _line(shape, 80, 90 + 24 / PX, 20, 30 / PX, width_um=3.0)  # a short process
    truth = 0.0
    if neurites:
        for r0, c0, ang, um in ((20, 10, 12, 230), (390, 20, -30, 200)):
            img += 400 * _line(shape, r0, c0, ang, um / PX)
            truth += um
    img += 300 + rng.normal(0, 12, shape)
    return np.clip(img, 0, 65535).astype(np.uint16), truth


COCULTURE = FieldSettings(neurite_width_um=1.5, soma_min_width_um=8.0, soma_min_area_um2=80.0,
                          non_neuronal="all", non_neuronal_process_um=60.0,
                          min_fragment_um=10.0)


def test_neurite_free_coculture_field_reads_close_to_zero():
    img, _ = _coculture(neurites=False)
    res = analyse_field(img, None, pixel_size=PX, settings=COCULTURE)
    assert res.metrics["non_neuronal_cells"] == 4
    assert res.metrics["total_neurite_length_um"] < 10     # outlines and process not traced
    assert res.metrics["non_neuronal_process_length_um"] > 0


def test_neurites_among_non_neuronal_cells_are_measured():
    img, truth = _coculture(neurites=True)
    res = analyse_field(img, None, pixel_size=PX, settings=COCULTURE)
    # neurites cross the cells: what lies on a cell body is not counted (< 25 %)
    assert 0.75 * truth <= res.metrics["total_neurite_length_um"] <= 1.05 * truth


def _bridge(seed: int = 4, shape=(400, 400)):
    """Two flat cells 82 um apart joined by a neurite, plus a 30 um process of one cell."""
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, np.float32)
    for c in (100, 300):
        img += 600 * _blob(shape, 200, c, 14 / PX, 24 / PX)
    gap = (300 - 100) - 2 * 24 / PX                          # cell edge to cell edge, px
    img += 400 * _line(shape, 200, 100 + 24 / PX - 4, 0, gap + 8)
    img += 500 * _line(shape, 200 - 14 / PX, 300, -90, 30 / PX, width_um=3.0)
    img += 300 + rng.normal(0, 12, shape)
    return np.clip(img, 0, 65535).astype(np.uint16), gap * PX


def test_a_neurite_joining_two_cells_is_not_a_process():
    img, gap_um = _bridge()
    settings = FieldSettings(neurite_width_um=1.5, soma_min_width_um=8.0,
                             soma_min_area_um2=80.0, non_neuronal="all",
                             non_neuronal_process_um=120.0, min_fragment_um=10.0)
    res = analyse_field(img, None, pixel_size=PX, settings=settings)
    assert res.metrics["non_neuronal_cells"] == 2
    # the bridge (82 um, shorter than a process may be) is kept, the free-ended process is not
    assert res.metrics["total_neurite_length_um"] == pytest.approx(gap_um, rel=0.1)
    assert res.metrics["non_neuronal_process_length_um"] > 15


def _crossing(length_um: float, brightness: float, shape=(400, 400)) -> np.ndarray:
    """A straight neurite centred on a flat cell (48 um of it over the cell)."""
    length = length_um / PX
    img = 600 * _blob(shape, 200, 200, 14 / PX, 24 / PX)
    img += brightness * _line(shape, 200, 200 - length / 2, 0, length)
    img = np.clip(img + 300 + np.random.default_rng(5).normal(0, 12, shape), 0, 65535)
    return img.astype(np.uint16)


def test_a_neurite_running_over_a_cell_is_followed_across_it():
    res = analyse_field(_crossing(220, 400), None, pixel_size=PX, settings=COCULTURE)
    assert res.metrics["non_neuronal_cells"] == 1
    # without the crossing: 163 um (the cell and its outline margin cut out)
    assert res.metrics["total_neurite_length_um"] == pytest.approx(220, rel=0.05)


def test_same_field_without_non_neuronal_rule_traces_much_more():
    img, _ = _coculture(neurites=False)
    plain = analyse_field(img, None, pixel_size=PX,
                          settings=FieldSettings(neurite_width_um=1.5, min_fragment_um=10.0))
    assert plain.metrics["non_neuronal_cells"] == 0
    assert plain.metrics["cells_analysed"] == 4           # the cells are taken as neurons


def test_wide_structures_are_not_in_the_neurite_mask():
    img, _ = _coculture(neurites=False)
    det = detect_neurites(img.astype(np.float32) - 300, width=1.5 / PX, wide_width=8 / PX,
                          noise=12.0)
    somata = find_somata(det.wide, min_area=80 / PX ** 2)
    assert somata.max() == 4


@pytest.mark.parametrize(("rule", "kwargs", "expected"), [
    ("none", {}, [False, False, False]),
    ("all", {}, [True, True, True]),
    ("larger", {"max_neuron_area": 150}, [False, True, False]),
])
def test_non_neuronal_rules(rule, kwargs, expected):
    somata = np.zeros((60, 60), np.int32)
    somata[5:15, 5:15] = 1          # 100 px
    somata[20:40, 20:40] = 2        # 400 px
    somata[45:55, 45:55] = 3
    assert non_neuronal_somata(somata, rule, **kwargs)[1:].tolist() == expected


def test_non_neuronal_marker_channel_rule():
    somata = np.zeros((60, 60), np.int32)
    somata[5:15, 5:15] = 1
    somata[20:40, 20:40] = 2
    marker = np.zeros((60, 60), bool)
    marker[18:42, 18:42] = True
    assert non_neuronal_somata(somata, NonNeuronal.CHANNEL, marker=marker)[1:].tolist() == \
        [False, True]
    with pytest.raises(ValueError, match="needs the marker channel"):
        non_neuronal_somata(somata, "channel")


def test_without_nuclei_the_neuronal_somata_become_the_cells_numbered_in_order():
    from neurotox.imaging.field import _cells

    somata = np.zeros((60, 60), np.int32)
    somata[5:15, 5:15] = 1
    somata[20:40, 20:40] = 2        # non-neuronal
    somata[45:55, 45:55] = 3
    non_neuronal = np.array([False, False, True, False])
    cells = _cells(None, None, somata, non_neuronal, FieldSettings(), PX)
    assert cells.bodies.dtype == np.int32
    assert cells.bodies[10, 10] == 1 and cells.bodies[50, 50] == 2
    assert cells.bodies[30, 30] == 0 and int(cells.bodies.max()) == 2
    assert cells.other.sum() == 400 and cells.n_other == 1


def test_unknown_non_neuronal_rule_is_an_error():
    with pytest.raises(ValueError, match="'sometimes' is not a valid NonNeuronal"):
        FieldSettings(non_neuronal="sometimes")


def _neurons(shape=(400, 400), seed=1):
    """Single-channel MAP2-like field: 3 somata with known neurites, one free piece."""
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, np.float32)
    cells = ((100, 100), (300, 120), (200, 280))
    lengths = {}
    for k, (r, c) in enumerate(cells, start=1):
        img += 900 * _blob(shape, r, c, 7 / PX, 9 / PX)
        lengths[k] = 0.0
        for ang, um in ((0, 60), (180, 40)) if k != 2 else ((90, 50),):
            a = np.deg2rad(ang)
            r0, c0 = r + 8 / PX * np.sin(a), c + 8 / PX * np.cos(a)
            img += 500 * _line(shape, r0, c0, ang, um / PX)
            lengths[k] += um
    img += 500 * _line(shape, 30, 250, 0, 45 / PX)          # unattached 45 um
    img += 200 + rng.normal(0, 10, shape)
    return np.clip(img, 0, 65535).astype(np.uint16), cells, lengths


def test_single_channel_neurons_get_one_cell_each_and_plausible_lengths():
    img, cells, lengths = _neurons()
    res = analyse_field(img, None, pixel_size=PX,
                        settings=FieldSettings(neurite_width_um=1.2, soma_min_width_um=8.0,
                                               soma_min_area_um2=60.0))
    assert "no_nuclear_channel" in res.flags
    assert len(res.cells) == 3
    for (r, c), k in zip(cells, (1, 2, 3), strict=True):
        d = np.hypot(res.cells["row"] - r, res.cells["col"] - c)
        row = res.cells.iloc[int(d.argmin())]
        assert d.min() < 5
        assert row["neurite_length_um"] == pytest.approx(lengths[k], rel=0.12)
    assert res.metrics["unattached_neurite_length_um"] == pytest.approx(45, rel=0.12)


def test_reach_limit_unattributes_far_skeleton():
    img, _, _ = _neurons()
    far = analyse_field(img, None, pixel_size=PX,
                        settings=FieldSettings(neurite_width_um=1.2, soma_min_area_um2=60.0,
                                               neurite_reach_um=30.0))
    # each neurite cut 30 um along the skeleton from its grown body (+ 3 px: margin, metrics)
    assert far.cells["longest_neurite_um"].max() <= 30 + 3 * PX
    assert far.metrics["unattached_neurite_length_um"] > 45


def test_nuclei_only_field_counts_nuclei_and_reports_no_neurite_metrics():
    shape = (200, 200)
    nuc = np.zeros(shape, np.float32)
    for r, c in ((50, 50), (50, 150), (150, 100)):
        nuc += 1500 * _blob(shape, r, c, 5 / PX, 5 / PX)
    nuc = (nuc + 200 + np.random.default_rng(2).normal(0, 10, shape)).astype(np.uint16)
    res = analyse_field(None, nuc, pixel_size=PX)
    assert res.metrics["nuclei_count"] == 3
    assert np.isnan(res.metrics["total_neurite_length_um"])
    assert "no_neurite_channel" in res.flags
    assert len(res.cells) == 3


def test_field_needs_a_channel():
    with pytest.raises(ValueError, match="a field needs a neurite or a nuclear channel"):
        analyse_field(None, None, pixel_size=1.0)


def test_focus_is_independent_of_brightness_and_density():
    img, _, _ = _neurons()
    base = focus_score(img)
    assert focus_score((img.astype(np.float32) - 200) * 4 + 200) == pytest.approx(base, rel=0.05)
    sparse = img.copy()
    sparse[:, 160:] = np.random.default_rng(3).normal(200, 10, sparse[:, 160:].shape)
    assert focus_score(sparse) == pytest.approx(base, rel=0.2)
    assert focus_score(ndi.gaussian_filter(img.astype(np.float32), 2)) < 0.6 * base


def _blurred(image: np.ndarray, sigma: float, noise: float = 0.0) -> np.ndarray:
    """A Gaussian-blurred copy re-saved as uint16, with white noise of sigma ``noise`` added
    after the blur (a defocused acquisition keeps its camera noise)."""
    out = ndi.gaussian_filter(image.astype(np.float64), sigma)
    out += np.random.default_rng(5).normal(0, noise, image.shape) if noise else 0.0
    return np.clip(np.rint(out), 0, 65535).astype(np.uint16)


@pytest.mark.parametrize("sigma", [0.8, 1.0, 1.4, 2.0])
def test_the_ridge_scale_read_is_the_line_profile_sigma(sigma):
    from neurotox.imaging.qc import _best_ridge_scale

    img = np.zeros((128, 128), np.float32)
    img[:, 64] = 1000.0
    img = ndi.gaussian_filter1d(img, sigma, axis=1) + 100
    _, scale = _best_ridge_scale(img, (slice(None), slice(None)))
    # on the line's centre the best of the 13 scales (0.7-6 px, steps of 19 %) is the sigma
    assert np.median(scale[10:-10, 64]) == pytest.approx(sigma, rel=0.1)


def test_fine_structure_is_gone_after_a_moderate_blur_whatever_the_brightness():
    from neurotox.imaging.preprocess import estimate_noise
    from neurotox.imaging.synthetic import synthetic_field

    img = synthetic_field(1).neurites            # 0.65 µm/px, neurites 1.2 µm FWHM, noise ~28
    sharp = fine_structure_fraction(img)
    assert sharp == pytest.approx(0.415, abs=0.005)
    assert fine_structure_fraction((img.astype(np.float32) - 200) * 4 + 200) == \
        pytest.approx(sharp, abs=1e-6)
    sparse = img.copy()                          # half the field empty
    sparse[:, 256:] = np.random.default_rng(3).normal(400, 28, sparse[:, 256:].shape)
    assert 0.5 * sharp < fine_structure_fraction(sparse) < sharp
    noise = estimate_noise(img)
    # sigma 1 px: lines of sigma 0.8 px widen to 1.3 px; most, not all, fine structure is gone
    assert fine_structure_fraction(_blurred(img, 1.0, noise)) < 0.15 * sharp
    for sigma in (1.5, 2.0):
        assert fine_structure_fraction(_blurred(img, sigma)) == 0.0
        # with noise: a stray pixel or two of the strongest 2 % (0.0002), far under 0.0025
        assert fine_structure_fraction(_blurred(img, sigma, noise)) < 0.001


def test_focus_of_an_empty_field_is_not_measurable():
    noise = np.random.default_rng(0).normal(300, 10, (256, 256)).astype(np.float32)
    assert np.isnan(focus_score(noise))
    assert np.isnan(fine_structure_fraction(noise))


def _bright_and_faint(seed: int = 3, shape=(400, 400)):
    """A flat cell with a bright 50 um neurite and a dim 40 um process leaving it, plus two
    faint isolated lines (30 and 150 um)."""
    img = 600 * _blob(shape, 200, 200, 14 / PX, 24 / PX)
    img += 1500 * _line(shape, 200, 200 + 24 / PX - 4, 0, 50 / PX)
    img += 300 * _line(shape, 200 - 14 / PX + 4, 200, -90, 40 / PX, width_um=3.0)
    img += 40 * _line(shape, 40, 40, 0, 30 / PX)
    img += 40 * _line(shape, 360, 40, 0, 150 / PX)
    img = np.clip(img + 300 + np.random.default_rng(seed).normal(0, 12, shape), 0, 65535)
    return img.astype(np.uint16)


PIECES = replace(COCULTURE, non_neuronal_process_um=120.0)


def test_a_bright_piece_touching_a_cell_is_a_neurite_not_its_process():
    img = _bright_and_faint()
    plain = analyse_field(img, None, pixel_size=PX, settings=PIECES)
    # both pieces touching the cell are shorter than 120 um: taken as its processes
    # (the faint lines are planted 30 and 150 um long)
    assert sorted(plain.fragments["length_um"]) == pytest.approx([30, 150], abs=2.5)
    bright = analyse_field(img, None, pixel_size=PX,
                           settings=replace(PIECES, bright_neurite_ridge=60.0))
    # the bright one (mean ridge response ~370 noise sigmas) is kept, the dim one (~50) is not
    assert sorted(bright.fragments["length_um"]) == pytest.approx([30, 45, 150], abs=2.5)
    assert bright.metrics["non_neuronal_process_length_um"] == pytest.approx(
        plain.metrics["non_neuronal_process_length_um"] - 44.6, abs=1.0)


def test_faint_short_pieces_are_dropped_long_ones_kept():
    img = _bright_and_faint()
    # the faint lines' ridge response averages 8-10 noise sigmas along them
    faint = analyse_field(img, None, pixel_size=PX, settings=replace(PIECES, min_piece_ridge=12.0))
    assert faint.metrics["total_neurite_length_um"] == 0
    spared = analyse_field(img, None, pixel_size=PX,
                           settings=replace(PIECES, min_piece_ridge=8.0, faint_piece_max_um=120.0))
    assert spared.fragments["length_um"].round().tolist() == [150]
    assert spared.metrics["debris_fraction"] > 0        # the dropped length counts as debris


def test_a_bright_neurite_crossing_a_cell_is_followed_though_its_pieces_are_short():
    img = _crossing(150, 1500)
    plain = analyse_field(img, None, pixel_size=PX, settings=PIECES)
    # each side (~50 um) touches one cell only and is shorter than 120 um: a process
    assert plain.metrics["total_neurite_length_um"] < 10
    bright = analyse_field(img, None, pixel_size=PX,
                           settings=replace(PIECES, bright_neurite_ridge=60.0))
    assert bright.metrics["total_neurite_length_um"] == pytest.approx(150, rel=0.05)


def _flat_cell_and_neuron(seed: int = 0, shape=(400, 400)):
    """A flat spread cell (dim 50 um disc, bright fibres in it) and a neuron with one neurite.

    Returns the neurite channel, the nuclear channel, the flat cell's and the
    neuron's nucleus centres (row, col) and the neurite's drawn length (µm,
    from the soma's edge).
    """
    rng = np.random.default_rng(seed)
    img = np.zeros(shape, np.float32)
    flat, neuron = (130, 140), (320, 60)
    img += 90 * _blob(shape, *flat, 25 / PX, 25 / PX)                 # spread cytoplasm
    inside = _blob(shape, *flat, 23 / PX, 23 / PX) > 0.5
    for _ in range(14):                       # cytoskeletal fibres crossing it, 80 um long
        angle = rng.uniform(0, 360)
        a = np.deg2rad(angle)
        r0 = flat[0] + rng.uniform(-30, 30) - 40 / PX * np.sin(a)
        c0 = flat[1] + rng.uniform(-30, 30) - 40 / PX * np.cos(a)
        img += 150 * np.where(inside, _line(shape, r0, c0, angle, 80 / PX, width_um=1.0), 0)
    img += 700 * _blob(shape, *neuron, 6 / PX, 6 / PX)                # round neuronal soma
    length_um = 150.0
    img += 400 * _line(shape, neuron[0], neuron[1] + 6 / PX, -15, length_um / PX)
    img += 300 + rng.normal(0, 12, shape)
    nuclei = sum(600 * _blob(shape, r, c, 5 / PX, 5 / PX) for r, c in (flat, neuron))
    nuclei += 100 + rng.normal(0, 8, shape)
    as_u16 = lambda a: np.clip(a, 0, 65535).astype(np.uint16)       # noqa: E731
    return as_u16(img), as_u16(nuclei), flat, neuron, length_um


def _cell_at(res, centre):
    d = (res.cells["row"] - centre[0]) ** 2 + (res.cells["col"] - centre[1]) ** 2
    return res.cells.loc[d.idxmin()]


def test_flat_spread_cell_gets_no_neurite_and_a_neuron_keeps_its_neurite():
    from neurotox.assays.base import resolve_parameters

    img, nuclei, flat, neuron, length = _flat_cell_and_neuron()
    shipped = resolve_parameters("neurite-outgrowth-shsy5y")[1].settings()
    assert shipped.spread_min_width_um is not None
    res = analyse_field(img, nuclei, pixel_size=PX, settings=shipped)
    assert res.metrics["nuclei_count"] == 2
    assert _cell_at(res, flat)["neurite_length_um"] < 5.0              # ~0: no honeycomb
    assert _cell_at(res, flat)["body_area_um2"] > 1000                 # its spread area is body
    assert _cell_at(res, neuron)["neurite_length_um"] == pytest.approx(length, rel=0.10)
    # the same field without the rule: the fibres are traced as the flat cell's neurite
    off = analyse_field(img, nuclei, pixel_size=PX,
                        settings=replace(shipped, spread_min_width_um=None))
    assert _cell_at(off, flat)["neurite_length_um"] > 100
