"""Statistics against R's own numbers, on data written out here.

Reference values come from R 4.2.2 with nlme 3.1-162, lme4 1.1-31, lmerTest 3.1-3,
pbkrtest 0.5-2, kSamples 1.2-9 and coin 1.4-2; the comment above each names the R
call. R is never called from the tests. The data sets are seeded simulations
(litters: 3-4 groups, 1-6 pups per litter; repeated measures: 2-3 groups, 4-6
timepoints, one with missing values) rounded to two decimals, chosen for the cases
that separate implementations: a litter variance on the boundary, a multi-df
Satterthwaite test whose df depends on the contrast basis, unequal litter sizes.
"""

import numpy as np
import pandas as pd
import pytest

from neurotox import stats

# group, values of one litter (litter data) / group, values per timepoint T0.. (None: missing)
LITTERS = {
    4: [
        [0, [111.83, 114.05, 100.05, 97.26, 104.51]],
        [0, [102.7, 89.99, 105.04]],
        [0, [95.27, 99.21]],
        [1, [99.23, 99.5, 100.65]],
        [1, [104.04, 104.45, 109.81, 110.58, 81.37]],
        [1, [95.35, 105.61]],
        [1, [107.16]],
        [1, [95.7, 110.0, 109.25, 92.82, 92.24, 98.84]],
        [1, [116.33]],
        [1, [93.54, 93.07, 101.55]],
        [1, [93.33, 114.2, 85.51, 111.76]],
        [2, [82.93, 87.22, 99.35, 106.46, 89.69, 109.21]],
        [2, [99.19, 120.13, 96.41, 100.07, 95.11, 104.07]],
        [2, [98.31, 95.9, 106.3, 104.98, 93.52, 87.04]],
        [2, [93.39, 95.37, 107.54]],
        [2, [99.27, 92.72]],
        [2, [99.41, 87.67]],
        [2, [91.41, 97.61]],
        [3, [118.78, 111.65, 99.42, 106.2, 92.82, 82.64]],
        [3, [121.2, 111.36, 88.72, 108.29, 88.15, 90.05]],
        [3, [73.67, 101.11]],
    ],
    24: [
        [0, [11.49, 10.46, 9.79, 9.34, 9.64]],
        [0, [8.53, 9.63, 11.56, 10.76, 10.25, 9.66]],
        [0, [10.59, 8.97, 9.16, 9.48, 9.54]],
        [0, [11.16, 9.91, 11.1, 8.77, 10.52]],
        [1, [11.0, 10.95]],
        [1, [8.38]],
        [1, [8.06]],
        [2, [10.95, 9.31, 9.88, 10.81]],
        [2, [12.43, 8.37, 10.37, 10.9]],
        [2, [8.23, 10.66]],
        [2, [7.82, 9.93, 9.32, 8.64, 9.88, 8.49]],
        [2, [9.1, 9.67, 9.77, 8.0, 9.93]],
        [2, [9.97, 10.23, 10.27, 9.34]],
        [2, [9.54, 10.19, 12.17]],
    ],
    29: [
        [0, [0.43, 0.54, 0.5, 0.45, 0.53, 0.52]],
        [0, [0.44, 0.56]],
        [0, [0.51, 0.42, 0.5, 0.54]],
        [0, [0.43]],
        [0, [0.52, 0.41, 0.43, 0.56]],
        [0, [0.49, 0.49, 0.62, 0.51, 0.51, 0.56]],
        [0, [0.57, 0.52, 0.5]],
        [0, [0.52, 0.48, 0.48, 0.53, 0.41, 0.43]],
        [1, [0.45, 0.64, 0.5, 0.52, 0.53, 0.53]],
        [1, [0.57, 0.51, 0.55]],
        [1, [0.54, 0.53, 0.65, 0.49]],
        [1, [0.54, 0.56, 0.57]],
        [2, [0.54, 0.47]],
        [2, [0.56, 0.54, 0.67]],
        [2, [0.5, 0.63, 0.6, 0.51, 0.53, 0.61]],
        [2, [0.63]],
        [2, [0.63, 0.59, 0.61, 0.64]],
        [2, [0.52, 0.5, 0.61, 0.54, 0.57]],
    ],
}

