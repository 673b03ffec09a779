//! Secondary organic aerosol: the two-product absorptive-partitioning model
//! (Odum et al. 1996, Environ. Sci. Technol. 30, 2580; Pankow 1994, Atmos.
//! Environ. 28, 185), with the product yields, saturation concentrations and
//! vaporisation enthalpies of CMAQ's AERO6 (`SOA_DEFN.F`: toluene-type
//! aromatics after Ng et al. 2007, long alkanes after Pye & Pouliot 2012,
//! isoprene after Henze & Seinfeld 2006, monoterpenes after Carlton et al. 2010).
//!
//! Each VOC class reacts with OH (exact first-order decay over the step);
//! a mass yield alpha_i of what reacts becomes semi-volatile product i
//! (the rest goes to gas products not carried). Each product splits between
//! a gas species SV* and a particle species A* so that
//! C_p,i = C_tot,i M / (M + C*_i(T)), M = sum_i C_p,i + absorbing primary
//! organic matter (1.6 x OC, the urban OM/OC ratio of Turpin & Lim 2001,
//! Aerosol Sci. Technol. 35, 602), solved by bisection; with no primary
//! organics, particles form only once sum_i C_tot,i / C*_i exceeds 1.
//! C*(T) = C*(298) (298/T) exp(dH/R (1/298 - 1/T)), the Clausius-Clapeyron
//! form CMAQ uses: warm air holds more in the gas.
//!
//! OH rate constants, cm3 molecule-1 s-1: toluene 1.8e-12 exp(340/T) (JPL
//! 19-5); n-dodecane for the alkane class 1.32e-11 (Atkinson & Arey 2003,
//! Chem. Rev. 103, 4605); isoprene 2.7e-11 exp(390/T) (IUPAC); alpha-pinene
//! for monoterpenes 1.21e-11 exp(436/T) (SAPRC-07 as tabulated in CMAQ).
//! Alkenes (OLE) form no SOA in AERO6 and are carried without chemistry here.

use ndarray::ArrayViewMut3;

/// Gas constant, J/(mol K).
const R_GAS: f64 = 8.314_462;
/// Organic mass per unit of primary organic carbon (Turpin & Lim 2001, urban).
pub const OM_PER_OC: f64 = 1.6;

/// One semi-volatile product: gas and particle species, mass yield,
/// saturation concentration at 298 K (ug/m3) and vaporisation enthalpy (J/mol).
#[derive(Debug, Clone, Copy)]
pub struct Product {
    pub gas: &'static str,
    pub particle: &'static str,
    pub alpha: f64,
    pub cstar_298: f64,
    pub enthalpy: f64,
}

/// A VOC class that forms SOA.
#[derive(Debug, Clone, Copy)]
pub struct SoaClass {
    pub precursor: &'static str,
    pub k_oh: fn(f64) -> f64,
    pub products: [Product; 2],
}

const fn product(
    gas: &'static str,
    particle: &'static str,
    alpha: f64,
    cstar_298: f64,
    enthalpy: f64,
) -> Product {
    Product {
        gas,
        particle,
        alpha,
        cstar_298,
        enthalpy,
    }
}

pub const CLASSES: [SoaClass; 4] = [
    SoaClass {
        precursor: "ARO",
        k_oh: |t| 1.8e-12 * (340.0 / t).exp(),
        products: [
            product("SVARO1", "AARO1", 0.0580, 2.3260, 18.0e3),
            product("SVARO2", "AARO2", 0.1130, 21.2770, 18.0e3),
        ],
    },
    SoaClass {
        precursor: "ALK",
        k_oh: |_| 1.32e-11,
        products: [
            product("SVALK1", "AALK1", 0.0334, 0.1472, 53.0e3),
            product("SVALK2", "AALK2", 0.2164, 51.8775, 53.0e3),
        ],
    },
    SoaClass {
        precursor: "ISOP",
        k_oh: |t| 2.7e-11 * (390.0 / t).exp(),
        products: [
            product("SVISO1", "AISO1", 0.2320, 116.01, 40.0e3),
            product("SVISO2", "AISO2", 0.0288, 0.6170, 40.0e3),
        ],
    },
    SoaClass {
        precursor: "TERP",
        k_oh: |t| 1.21e-11 * (436.0 / t).exp(),
        products: [
            product("SVTRP1", "ATRP1", 0.1393, 14.7920, 40.0e3),
            product("SVTRP2", "ATRP2", 0.4542, 133.7297, 40.0e3),
        ],
    },
];

/// Semi-volatile products of all classes together.
const MAX_PRODUCTS: usize = 2 * CLASSES.len();

/// True for the particle species of this scheme (reported together as SOA).
pub fn is_soa_particle(name: &str) -> bool {
    CLASSES
        .iter()
        .any(|c| c.products.iter().any(|p| p.particle == name))
}

/// Saturation concentration at temperature T, ug/m3.
pub fn cstar(p: &Product, temperature: f64) -> f64 {
    p.cstar_298
        * (298.0 / temperature)
        * (p.enthalpy / R_GAS * (1.0 / 298.0 - 1.0 / temperature)).exp()
}

