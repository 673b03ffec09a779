//! Night-time nitrate through NO3 and N2O5, with carried ozone.
//!
//! - NO2 + O3 -> NO3 + O2, k1 = 1.4e-13 exp(-2470/T) cm3 s-1 (JPL 19-5,
//!   Burkholder et al. 2019), and NO3 + NO2 <-> N2O5 in fast equilibrium,
//!   K = 2.7e-27 exp(11000/T) cm3 (JPL 10-6 Table 3). Each NO3 formed in the
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
//!   field determinations of Tham et al. (2018), Atmos. Chem. Phys. 18,
//!   13155: mean gamma 0.022 and phi 0.34 (Wang H. et al. 2018, Atmos.
//!   Chem. Phys. 18, 9705, found gamma 0.012-0.055 and phi 0.5-1 in
//!   Beijing's outflow).
//! - By day NO3 photolyses within seconds (Wayne et al. 1991, Atmos.
//!   Environ. 25A, 1) and the reservoir returns to NO2 within the step;
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

/// NO2 + NO3 <-> N2O5 equilibrium constant, cm3 molecule-1 (JPL 10-6).
pub fn k_eq_n2o5(temperature: f64) -> f64 {
    2.7e-27 * (11000.0 / temperature).exp()
}

/// Share of the NO3 + N2O5 reservoir present as N2O5 at an NO2 number
/// density (molecules cm-3).
pub fn n2o5_share(temperature: f64, no2_cm3: f64) -> f64 {
    let x = k_eq_n2o5(temperature) * no2_cm3;
    x / (1.0 + x)
}

/// ClNO2 photolysis frequency at overhead sun, s-1 (module notes).
pub const J_CLNO2_NOON: f64 = 3.0e-4;