REPEATED = {
    3: [
        [0, [5.71, 6.74, 6.72, 5.99]],
        [0, [5.65, 5.54, 5.59, 6.35]],
        [0, [None, 6.25, 6.19, 5.3]],
        [0, [4.96, 5.62, 5.39, 5.19]],
        [0, [4.69, 3.63, 5.21, 5.98]],
        [1, [3.87, 4.75, 5.8, 5.47]],
        [1, [6.64, None, 7.77, 8.21]],
        [1, [None, 3.28, 4.64, 6.29]],
        [1, [None, 6.85, 7.35, 7.22]],
        [1, [2.85, 5.4, 5.9, 6.36]],
    ],
    30: [
        [0, [4.35, 4.9, 3.86, 3.83]],
        [0, [5.48, 4.89, 5.05, 2.33]],
        [0, [3.87, 3.63, 6.59, 10.21]],
        [0, [4.06, 5.01, 6.08, 7.33]],
        [0, [3.94, 6.0, 5.06, 7.23]],
        [0, [3.65, 3.34, 3.83, 3.83]],
        [0, [5.47, 3.73, 3.56, 3.82]],
        [1, [5.51, 6.66, 7.06, 7.33]],
        [1, [4.91, 7.07, 7.62, 8.98]],
        [1, [5.16, 5.34, 3.56, 1.84]],
        [1, [5.74, 5.91, 7.13, 7.44]],
        [1, [5.8, 5.7, 5.98, 4.12]],
        [1, [6.32, 6.75, 7.68, 8.49]],
        [1, [4.83, 6.92, 7.0, 6.35]],
        [2, [5.1, 6.16, 7.44, 8.87]],
        [2, [4.49, 5.32, 6.37, 6.87]],
        [2, [5.91, 7.15, 7.06, 6.98]],
        [2, [6.31, 6.91, 7.35, 6.53]],
        [2, [5.94, 5.88, 6.69, 9.59]],
        [2, [5.69, 5.23, 6.42, 8.35]],
        [2, [5.08, 6.27, 7.82, 6.99]],
    ],
}


def _litter_frame(key):
    rows = [
        {"group": f"G{g}", "litter": f"L{i}", "value": v}
        for i, (g, values) in enumerate(LITTERS[key])
        for v in values
    ]
    return pd.DataFrame(rows)


def _rm_frame(key):
    rows = [
        {"group": f"G{g}", "subject": f"S{i}", "timepoint": f"T{t}", "value": v}
        for i, (g, values) in enumerate(REPEATED[key])
        for t, v in enumerate(values)
        if v is not None
    ]
    return pd.DataFrame(rows)


def _litter_samples(key):
    d = _litter_frame(key)
    groups = sorted(d["group"].unique())
    return (
        [d[d.group == g]["value"].to_numpy() for g in groups],
        [d[d.group == g]["litter"].to_numpy() for g in groups],
    )


# nlme: m <- lme(value ~ group, random = ~1 | litter, data = d)  (REML)
# logLik(m), fixef(m), sqrt(diag(vcov(m))), anova(m)["group", ], summary(m)$tTable[-1, ]
NLME_LITTER = {4: {'llf': -271.218893156091,
     'beta': [101.990999989776, -0.955399984957381, -4.20285184716159, -2.41528571988494],
     'se': [3.05610116257196, 3.61602766088157, 3.57755818802405, 4.00137569135028],
     'F': 0.699071966229454,
     'ddf': 17,
     'p': 0.5654182078661,
     't': [-0.264212576494633, -1.17478224707308, -0.60361383338886],
     't_p': [0.794792514701113, 0.256275396044008, 0.554069989236131]},
 24: {'llf': -77.5843500757636,
      'beta': [10.0135438236657, -0.507032650531004, -0.181391055505477],
      'se': [0.29916965339224, 0.633913088300679, 0.387902781056647],
      'F': 0.337829137734842,
      'ddf': 11,
      'p': 0.7204638640595,
      't': [-0.799845688452652, -0.467619889219066],
      't_p': [0.44073142086086, 0.649183907202351]},
 29: {'llf': 95.4402242568684,
      'beta': [0.497141564264068, 0.0454582082200169, 0.0743506029416829],
      'se': [0.00953080445420414, 0.016490079138899, 0.0151248172536759],
      'F': 12.6208637890048,
      'ddf': 15,
      'p': 0.00061039338378388,
      't': [2.75670042800365, 4.91580173794252],
      't_p': [0.014686866657423, 0.000186513992518216]}}

