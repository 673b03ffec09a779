//! Model-performance statistics of paired (observed, modelled) values and
//! the HJ 663-2013 percentile.
//!
//! With O_i the observations, M_i the model values paired with them and
//! N the number of pairs (Emery et al. 2017, "Recommendations on statistics
//! and benchmarks to assess photochemical model performance", J. Air Waste
//! Manage. Assoc. 67(5):582-598, doi:10.1080/10962247.2016.1265027, Table 1):
//!
//! - mean bias MB = (1/N) sum (M_i - O_i)
//! - normalised mean bias NMB = sum (M_i - O_i) / sum O_i
//! - normalised mean error NME = sum |M_i - O_i| / sum O_i
//! - root-mean-square error RMSE = sqrt((1/N) sum (M_i - O_i)^2)
//! - Pearson's correlation coefficient
//!   r = sum (M_i - M')(O_i - O') / sqrt(sum (M_i - M')^2 sum (O_i - O')^2)
//!
//! and (Chang and Hanna 2004, "Air quality model performance evaluation",
//! Meteorol. Atmos. Phys. 87:167-196, doi:10.1007/s00703-003-0070-7,
//! eq. 6) the fraction of pairs within a factor of two,
//! FAC2 = fraction of pairs with 0.5 <= M_i / O_i <= 2.0 (bounds
//! included). A pair with O_i = 0 counts as within only when M_i = 0 too.
//!
//! A statistic that is undefined (no pairs; sum O = 0; r with fewer than
//! two pairs or a constant series) is NaN and printed as "-".

/// The statistics of one set of pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub n: usize,
    pub obs_mean: f64,
    pub model_mean: f64,
    pub mb: f64,
    pub nmb: f64,
    pub nme: f64,
    pub rmse: f64,
    pub r: f64,
    pub fac2: f64,
}

/// The statistics of `pairs` (observed, modelled); sums in f64 in the
/// pairs' order.
pub fn scores(pairs: &[(f64, f64)]) -> Scores {
    let n = pairs.len();
    if n == 0 {
        return Scores {
            n,
            obs_mean: f64::NAN,
            model_mean: f64::NAN,
            mb: f64::NAN,
            nmb: f64::NAN,
            nme: f64::NAN,
            rmse: f64::NAN,
            r: f64::NAN,
            fac2: f64::NAN,
        };
    }
    let nf = n as f64;
    let (mut so, mut sm, mut sd, mut sad, mut sd2, mut within) = (0.0, 0.0, 0.0, 0.0, 0.0, 0);
    for &(o, m) in pairs {
        so += o;
        sm += m;
        let d = m - o;
        sd += d;
        sad += d.abs();
        sd2 += d * d;
        let in_factor_2 = if o > 0.0 {
            let q = m / o;
            (0.5..=2.0).contains(&q)
        } else {
            m == o
        };
        within += usize::from(in_factor_2);
    }
    let (om, mm) = (so / nf, sm / nf);
    let (mut cov, mut vo, mut vm) = (0.0, 0.0, 0.0);
    for &(o, m) in pairs {
        cov += (o - om) * (m - mm);
        vo += (o - om) * (o - om);
        vm += (m - mm) * (m - mm);
    }
    let r = if n >= 2 && vo > 0.0 && vm > 0.0 {
        cov / (vo * vm).sqrt()
    } else {
        f64::NAN
    };
    let by_obs = |x: f64| if so != 0.0 { x / so } else { f64::NAN };
    Scores {
        n,
        obs_mean: om,
        model_mean: mm,
        mb: sd / nf,
        nmb: by_obs(sd),
        nme: by_obs(sad),
        rmse: (sd2 / nf).sqrt(),
        r,
        fac2: within as f64 / nf,
    }
}

/// The p-th percentile (0 <= p <= 100) of `values` as HJ 663-2013
/// ("Technical regulation for ambient air quality assessment (on trial)",
/// percentile method) computes it: sort ascending to X(1) <= ... <= X(n);
/// k = 1 + (n - 1) p / 100; s = the integer part of k;
/// m_p = X(s) + (X(s+1) - X(s)) (k - s), and m_p = X(n) when s = n.
/// (This is the linear interpolation of Excel's PERCENTILE.INC and of
/// numpy's default.) NaN for an empty list.
pub fn percentile_hj663(values: &[f64], p: f64) -> f64 {
    let mut x: Vec<f64> = values.to_vec();
    if x.is_empty() {
        return f64::NAN;
    }
    x.sort_by(f64::total_cmp);
    let n = x.len();
    let k = 1.0 + (n as f64 - 1.0) * p / 100.0;
    let s = k.floor() as usize;
    if s >= n {
        return x[n - 1];
    }
    let s = s.max(1);
    x[s - 1] + (x[s] - x[s - 1]) * (k - s as f64)
}

/// Valid hours a day needs for a 24-h mean: at least 20 hourly values
/// (GB 3095-2012 Table 4 / HJ 663-2013 data validity for the PM2.5 24-h
/// mean). The same figure as `attribution::report::MIN_DAY_HOURS`.
pub const MIN_DAY_HOURS: usize = 20;

/// The GB 3095-2012 grade II 24-h PM2.5 limit, ug/m3 (Table 1).
pub const GRADE_II_24H_PM25: f64 = 75.0;

/// GB 3095-2012 statistics of a series of daily means: the period mean
/// (the mean of the valid daily means), their 95th percentile by HJ 663
/// and the number of days above the grade II 24-h limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyStats {
    pub days: usize,
    pub mean: f64,
    pub p95: f64,
    pub days_over_75: usize,
}

pub fn daily_stats(daily_means: &[f64]) -> DailyStats {
    let days = daily_means.len();
    DailyStats {
        days,
        mean: if days > 0 {
            daily_means.iter().sum::<f64>() / days as f64
        } else {
            f64::NAN
        },
        p95: percentile_hj663(daily_means, 95.0),
        days_over_75: daily_means
            .iter()
            .filter(|&&v| v > GRADE_II_24H_PM25)
            .count(),
    }
}
