//! Night-time nitrate through NO3 and N2O5, with carried ozone.
//!
//! - NO2 + O3 -> NO3 + O2, k1 = 1.4e-13 exp(-2470/T) cm3 s-1 (JPL 19-5,
//!   Burkholder et al. 2019), and NO3 + NO2 <-> N2O5 in fast equilibrium,
//!   K = 5.8e-27 exp(10840/T) cm3 (JPL 19-5, the edition of k1; the
//!   JPL 10-6 value 2.7e-27 exp(11000/T) is 17-20 % smaller at 268-298 K). Each NO3 formed in the
//!   dark takes a second NO2 into the NO3/N2O5 reservoir (species `N2O5`,
//!   which carries both), so the step is 2 NO2 + O3 -> N2O5, second order
//!   in NO2 and O3 and integrated exactly ([`super::kinetics`]); it stops
//!   when ozone is titrated. All NOx counts as NO2 at night: fresh NO is
//!   titrated by O3 where it is emitted ([`titrate_ozone`]), so NO and O3
//!   do not coexist in the dark.
//! - The reservoir hydrolyses on wet particles: N2O5 + H2O/Cl- ->
//!   (2 - phi) HNO3 + phi ClNO2 at k = gamma c S / 4 times the N2O5 share
//!   of the reservoir, K[NO2] / (1 + K[NO2]) ([`super::aerosol_water`]).
//!   gamma and phi are case keys; defaults from the North China Plain
//!   *summer* field determinations of Tham et al. (2018), Atmos. Chem.
//!   Phys. 18, 13155 (Wangdu, 2014): mean gamma 0.022 and phi 0.34 (Wang
//!   H. et al. 2018, Atmos. Chem. Phys. 18, 9705, found gamma 0.012-0.055
//!   and phi 0.5-1 in Beijing's outflow, summer 2016). Winter gamma in
//!   the same region was smaller (Xia et al. 2021, Atmos. Chem. Phys. 21,
//!   15985), so the default leans high for a winter case; no winter mean
//!   was available to check here.
//! - By day NO3 photolyses within seconds (Wayne et al. 1991, Atmos.
//!   Environ. 25A, 1), about 90 % to NO2 + O (which makes O3) and 10 % to
//!   NO + O2 (whose NO titrates an O3), and the reservoir returns to NO2
//!   within the step with 0.8 O3 per N2O5 ([`O3_PER_RESERVOIR_RETURNED`]);
//!   ClNO2 photolyses back to NO2 (+ Cl) at J = J_noon cos(SZA). J_noon of
//!   order 1e-4 to 1e-3 s-1 puts its lifetime at hours after sunrise, as
//!   the morning persistence of ClNO2 observed in northern China winter
//!   shows (Xia et al. 2021, Atmos. Chem. Phys. 21, 15985); 3e-4 s-1 is
//!   taken. Chlorine chemistry beyond that is not modelled.
//! - Fresh NOx: a fraction `no_fraction_of_nox` (mole) of emitted NOx is
//!   NO, which reacts with ozone within a minute at 40 ppb
//!   (k = 3.0e-12 exp(-1500/T), JPL 19-5): the emission step removes
//!   min(O3, NO emitted) from the cell. Combustion emits NOx mostly as NO
//!   (Seinfeld & Pandis 2006, ch. 2); the 0.9 default is the split commonly
//!   assumed when speciating NOx inventories, not checked here against a
//!   particular speciation profile. NO left over where ozone runs out is
//!   counted as NO2 and does not titrate ozone mixed in later (no NO
//!   tracer): ozone is over-estimated downwind of large night-time NO
//!   sources.
//! - Ozone is a background the model carries but cannot yet make
//!   (no VOC-NOx photochemistry; roadmap item 8): by day it relaxes toward
//!   `ozone_ppb` with the time `ozone_recovery_hours`, a stand-in for
//!   photochemical production and entrainment of residual-layer ozone.

/// NO2 + NO3 <-> N2O5 equilibrium constant, cm3 molecule-1 (JPL 19-5).
pub fn k_eq_n2o5(temperature: f64) -> f64 {
    5.8e-27 * (10840.0 / temperature).exp()
}

/// Ozone returned per N2O5 (NO3 reservoir) photolysed by day: the NO3
/// photolysis branching 0.9 to NO2 + O, 0.1 to NO + O2 (module notes).
pub const O3_PER_RESERVOIR_RETURNED: f64 = 0.9 - 0.1;

/// Share of the NO3 + N2O5 reservoir present as N2O5 at an NO2 number
/// density (molecules cm-3).
pub fn n2o5_share(temperature: f64, no2_cm3: f64) -> f64 {
    let x = k_eq_n2o5(temperature) * no2_cm3;
    x / (1.0 + x)
}

/// ClNO2 photolysis frequency at overhead sun, s-1 (module notes).
pub const J_CLNO2_NOON: f64 = 3.0e-4;