# lmerTest: l <- lmer(value ~ group + (1 | litter), data = d);
# summary(l, ddf = D)$coefficients[-1, c("t value", "df")], anova(l, ddf = D)
# with D = "Satterthwaite" and "Kenward-Roger" (pbkrtest)
LMERTEST_LITTER = {4: {'satterthwaite': {'t': [-0.264212581680231, -1.17478225320592,
                                             -0.60361383475112],
                       'df': [71.999999998241, 71.999999997861, 71.999999997834],
                       'F': 0.699071970640256,
                       'ddf': 71.9999999977446,
                       'p': 0.555666206197914},
     'kenward_roger': {'t': [-0.259467440352582, -1.15193134608589, -0.593266936692446],
                       'df': [16.2036957939688, 14.7017323490112, 12.0984539252432],
                       'F': 0.663572452759659,
                       'ddf': 11.8104134669492,
                       'p': 0.590459886873313}},
 24: {'satterthwaite': {'t': [-0.799845688626251, -0.467619888689038],
                        'df': [19.9821613937688, 6.58396704366575],
                        'F': 0.337829137728853,
                        'ddf': 9.71414285255163,
                        'p': 0.721373463332788},
      'kenward_roger': {'t': [-0.797051763758199, -0.466037365215412],
                        'df': [23.5214660357734, 8.41544321543422],
                        'F': 0.332622347243125,
                        'ddf': 13.8006987562374,
                        'p': 0.722632711596898}},
 29: {'satterthwaite': {'t': [2.75670047040776, 4.91580182557717],
                        'df': [12.1085436522135, 12.1231478926401],
                        'F': 12.6208642370357,
                        'ddf': 12.3476064654096,
                        'p': 0.00103532837055145},
      'kenward_roger': {'t': [2.70743502355405, 4.81159763581519],
                        'df': [11.9168362847196, 11.9312604815407],
                        'F': 12.095065020353,
                        'ddf': 12.1482804957714,
                        'p': 0.00128710383215708}}}