/// Absorbing organic mass M (ug/m3) in equilibrium with product totals
/// `total` (ug/m3) of saturation concentrations `cstar`, over `poa` of
/// primary organic matter: the root of poa + sum C_i M / (M + C*_i) = M.
pub fn absorbing_mass(total: &[f64], cstar: &[f64], poa: f64) -> f64 {
    let sum: f64 = total.iter().sum();
    if poa <= 0.0 && total.iter().zip(cstar).map(|(c, s)| c / s).sum::<f64>() <= 1.0 {
        return 0.0;
    }
    let g = |m: f64| {
        poa + total
            .iter()
            .zip(cstar)
            .map(|(c, s)| c * m / (m + s))
            .sum::<f64>()
            - m
    };
    // g > 0 just above 0 and g <= 0 at poa + sum: bisect.
    let (mut lo, mut hi) = (0.0f64, poa + sum);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Tracer indices of the classes the run carries completely.
#[derive(Debug, Clone)]
pub struct SoaTracers {
    /// (class, precursor, [(gas, particle); 2]).
    classes: Vec<(usize, usize, [(usize, usize); 2])>,
    oc: Option<usize>,
}

impl SoaTracers {
    pub fn find(find: impl Fn(&str) -> Option<usize>) -> Option<SoaTracers> {
        let classes: Vec<_> = CLASSES
            .iter()
            .enumerate()
            .filter_map(|(c, class)| {
                let prec = find(class.precursor)?;
                let p0 = (
                    find(class.products[0].gas)?,
                    find(class.products[0].particle)?,
                );
                let p1 = (
                    find(class.products[1].gas)?,
                    find(class.products[1].particle)?,
                );
                Some((c, prec, [p0, p1]))
            })
            .collect();
        (!classes.is_empty()).then(|| SoaTracers {
            classes,
            oc: find("OC"),
        })
    }

    /// Every tracer this scheme changes (precursors and products).
    pub fn tracers(&self) -> Vec<usize> {
        self.classes
            .iter()
            .flat_map(|&(_, prec, p)| [prec, p[0].0, p[0].1, p[1].0, p[1].1])
            .collect()
    }

    /// Species names the scheme needs for a class (for messages and docs).
    pub fn species_of_class(class: &SoaClass) -> [&'static str; 5] {
        [
            class.precursor,
            class.products[0].gas,
            class.products[0].particle,
            class.products[1].gas,
            class.products[1].particle,
        ]
    }

    /// Oxidise and partition one cell. `layer` is [tracer, j, i] in kg;
    /// `volume` m3; `oh` molecules cm-3.
    pub fn apply_cell(
        &self,
        layer: &mut ArrayViewMut3<f64>,
        j: usize,
        i: usize,
        temperature: f64,
        oh: f64,
        dt: f64,
        volume: f64,
    ) {
        if oh > 0.0 {
            for &(c, prec, prods) in &self.classes {
                let class = &CLASSES[c];
                let lost = layer[[prec, j, i]] * -(-(class.k_oh)(temperature) * oh * dt).exp_m1();
                layer[[prec, j, i]] -= lost;
                for (p, &(gas, _)) in class.products.iter().zip(&prods) {
                    layer[[gas, j, i]] += p.alpha * lost;
                }
            }
        }
        // Partition all products together (they share one absorbing phase),
        // in ug/m3; fixed-size arrays keep this per-cell path free of allocation.
        let to_ug = 1e9 / volume;
        let mut total = [0.0; MAX_PRODUCTS];
        let mut cs = [0.0; MAX_PRODUCTS];
        let mut n = 0;
        for &(c, _, prods) in &self.classes {
            for (p, &(gas, part)) in CLASSES[c].products.iter().zip(&prods) {
                total[n] = (layer[[gas, j, i]] + layer[[part, j, i]]) * to_ug;
                cs[n] = cstar(p, temperature);
                n += 1;
            }
        }
        let poa = self
            .oc
            .map(|oc| OM_PER_OC * layer[[oc, j, i]] * to_ug)
            .unwrap_or(0.0);
        let m = absorbing_mass(&total[..n], &cs[..n], poa);
        let mut n = 0;
        for &(_, _, prods) in &self.classes {
            for &(gas, part) in &prods {
                let sum = layer[[gas, j, i]] + layer[[part, j, i]];
                let particle = if m > 0.0 { sum * m / (m + cs[n]) } else { 0.0 };
                layer[[part, j, i]] = particle;
                layer[[gas, j, i]] = sum - particle;
                n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitioning_solves_the_pankow_equation() {
        let total = [5.0, 20.0];
        let cs = [1.0, 50.0];
        let m = absorbing_mass(&total, &cs, 2.0);
        let residual = 2.0 + 5.0 * m / (m + 1.0) + 20.0 * m / (m + 50.0) - m;
        assert!(residual.abs() < 1e-9, "residual {residual}");
        // Without primary organics: nothing below the threshold, something above.
        assert_eq!(absorbing_mass(&[0.5, 10.0], &[1.0, 50.0], 0.0), 0.0);
        assert!(absorbing_mass(&[2.0, 10.0], &[1.0, 50.0], 0.0) > 0.0);
    }

    #[test]
    fn saturation_concentration_rises_with_temperature() {
        let p = CLASSES[3].products[0];
        assert!((cstar(&p, 298.0) - p.cstar_298).abs() < 1e-12);
        assert!(cstar(&p, 308.0) > 1.5 * p.cstar_298 && cstar(&p, 278.0) < 0.5 * p.cstar_298);
    }
}