# contrasts(d$timepoint) <- contr.sum(nlevels(d$timepoint)); tidx = timepoint position
# cs: m <- lme(value ~ group * timepoint, random = ~1 | subject, data = d);
#     logLik(m), fixef(m), sqrt(diag(vcov(m))), anova(m, type = "marginal")
# satterthwaite / kenward_roger: anova(lmer(value ~ group * timepoint + (1 | subject), d),
#     ddf = "Satterthwaite" / "Kenward-Roger")
# ar1: gls(value ~ group * timepoint, correlation = corAR1(form = ~ tidx | subject), d)
# unstructured: gls(value ~ group * timepoint, correlation = corSymm(form = ~ tidx | subject),
#     weights = varIdent(form = ~ 1 | timepoint), d)
# F, ddf, p: [group, group:timepoint]
RM = {3: {'cs': {'llf': -44.6596144506692,
            'beta': [5.60844591159091, 0.0873785012035097, -0.312662265227283,
                     -0.0524459115909052, 0.211554088409094, -1.05198576525106,
                     -0.193257232341916, 0.38462149879649],
            'se': [0.444224030444641, 0.631330126441816, 0.278650826618449, 0.253424348171234,
                   0.253424348171234, 0.42974499390575, 0.385454325186623, 0.363807023841085],
            'F': [0.0191556174006244, 3.15000664713952],
            'ddf': [8, 20],
            'p': [0.893341700972391, 0.0476391701669228]},
     'satterthwaite': {'F': [0.0191556167543808, 3.15000670095551],
                       'ddf': [7.79577092061003, 20.0244454239218],
                       'p': [0.89342940934724, 0.0476084119886246]},
     'kenward_roger': {'F': [0.0191497610997723, 3.13605916910506],
                       'ddf': [8.00495667172875, 20.2344214113346],
                       'p': [0.893355815548619, 0.0479716609851209]},
     'ar1': {'llf': -43.8744441924609,
             'phi': 0.768042975102796,
             'beta': [5.63093886404508, 0.0573451570780185, -0.245183407864748,
                      -0.0749388640450837, 0.189061135954916, -1.23404735584538,
                      -0.0712623299985812, 0.414654842921982],
             'se': [0.448344763419455, 0.636528713226534, 0.325401028790525, 0.223217340043576,
                    0.223217340043575, 0.494979024068995, 0.341687080533603,
                    0.320616142423915]},
     'unstructured': {'llf': -37.2584377415102,
                      'beta': [5.60685865938201, 0.0903460439911087, -0.317424021853966,
                               -0.0508586593820113, 0.213141340617989, -1.09835129407467,
                               -0.140956617943109, 0.381653956008891],
                      'se': [0.463539694903248, 0.657580079870796, 0.244913682423082,
                             0.283312459085466, 0.121604002272755, 0.370452656970977,
                             0.411492769808893, 0.179578758984448]}},
 30: {'cs': {'llf': -138.733912680807,
             'beta': [4.81892857142857, 1.36678571428572, 1.78, -0.416071428571429,
                      -0.318928571428572, 0.0425000000000006, -0.3025, -0.68, 0.468928571428572,
                      -0.148571428571428, 0.3475, 0.38],
             'se': [0.335070704343146, 0.473861534435982, 0.473861534435982, 0.397050263810889,
                    0.39705026381089, 0.39705026381089, 0.561513868025175, 0.561513868025176,
                    0.561513868025175, 0.561513868025175, 0.561513868025175,
                    0.561513868025176],
             'F': [7.73008371553698, 0.786992395507431],
             'ddf': [18, 54],
             'p': [0.00377311079159881, 0.583971876417452]},
      'satterthwaite': {'F': [7.73004352481374, 0.786993759443175],
                        'ddf': [17.9999997526783, 54.0000002207389],
                        'p': [0.003773192443655, 0.583970849107154]},
      'kenward_roger': {'F': [7.73004352481374, 0.786993759443174],
                        'ddf': [18, 54],
                        'p': [0.00377319236996269, 0.583970849123212]},
      'ar1': {'llf': -131.892775571567,
              'phi': 0.618805864926951,
              'beta': [4.81892857142858, 1.36678571428571, 1.78, -0.416071428571426,
                       -0.318928571428571, 0.0424999999999992, -0.302500000000002,
                       -0.680000000000002, 0.468928571428571, -0.148571428571429,
                       0.347500000000001, 0.380000000000001],
              'se': [0.428176679499688, 0.605533267240336, 0.605533267240336, 0.383815342106362,
                     0.299476135775013, 0.299476135775013, 0.542796862253687, 0.542796862253687,
                     0.42352321282011, 0.42352321282011, 0.423523212820111, 0.42352321282011]},
      'unstructured': {'llf': -110.940076306926,
                       'beta': [4.81892857142857, 1.36678571428571, 1.78, -0.416071428571425,
                                -0.318928571428569, 0.0424999999999992, -0.302500000000003,
                                -0.680000000000002, 0.468928571428569, -0.14857142857143,
                                0.3475, 0.380000000000001],
                       'se': [0.335071609571391, 0.473862814622043, 0.473862814622043,
                              0.405740657478463, 0.306954288404156, 0.178588041652785,
                              0.573803940612219, 0.573803940612219, 0.43409891768974,
                              0.43409891768974, 0.252561630583019, 0.252561630583019]}}}

# nlme::BodyWeight; ar1_position: gls(weight ~ Time * Diet, BodyWeight,
#     correlation = corAR1(form = ~ 1 | Rat)); ar1_days: the same with
#     corCAR1(form = ~ Time | Rat) (correlation phi^|days apart|)
BODYWEIGHT_AR1 = {'ar1_position': {'llf': -568.123877080654,
                  'phi': 0.989574603866451,
                  'beta': [250.110687415093, 0.373511896271955, 203.465613245678,
                           260.911508426635, 0.623835579081864, 0.187803942554348],
                  'se': [13.3275261033848, 0.0909637892575884, 23.083952350263, 23.083952350263,
                         0.157553904643131, 0.157553904643131]},
 'ar1_days': {'llf': -576.044024176594,
              'phi': 0.997943284868756,
              'beta': [250.336432116816, 0.367050135816878, 202.265379849032, 257.49186566338,
                       0.660647538188381, 0.291706904793187],
              'se': [13.3425222897696, 0.10426283733003, 23.1099265070012, 23.1099265070012,
                     0.1805885315969, 0.1805885315969]}}


@pytest.mark.parametrize("key", sorted(NLME_LITTER))
def test_litter_model_matches_nlme(key):
    ref = NLME_LITTER[key]
    fit = stats.mixed_model(_litter_frame(key), "value ~ C(group)", subject="litter",
                            group="group")
    # nlme cannot reach a zero variance (log scale): its likelihood is never higher
    assert fit.llf == pytest.approx(ref["llf"], abs=1e-5) and fit.llf >= ref["llf"] - 1e-9
    np.testing.assert_allclose(fit.params, ref["beta"], rtol=1e-6)
    np.testing.assert_allclose(fit.bse, ref["se"], rtol=2e-5)
    assert fit.main_effect["F"] == pytest.approx(ref["F"], rel=2e-5)
    assert fit.main_effect["ddf"] == ref["ddf"]
    assert fit.main_effect["p"] == pytest.approx(ref["p"], abs=1e-6)
    comp, _ = stats.litter_comparison(*_litter_samples(key))
    np.testing.assert_allclose(comp.statistic, ref["t"], rtol=2e-5)
    np.testing.assert_allclose(comp.extra["p_raw"], ref["t_p"], atol=1e-6)


def test_litter_variance_on_the_boundary_is_reported():
    fit = stats.mixed_model(_litter_frame(4), "value ~ C(group)", subject="litter",
                            group="group")
    assert fit.boundary == ("var_random",) and fit.sd_random == 0.0
    # the profile likelihood falls as soon as the litter variance leaves 0
    from neurotox.stats import reml

    design = fit.fit.design
    at_zero = reml.profile_llf(design, "compound_symmetry", [0.0])
    assert at_zero == pytest.approx(fit.llf, abs=1e-9)
    assert reml.profile_llf(design, "compound_symmetry", [1e-3]) < at_zero


@pytest.mark.parametrize("method", ["satterthwaite", "kenward_roger"])
@pytest.mark.parametrize("key", sorted(LMERTEST_LITTER))
def test_litter_model_matches_lmertest(key, method):
    ref = LMERTEST_LITTER[key][method]
    comp, overall = stats.litter_comparison(*_litter_samples(key), ddf=method)
    np.testing.assert_allclose(comp.statistic, ref["t"], rtol=2e-5)
    np.testing.assert_allclose(comp.extra["ddf"], ref["df"], rtol=2e-4)
    assert overall["F"] == pytest.approx(ref["F"], rel=2e-5)
    assert overall["ddf"] == pytest.approx(ref["ddf"], rel=2e-4)
    assert overall["p"] == pytest.approx(ref["p"], abs=2e-5)


@pytest.mark.parametrize("key", sorted(RM))
def test_repeated_measures_compound_symmetry_matches_nlme_and_lmertest(key):
    ref = RM[key]
    fit = stats.mixed_model(_rm_frame(key), control="G0")
    assert fit.llf == pytest.approx(ref["cs"]["llf"], abs=1e-6)
    np.testing.assert_allclose(fit.params, ref["cs"]["beta"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fit.bse, ref["cs"]["se"], rtol=1e-5)
    for method in ("cs", "satterthwaite", "kenward_roger"):
        f = fit if method == "cs" else stats.mixed_model(_rm_frame(key), control="G0",
                                                        ddf=method)
        tests = (f.main_effect, f.interaction)
        np.testing.assert_allclose([t["F"] for t in tests], ref[method]["F"], rtol=5e-5)
        np.testing.assert_allclose([t["ddf"] for t in tests], ref[method]["ddf"], rtol=5e-4)
        np.testing.assert_allclose([t["p"] for t in tests], ref[method]["p"], atol=5e-5)


@pytest.mark.parametrize("covariance", ["ar1", "unstructured"])
@pytest.mark.parametrize("key", sorted(RM))
def test_repeated_measures_ar1_and_unstructured_match_gls(key, covariance):
    ref = RM[key][covariance]
    fit = stats.mixed_model(_rm_frame(key), control="G0", covariance=covariance)
    assert fit.covariance == covariance
    assert fit.llf == pytest.approx(ref["llf"], abs=1e-6)
    np.testing.assert_allclose(fit.params, ref["beta"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fit.bse, ref["se"], rtol=1e-4)
    if covariance == "ar1":
        assert fit.theta["phi"] == pytest.approx(ref["phi"], abs=1e-5)


def test_covariance_chosen_by_aic_is_recorded():
    fit = stats.mixed_model(_rm_frame(30), control="G0", covariance="aic")
    aics = {k: -2 * RM[30][k]["llf"] for k in ("ar1", "unstructured")}
    aics["ar1"] += 2 * (2 + 12)
    aics["unstructured"] += 2 * (10 + 12)  # 4 timepoints: 10 covariance parameters
    assert fit.aic_by_structure["ar1"] == pytest.approx(aics["ar1"], abs=1e-5)
    assert fit.aic_by_structure["unstructured"] == pytest.approx(aics["unstructured"],
                                                                 abs=1e-5)
    assert fit.covariance == min(fit.aic_by_structure, key=fit.aic_by_structure.get)


@pytest.mark.parametrize("kind,time", [("ar1_position", "label"), ("ar1_days", "Time")])
def test_bodyweight_ar1_matches_nlme(kind, time):
    from tests.unit.stats.test_bodyweight_mixed import TIMES, WEIGHTS

    rows = [{"weight": w, "Time": t, "label": f"day{t:02d}", "Rat": str(rat),
             "Diet": str(diet)}
            for rat, (diet, ws) in WEIGHTS.items() for t, w in zip(TIMES, ws, strict=True)]
    ref = BODYWEIGHT_AR1[kind]
    fit = stats.mixed_model(pd.DataFrame(rows), "weight ~ Time * C(Diet)", subject="Rat",
                            group="Diet", time=time, covariance="ar1")
    assert fit.llf == pytest.approx(ref["llf"], abs=1e-6)
    assert fit.theta["phi"] == pytest.approx(ref["phi"], abs=1e-6)
    order = [0, 3, 1, 2, 4, 5]  # R: (Intercept), Time, Diet2, Diet3, Time:Diet2, Time:Diet3
    np.testing.assert_allclose(fit.params.to_numpy()[order], ref["beta"], rtol=1e-6)
    np.testing.assert_allclose(fit.bse.to_numpy()[order], ref["se"], rtol=1e-5)


# kSamples' Steel.test help example (Steel 1959): control z1, treatments z2..z4
STEEL_1959 = [[103, 111, 136, 106, 122, 114], [119, 100, 97, 89, 112, 86],
              [89, 132, 86, 114, 114, 125], [92, 114, 86, 119, 131, 94]]
# Steel.test(list(z1, z2, z3, z4), method = "asymptotic", alternative = A)$st
STEEL_1959_ASYMPTOTIC = {"less": (-1.771265508445635, 0.110668322987786),
                         "greater": (-0.161024137131421, 0.837646166411338),
                         "two-sided": (1.771265508445635, 0.220943369357241)}

# tied data; kSamples Steel.test(g, method = "exact", alternative = A, Nsim = 2e5)$st[3]
# and jt.test(g, method = "exact", Nsim = 2e5)$JT (J, mu, sig, asymptotic p, exact p)
TIED = {
    "a": {"groups": [[9, 12, 6, 14, 14, 6], [10, 10, 12], [8, 10, 11, 12, 13]],
          "steel": {"greater": 0.647697540554683, "less": 0.728432282003711,
                    "two-sided": 0.994029779744065},
          "jt": (33.5, 31.5, 8.34029013646645, 0.405242726674451, 0.419681508967223)},
    "b": {"groups": [[0, 1, 0, 0], [4, 1, 4, 1], [3, 3, 1, 0]],
          "steel": {"greater": 0.0503318903318903, "less": 0.994285714285714,
                    "two-sided": 0.100606060606061},
          "jt": (33, 24, 6.54680120827004, 0.0846095736965906, 0.0862626262626263)},
}


@pytest.mark.parametrize("alternative", sorted(STEEL_1959_ASYMPTOTIC))
def test_steel_asymptotic_matches_ksamples(alternative):
    stat, p = STEEL_1959_ASYMPTOTIC[alternative]
    res = stats.steel(*STEEL_1959, alternative=alternative, method="asymptotic")
    extreme = {"less": res.statistic.min(), "greater": res.statistic.max(),
               "two-sided": np.abs(res.statistic).max()}[alternative]
    assert extreme == pytest.approx(stat, abs=1e-12)
    assert res.p_value.min() == pytest.approx(p, abs=1e-8)


def test_steel_auto_on_4_groups_of_6_is_monte_carlo_and_exact_is_refused():
    res = stats.steel(*STEEL_1959, alternative="less")
    assert res.method.startswith("Monte Carlo (20000 permutations, seed")
    # near the asymptotic 0.1107 and the 0.104 of larger simulations (4 binomial SE)
    assert abs(res.p_value.min() - 0.104) < 4 * np.sqrt(0.104 * 0.896 / 20000) + 0.001
    again = stats.steel(*STEEL_1959, alternative="less")
    np.testing.assert_array_equal(res.p_value, again.p_value)  # fixed seed
    with pytest.raises(ValueError, match=r"exact Steel test for group sizes \[6, 6, 6, 6\] "
                                         r"would exceed 1e\+07 table steps \(estimated "
                                         r"before running\); use method='monte_carlo'"):
        stats.steel(*STEEL_1959, alternative="less", method="exact")


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
@pytest.mark.parametrize("key", sorted(TIED))
def test_steel_exact_with_ties_matches_ksamples(key, alternative):
    res = stats.steel(*TIED[key]["groups"], alternative=alternative)
    assert res.method == "exact"
    assert res.p_value.min() == pytest.approx(TIED[key]["steel"][alternative], abs=1e-12)


@pytest.mark.parametrize("key", sorted(TIED))
def test_jonckheere_exact_with_ties_matches_ksamples(key):
    j, mu, sig, p_asym, p_exact = TIED[key]["jt"]
    ex = stats.jonckheere(TIED[key]["groups"])
    assert ex.method == "exact" and ex.statistic == j
    assert ex.extra["E_J"] == mu and ex.extra["sd_J"] == pytest.approx(sig, rel=1e-12)
    assert ex.p_value == pytest.approx(p_exact, abs=1e-12)
    asym = stats.jonckheere(TIED[key]["groups"], method="asymptotic")
    assert asym.p_value == pytest.approx(p_asym, abs=1e-12)
    mc = stats.jonckheere(TIED[key]["groups"], method="monte_carlo")
    assert mc.method.startswith("Monte Carlo")
    assert abs(mc.p_value - p_exact) < 4 * np.sqrt(p_exact * (1 - p_exact) / 20000)


# coin: independence_test(score ~ resp, d, distribution = "exact", alternative = A)
# (one row per animal; resp = factor(c("no", "yes")), score = dose score), pvalue();
# coin's "less" is incidence increasing with score
CA_COIN = [
    {"x": [0, 0, 1, 2], "n": [16, 17, 11, 9], "scores": [0, 1, 2, 3],
     "two-sided": 0.0204900537863912, "greater": 0.0204900537863912,
     "less": 0.996414240587382},
    {"x": [2, 0, 1], "n": [15, 8, 19], "scores": [0, 1, 2],
     "two-sided": 0.526742160278746, "greater": 0.88719512195122, "less": 0.323170731707317},
    {"x": [3, 7, 3], "n": [20, 22, 6], "scores": [0, 1, 2],
     "two-sided": 0.0945570854790223, "greater": 0.0594843011631368,
     "less": 0.979126594945557},
]


@pytest.mark.parametrize("case", CA_COIN)
def test_cochran_armitage_exact_matches_coin(case):
    for alternative in ("two-sided", "greater", "less"):
        res = stats.cochran_armitage(case["x"], case["n"], case["scores"], method="exact",
                                     alternative=alternative)
        assert res.p_value == pytest.approx(case[alternative], abs=1e-12), alternative
    doubled = stats.cochran_armitage(case["x"], case["n"], case["scores"], method="exact",
                                     alternative="two-sided", two_sided="doubling")
    one = min(case["greater"], case["less"])
    assert doubled.p_value == pytest.approx(min(1.0, 2 * one), abs=1e-12)


def test_cochran_armitage_without_affected_animals_is_not_testable():
    for method in ("exact", "asymptotic"):
        res = stats.cochran_armitage([0, 0, 0], [10, 10, 10], method=method)
        assert res.method == "not testable" and np.isnan(res.p_value)
        assert res.extra["reason"] == "no affected animals"
