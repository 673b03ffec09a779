//! Averaging statistics and output files of `airshed plume`
//! (model/src/plume/stats.rs, output.rs). Expected values are derived by
//! hand in the comments, or come from a second implementation (sorting the
//! full list of block averages).

use airshed::output::set::Inputs;
use airshed::plume::output::{OutputOptions, PlumeOutputs, RunInfo, FILL};
use airshed::plume::receptors::Receptor;
use airshed::plume::stats::{HourEnding, Stats, StatsOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// Hour k = 1..=48 from 2021-03-01 hour 1: (date, hour).
fn stamp(k: u32) -> (i32, u32, u32, u32) {
    let day = 1 + (k - 1) / 24;
    (2021, 3, day, (k - 1) % 24 + 1)
}

/// The 48-hour series: hour k has concentration k (receptor 0, species 0),
/// scaled by (r + 1)(s + 1) at receptor r and species s; hours 5, 10, 11
/// (day 1) and 30-36 (day 2, hours 6-12) are missing.
fn missing(k: u32) -> bool {
    matches!(k, 5 | 10 | 11 | 30..=36)
}

fn hour_values(k: u32, nr: usize, ns: usize) -> Vec<f64> {
    let mut v = vec![0.0; nr * ns];
    for r in 0..nr {
        for s in 0..ns {
            v[r * ns + s] = k as f64 * ((r + 1) * (s + 1)) as f64;
        }
    }
    v
}

fn options(hours: &[u32], ranks: &[usize]) -> StatsOptions {
    StatsOptions {
        averaging_hours: hours.to_vec(),
        ranks: ranks.to_vec(),
    }
}

/// (block hours, end label, valid, missing, absent, value at receptor 0
/// species 0 or None) of every block the 48 hours give.
type Block = (u32, String, u32, u32, u32, Option<f64>, Vec<f64>);

fn run_48(nr: usize, ns: usize) -> (Vec<Block>, airshed::plume::stats::Results) {
    let mut stats = Stats::new(
        nr,
        ns,
        &options(&[1, 3, 8, 24], &[1, 2, 8]),
        Path::new("met"),
    )
    .unwrap();
    let mut blocks: Vec<Block> = vec![];
    for k in 1..=48 {
        let v = hour_values(k, nr, ns);
        let values = (!missing(k)).then_some(v.as_slice());
        stats
            .push_hour_with(stamp(k), values, |b| {
                blocks.push((
                    b.hours,
                    b.end.label(),
                    b.counts.valid,
                    b.counts.missing,
                    b.counts.absent,
                    b.values.map(|v| v[0]),
                    b.values.map(|v| v.to_vec()).unwrap_or_default(),
                ));
                Ok(())
            })
            .unwrap();
    }
    let results = stats
        .finish_with(|_| panic!("no partial block: the run ends at hour 24"))
        .unwrap();
    (blocks, results)
}

#[test]
fn block_averages_over_48_hours_with_missing_hours_match_hand_values() {
    let (blocks, results) = run_48(2, 2);
    let of = |h: u32| -> Vec<(String, Option<f64>)> {
        blocks
            .iter()
            .filter(|b| b.0 == h)
            .map(|b| (b.1.clone(), b.5))
            .collect()
    };
    // 3-h blocks (divisor max(valid, 3)):
    //  day 1: 1+2+3=6/3=2; (4+6)/3 (5 missing); 7+8+9=24/3=8; 12/3 (10, 11
    //  missing); 42/3=14; 51/3=17; 60/3=20; 69/3=23;
    //  day 2: 78/3=26; (28+29)/3=19 (30 missing); hours 31-33 and 34-36
    //  all missing: no value; 114/3=38; 123/3=41; 132/3=44; 141/3=47.
    let three = of(3);
    let expect3 = [
        ("2021-03-01 03", Some(2.0)),
        ("2021-03-01 06", Some(10.0 / 3.0)),
        ("2021-03-01 09", Some(8.0)),
        ("2021-03-01 12", Some(4.0)),
        ("2021-03-01 15", Some(14.0)),
        ("2021-03-01 18", Some(17.0)),
        ("2021-03-01 21", Some(20.0)),
        ("2021-03-01 24", Some(23.0)),
        ("2021-03-02 03", Some(26.0)),
        ("2021-03-02 06", Some(19.0)),
        ("2021-03-02 09", None),
        ("2021-03-02 12", None),
        ("2021-03-02 15", Some(38.0)),
        ("2021-03-02 18", Some(41.0)),
        ("2021-03-02 21", Some(44.0)),
        ("2021-03-02 24", Some(47.0)),
    ];
    assert_eq!(three.len(), expect3.len());
    for ((end, v), (e_end, e_v)) in three.iter().zip(expect3) {
        assert_eq!(end, e_end);
        match (v, e_v) {
            (Some(v), Some(e)) => assert!(close(*v, e), "{end}: {v} vs {e}"),
            (None, None) => {}
            _ => panic!("{end}: {v:?} vs {e_v:?}"),
        }
    }
    // 8-h blocks (divisor max(valid, 6)):
    //  1-8: 36-5=31, 7 valid -> 31/7; 9-16: 100-21=79, 6 valid -> 79/6;
    //  17-24: 164/8=20.5; 25-32: 228-93=135, 5 valid -> 135/6=22.5;
    //  33-40: 292-138=154, 4 valid -> 154/6; 41-48: 356/8=44.5.
    let eight: Vec<f64> = of(8).iter().map(|b| b.1.unwrap()).collect();
    let expect8 = [31.0 / 7.0, 79.0 / 6.0, 20.5, 22.5, 154.0 / 6.0, 44.5];
    assert_eq!(eight.len(), 6);
    for (v, e) in eight.iter().zip(expect8) {
        assert!(close(*v, e), "{v} vs {e}");
    }
    // 24-h blocks (divisor max(valid, 18)): day 1: 300-26=274 over 21 valid
    // hours -> 274/21; day 2: 876-231=645, 17 valid -> 645/18.
    let day = of(24);
    assert_eq!(day[0].0, "2021-03-01 24");
    assert!(close(day[0].1.unwrap(), 274.0 / 21.0));
    assert!(close(day[1].1.unwrap(), 645.0 / 18.0));
    let counts: Vec<(u32, u32, u32)> = blocks
        .iter()
        .filter(|b| b.0 == 24)
        .map(|b| (b.2, b.3, b.4))
        .collect();
    assert_eq!(counts, vec![(21, 3, 0), (17, 7, 0)]);
    // Layout: receptor-major, r * n_species + s, scaled by (r+1)(s+1).
    let d2 = &blocks.iter().filter(|b| b.0 == 24).nth(1).unwrap().6;
    for (i, scale) in [1.0, 2.0, 2.0, 4.0].into_iter().enumerate() {
        assert!(close(d2[i], scale * 645.0 / 18.0), "slot {i}");
    }
    // The period: 919 over 38 valid hours; 10 missing hours counted.
    let p = results.period.as_ref().unwrap();
    assert!(close(p.values.as_ref().unwrap()[0], 919.0 / 38.0));
    assert_eq!((p.counts.valid, p.counts.missing), (38, 10));
    assert_eq!((results.hours, results.missing_hours), (48, 10));
    // Highest 3-h: 47 (ends 03-02 24), 2nd 44 (03-02 21), 8th of 47, 44,
    // 41, 38, 26, 23, 20, 19 is 19 (03-02 06, with its missing hour).
    let h3 = results.highest_of(3).unwrap();
    let n = |k| h3.nth(0, 0, k).unwrap();
    assert_eq!(
        (n(1).value, n(1).block.end.label()),
        (47.0, "2021-03-02 24".into())
    );
    assert_eq!(
        (n(2).value, n(2).block.end.label()),
        (44.0, "2021-03-02 21".into())
    );
    assert_eq!(
        (n(8).value, n(8).block.end.label()),
        (19.0, "2021-03-02 06".into())
    );
    assert_eq!(n(8).block.counts.missing, 1);
    assert_eq!(
        (
            h3.n_blocks,
            h3.n_blocks_with_missing,
            h3.n_blocks_without_valid
        ),
        (16, 5, 2)
    );
    // At receptor 1, species 1 everything is 4 times larger.
    assert_eq!(h3.nth(1, 1, 1).unwrap().value, 188.0);
    // Highest 24-h: day 2 then day 1; no 8th.
    let h24 = results.highest_of(24).unwrap();
    assert!(close(h24.nth(0, 0, 1).unwrap().value, 645.0 / 18.0));
    assert!(close(h24.nth(0, 0, 2).unwrap().value, 274.0 / 21.0));
    assert!(h24.nth(0, 0, 8).is_none());
    // Highest 1-h: 48, 47; 8th of 48..37 with 30-36 missing is 41.
    let h1 = results.highest_of(1).unwrap();
    assert_eq!(h1.nth(0, 0, 1).unwrap().value, 48.0);
    assert_eq!(h1.nth(0, 0, 8).unwrap().value, 41.0);
    // Max over receptors: receptor 1 (scale 2 for species 0).
    let (r, v) = h1.max_over_receptors(0, 1).unwrap();
    assert_eq!((r, v.value), (1, 96.0));
}

#[test]
fn three_hour_blocks_with_one_and_two_missing_hours_divide_by_three() {
    // EPA/AERMOD: a 3-h average is the valid sum over max(valid,
    // NINT(0.75*3 + 0.4) = NINT(2.65) = 3): always 3.
    let mut stats = Stats::new(1, 1, &options(&[3], &[1]), Path::new("met")).unwrap();
    let mut got = vec![];
    let series: [Option<f64>; 6] = [Some(3.0), None, Some(6.0), Some(9.0), None, None];
    for (i, v) in series.iter().enumerate() {
        let vals = v.map(|x| vec![x]);
        stats
            .push_hour_with((2022, 7, 1, i as u32 + 1), vals.as_deref(), |b| {
                got.push((
                    b.values.unwrap()[0],
                    b.divisor,
                    b.counts.valid,
                    b.counts.missing,
                ));
                Ok(())
            })
            .unwrap();
    }
    // One missing: (3 + 6) / 3 = 3, not the 4.5 of the valid hours alone.
    // Two missing: 9 / 3 = 3, not 9.
    assert_eq!(got, vec![(3.0, 3, 2, 1), (3.0, 3, 1, 2)]);
}

#[test]
fn a_24_hour_block_divides_by_18_until_more_hours_are_valid() {
    // NINT(0.75*24 + 0.4) = NINT(18.4) = 18: 12 valid hours of 10 -> 120/18;
    // 20 valid hours of 10 -> 200/20 = 10.
    for (valid, expect) in [(12u32, 120.0 / 18.0), (18, 10.0), (20, 10.0)] {
        let mut stats = Stats::new(1, 1, &options(&[24], &[1]), Path::new("met")).unwrap();
        for h in 1..=24 {
            let v = (h <= valid).then_some([10.0]);
            stats
                .push_hour((2022, 7, 2, h), v.as_ref().map(|a| &a[..]))
                .unwrap();
        }
        let r = stats.finish();
        let got = r.highest_of(24).unwrap().nth(0, 0, 1).unwrap().value;
        assert!(close(got, expect), "{valid} valid: {got} vs {expect}");
    }
}

/// A small deterministic generator (Knuth's MMIX LCG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn nth_highest_matches_sorting_the_full_list_of_block_averages() {
    let (nr, ns, days) = (5usize, 2usize, 40u32);
    let hours = days * 24;
    let ranks = [1usize, 2, 3, 8, 50];
    let mut rng = Lcg(42);
    // Integer values 0..6 make many ties; 1 hour in 10 missing.
    let series: Vec<Option<Vec<f64>>> = (0..hours)
        .map(|_| {
            if rng.next() % 10 == 0 {
                None
            } else {
                Some((0..nr * ns).map(|_| (rng.next() % 7) as f64).collect())
            }
        })
        .collect();
    let mut stats = Stats::new(nr, ns, &options(&[1, 3, 8, 24], &ranks), Path::new("met")).unwrap();
    let start = HourEnding::new(2019, 12, 20, 1).unwrap().index();
    for (i, v) in series.iter().enumerate() {
        let t = HourEnding::from_index(start + i as i64);
        stats
            .push_hour((t.year, t.month, t.day, t.hour), v.as_deref())
            .unwrap();
    }
    let results = stats.finish();
    // Second implementation: every block's average from the whole series,
    // then a stable sort (equal values keep time order, so the earlier
    // block ranks higher), for each receptor and species. The divisor
    // floors are NINT(0.75 N + 0.4) worked by hand: 3 -> 3, 8 -> 6, 24 -> 18.
    let floor = |p: usize| match p {
        1 => 1,
        3 => 3,
        8 => 6,
        24 => 18,
        _ => unreachable!(),
    };
    for p in [1usize, 3, 8, 24] {
        let table = results.highest_of(p as u32).unwrap();
        for r in 0..nr {
            for s in 0..ns {
                let mut list: Vec<(f64, usize)> = vec![];
                for b in 0..hours as usize / p {
                    let hrs = &series[b * p..(b + 1) * p];
                    let valid: Vec<f64> = hrs.iter().flatten().map(|v| v[r * ns + s]).collect();
                    if valid.is_empty() {
                        continue;
                    }
                    let d = valid.len().max(floor(p)) as f64;
                    list.push((valid.iter().sum::<f64>() / d, b));
                }
                let mut sorted = list.clone();
                sorted.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
                for &k in &ranks {
                    let got = table.nth(r, s, k);
                    match sorted.get(k - 1) {
                        None => assert!(got.is_none(), "{p}h r{r} s{s} rank {k}"),
                        Some(&(v, b)) => {
                            let got = got.unwrap();
                            assert!(
                                close(got.value, v),
                                "{p}h r{r} s{s} rank {k}: {} vs {v}",
                                got.value
                            );
                            let end = HourEnding::from_index(start + ((b + 1) * p) as i64 - 1);
                            assert_eq!(got.block.end, end, "{p}h r{r} s{s} rank {k}: tie order");
                        }
                    }
                }
            }
        }
        // The maximum over receptors of the N-th highest: the largest, the
        // lowest receptor index among equals.
        for s in 0..ns {
            for &k in &ranks {
                let brute = (0..nr)
                    .filter_map(|r| table.nth(r, s, k).map(|v| (r, v.value)))
                    .fold(None::<(usize, f64)>, |best, (r, v)| match best {
                        Some((_, bv)) if bv >= v => best,
                        _ => Some((r, v)),
                    });
                let got = table.max_over_receptors(s, k).map(|(r, v)| (r, v.value));
                assert_eq!(got, brute, "{p}h s{s} rank {k}");
            }
        }
    }
    // Ties did occur: the test exercises the tie rule.
    let h24 = results.highest_of(1).unwrap();
    assert_eq!(h24.nth(0, 0, 1).unwrap().value, 6.0);
    assert_eq!(h24.nth(0, 0, 2).unwrap().value, 6.0);
}

#[test]
fn annual_averages_split_at_the_year_boundary_and_partial_blocks_are_flagged() {
    // 2020-12-31 hours 21-24 (values 1-4), then 2021-01-01 hours 1-4 (values
    // 5-8, the value 6 missing).
    let mut stats = Stats::new(1, 1, &options(&[3, 24], &[1, 2]), Path::new("met")).unwrap();
    let mut blocks = vec![];
    let hours = [
        ((2020, 12, 31, 21), Some(1.0)),
        ((2020, 12, 31, 22), Some(2.0)),
        ((2020, 12, 31, 23), Some(3.0)),
        ((2020, 12, 31, 24), Some(4.0)),
        ((2021, 1, 1, 1), Some(5.0)),
        ((2021, 1, 1, 2), None),
        ((2021, 1, 1, 3), Some(7.0)),
        ((2021, 1, 1, 4), Some(8.0)),
    ];
    let mut record = |b: &airshed::plume::stats::BlockAverage| {
        blocks.push((
            b.hours,
            b.start.label(),
            b.end.label(),
            (b.counts.valid, b.counts.missing, b.counts.absent),
            b.values.map(|v| v[0]),
        ));
        Ok(())
    };
    for (t, v) in hours {
        stats
            .push_hour_with(t, v.map(|x| [x]).as_ref().map(|a| &a[..]), &mut record)
            .unwrap();
    }
    let results = stats.finish_with(&mut record).unwrap();
    // Hour 24 of 12-31 belongs to 2020: 2020 mean (1+2+3+4)/4 = 2.5; 2021:
    // (5+7+8)/3 over its 3 valid hours (no 75 % floor for annual means).
    let years: Vec<(i32, f64, u32, u32)> = results
        .annual
        .iter()
        .map(|(y, a)| {
            (
                *y,
                a.values.as_ref().unwrap()[0],
                a.counts.valid,
                a.counts.missing,
            )
        })
        .collect();
    assert_eq!(years.len(), 2);
    assert_eq!(
        (years[0].0, years[0].1, years[0].2, years[0].3),
        (2020, 2.5, 4, 0)
    );
    assert_eq!((years[1].0, years[1].2, years[1].3), (2021, 3, 1));
    assert!(close(years[1].1, 20.0 / 3.0));
    assert_eq!(
        results.annual[0].1.counts.absent,
        8784 - 4,
        "2020 is a leap year"
    );
    assert_eq!(results.annual[1].1.end.label(), "2021-01-01 04");
    // Blocks, in order of completion. 3-h 12-31 19-21: only hour 21 is in
    // the run (2 absent) -> 1/3. 22-24 -> 9/3 = 3. The 24-h block of 12-31
    // has hours 21-24: 10/18. 01-01 1-3: (5+7)/3 = 4. At the end, 01-01
    // 4-6 (2 absent): 8/3 and the 24-h block of 01-01 (20 absent): 20/18.
    type Expected<'a> = (u32, &'a str, &'a str, (u32, u32, u32), f64);
    let expect: Vec<Expected> = vec![
        (3, "2020-12-31 19", "2020-12-31 21", (1, 0, 2), 1.0 / 3.0),
        (3, "2020-12-31 22", "2020-12-31 24", (3, 0, 0), 3.0),
        (
            24,
            "2020-12-31 01",
            "2020-12-31 24",
            (4, 0, 20),
            10.0 / 18.0,
        ),
        (3, "2021-01-01 01", "2021-01-01 03", (2, 1, 0), 4.0),
        (3, "2021-01-01 04", "2021-01-01 06", (1, 0, 2), 8.0 / 3.0),
        (
            24,
            "2021-01-01 01",
            "2021-01-01 24",
            (3, 1, 20),
            20.0 / 18.0,
        ),
    ];
    assert_eq!(blocks.len(), expect.len());
    for (b, e) in blocks.iter().zip(expect) {
        assert_eq!((b.0, b.1.as_str(), b.2.as_str(), b.3), (e.0, e.1, e.2, e.3));
        assert!(close(b.4.unwrap(), e.4), "{b:?}");
    }
    let p = results.period.unwrap();
    assert!(close(p.values.unwrap()[0], 30.0 / 7.0));
}

#[test]
fn bad_hours_and_values_are_refused_with_the_hour_named() {
    let mut stats = Stats::new(1, 1, &options(&[1], &[1]), Path::new("site.sfc")).unwrap();
    stats.push_hour((2021, 5, 1, 1), Some(&[1.0])).unwrap();
    // A skipped hour.
    let e = stats.push_hour((2021, 5, 1, 3), Some(&[1.0])).unwrap_err();
    assert_eq!(e.exit_code(), 3);
    let msg = e.to_string();
    assert!(
        msg.contains("site.sfc") && msg.contains("2021-05-01 03") && msg.contains("2021-05-01 02"),
        "{msg}"
    );
    // An hour 0, a February 30th.
    assert!(stats.push_hour((2021, 5, 1, 0), None).is_err());
    assert!(stats.push_hour((2021, 2, 30, 2), None).is_err());
    // A non-finite value, a wrong length.
    let e = stats
        .push_hour((2021, 5, 1, 2), Some(&[f64::NAN]))
        .unwrap_err();
    assert_eq!(e.exit_code(), 5);
    assert!(stats.push_hour((2021, 5, 1, 2), Some(&[1.0, 2.0])).is_err());
    // The series is unharmed by the refusals.
    stats.push_hour((2021, 5, 1, 2), Some(&[3.0])).unwrap();
    let r = stats.finish();
    assert_eq!(r.period.unwrap().values.unwrap()[0], 2.0);
    // Options: a 5-h block does not divide the day; rank 0 does not exist.
    let e = Stats::new(1, 1, &options(&[5], &[1]), Path::new("case.toml")).unwrap_err();
    assert!(e.to_string().contains("averaging_hours[0]"), "{e}");
    let e = OutputOptions {
        ranks: vec![1, 0],
        ..Default::default()
    }
    .validate(Path::new("case.toml"), "plume.output")
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("plume.output.ranks[1]"), "{e}");
}

fn receptors() -> Vec<Receptor> {
    (0..3)
        .map(|i| Receptor {
            name: if i == 1 {
                "ridge, north".into()
            } else {
                format!("R{i}")
            },
            x: 100.0 * i as f64,
            y: -50.0 * i as f64,
            elevation: 200.0 + i as f64,
            hill_height: 250.0,
            flagpole: 1.5,
        })
        .collect()
}

fn inputs() -> Inputs {
    Inputs {
        case_file: PathBuf::from("plume.toml"),
        dir_key: "output.dir".into(),
        files: vec![],
    }
}

fn info() -> RunInfo {
    RunInfo {
        run_name: "stack".into(),
        title: "test stack".into(),
        case_file: PathBuf::from("plume.toml"),
        meteorology: "synthetic 48 h".into(),
        met_file: PathBuf::from("site.sfc"),
        origin_lon_lat: Some((109.4, 24.3)),
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn text_attr(a: netcdf::Attribute) -> String {
    match a.value().unwrap() {
        netcdf::AttributeValue::Str(s) => s,
        v => panic!("not text: {v:?}"),
    }
}

#[test]
fn netcdf_and_csv_files_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let rec = receptors();
    let species = vec!["SO2".to_string(), "PM25".to_string()];
    let opts = OutputOptions {
        hourly_csv: true,
        block_csv: true,
        ..Default::default()
    };
    let opts_used = opts.clone();
    let mut out = PlumeOutputs::new(dir.path(), inputs(), info(), &rec, &species, opts).unwrap();
    for k in 1..=48 {
        let v = hour_values(k, 3, 2);
        out.push_hour(stamp(k), (!missing(k)).then_some(v.as_slice()))
            .unwrap();
    }
    let mut extra = BTreeMap::new();
    extra.insert("sources".to_string(), serde_json::json!(1));
    let done = out.finish(extra).unwrap();
    println!("{}", done.table);
    let written: u64 = done
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let estimate = airshed::plume::output::estimate_bytes(3, 2, 48, &opts_used);
    assert!(
        estimate >= written,
        "written {written} bytes, estimated {estimate}"
    );
    let mut listed: Vec<String> = done
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    assert_eq!(
        names(dir.path()),
        listed,
        "every file committed, no staging left"
    );
    assert_eq!(
        listed,
        [
            "stack.averages.csv",
            "stack.averages.nc",
            "stack.blocks.csv",
            "stack.highest.csv",
            "stack.hourly.csv",
            "stack.hourly.nc",
            "stack.manifest.json",
            "stack.summary.json"
        ]
    );

    // Hourly netCDF: (time, receptor), CF timeSeries.
    let f = netcdf::open(dir.path().join("stack.hourly.nc")).unwrap();
    assert_eq!(text_attr(f.attribute("featureType").unwrap()), "timeSeries");
    assert_eq!(text_attr(f.attribute("Conventions").unwrap()), "CF-1.8");
    assert_eq!(f.dimension_len("time"), Some(48));
    assert_eq!(f.dimension_len("receptor"), Some(3));
    let so2 = f.variable("SO2").unwrap();
    let dims: Vec<String> = so2.dimensions().iter().map(|d| d.name()).collect();
    assert_eq!(dims, ["time", "receptor"]);
    assert_eq!(text_attr(so2.attribute("units").unwrap()), "ug m-3");
    assert!(text_attr(so2.attribute("coordinates").unwrap()).contains("receptor_name"));
    let vals: Vec<f32> = so2.get_values(..).unwrap();
    // Hour k=7 (index 6) at receptor 2: 7 * 3 = 21; PM25 (species 1): 7 * 6.
    assert_eq!(vals[6 * 3 + 2], 21.0);
    let pm: Vec<f32> = f.variable("PM25").unwrap().get_values(..).unwrap();
    assert_eq!(pm[6 * 3 + 2], 42.0);
    // Hour 5 is missing: the fill value, and flagged.
    assert_eq!(vals[4 * 3], FILL);
    let flags: Vec<u8> = f.variable("hour_missing").unwrap().get_values(..).unwrap();
    assert_eq!(flags.iter().map(|&x| x as u32).sum::<u32>(), 10);
    let name = f.variable("receptor_name").unwrap();
    assert_eq!(
        text_attr(name.attribute("cf_role").unwrap()),
        "timeseries_id"
    );
    assert_eq!(name.get_string([1]).unwrap(), "ridge, north");
    let elev: Vec<f64> = f.variable("elevation").unwrap().get_values(..).unwrap();
    assert_eq!(elev, [200.0, 201.0, 202.0]);
    // Time: hour 1 of 2021-03-01 is [t0, t0 + 1), stamped at its middle.
    let t0 = HourEnding::new(2021, 3, 1, 1).unwrap().index() as f64;
    let time: Vec<f64> = f.variable("time").unwrap().get_values(..).unwrap();
    let bnds: Vec<f64> = f.variable("time_bnds").unwrap().get_values(..).unwrap();
    assert_eq!((time[0], bnds[0], bnds[1]), (t0 + 0.5, t0, t0 + 1.0));
    assert_eq!(
        text_attr(f.variable("time").unwrap().attribute("units").unwrap()),
        "hours since 1970-01-01 00:00:00"
    );
    drop(f);

    // Averages netCDF.
    let f = netcdf::open(dir.path().join("stack.averages.nc")).unwrap();
    assert_eq!(text_attr(f.attribute("featureType").unwrap()), "timeSeries");
    assert_eq!(f.dimension_len("time_3h"), Some(16));
    assert_eq!(f.dimension_len("time_24h"), Some(2));
    let d24: Vec<f32> = f.variable("SO2_24h").unwrap().get_values(..).unwrap();
    // Day 2 at receptor 0: 645/18.
    assert!((d24[3] as f64 - 645.0 / 18.0).abs() < 1e-4);
    let b3: Vec<f32> = f.variable("SO2_3h").unwrap().get_values(..).unwrap();
    assert_eq!(b3[10 * 3], FILL, "hours 31-33 all missing");
    let miss24: Vec<i32> = f
        .variable("missing_hours_24h")
        .unwrap()
        .get_values(..)
        .unwrap();
    assert_eq!(miss24, [3, 7]);
    let period: Vec<f32> = f.variable("SO2_period").unwrap().get_values(..).unwrap();
    assert!((period[0] as f64 - 919.0 / 38.0).abs() < 1e-4);
    let annual: Vec<f32> = f.variable("PM25_annual").unwrap().get_values(..).unwrap();
    assert!((annual[2] as f64 - 6.0 * 919.0 / 38.0).abs() < 1e-3);
    let hi = f.variable("SO2_3h_highest").unwrap();
    let dims: Vec<String> = hi.dimensions().iter().map(|d| d.name()).collect();
    assert_eq!(dims, ["rank", "receptor"]);
    let hv: Vec<f32> = hi.get_values(..).unwrap();
    // ranks [1, 2, 8] x 3 receptors: receptor 0 ranks 47, 44, 19.
    assert_eq!([hv[0], hv[3], hv[6]], [47.0, 44.0, 19.0]);
    let he: Vec<f64> = f
        .variable("SO2_3h_highest_end")
        .unwrap()
        .get_values(..)
        .unwrap();
    assert_eq!(he[0], t0 + 48.0, "the 1st-highest block ends with the run");
    let h24: Vec<f32> = f
        .variable("SO2_24h_highest")
        .unwrap()
        .get_values(..)
        .unwrap();
    assert_eq!(h24[6], FILL, "no 8th-highest day in two days");
    drop(f);

    // CSV files, parsed back.
    let read = |name: &str| -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(dir.path().join(name)).unwrap();
        r.records().map(|x| x.unwrap()).collect()
    };
    let avg = read("stack.averages.csv");
    // 3 receptors x 2 species x (period + 1 year).
    assert_eq!(avg.len(), 12);
    let row = avg
        .iter()
        .find(|r| &r[0] == "ridge, north" && &r[4] == "SO2" && &r[5] == "period")
        .unwrap();
    let v: f64 = row[8].parse().unwrap();
    assert!((v - 2.0 * 919.0 / 38.0).abs() < 1e-5);
    assert_eq!((&row[9], &row[10]), ("38", "10"));
    assert!(avg.iter().any(|r| &r[5] == "annual 2021"));
    let high = read("stack.highest.csv");
    // 4 periods x 2 species x 3 ranks x 3 receptors.
    assert_eq!(high.len(), 72);
    let r = high
        .iter()
        .find(|r| &r[0] == "R0" && &r[4] == "SO2" && &r[5] == "3h" && &r[6] == "8")
        .unwrap();
    assert_eq!((&r[7], &r[9], &r[11]), ("1.900000e1", "2021-03-02 06", "1"));
    let none = high
        .iter()
        .find(|r| &r[5] == "24h" && &r[6] == "8")
        .unwrap();
    assert_eq!(&none[7], "", "no value is an empty field");
    let hourly = read("stack.hourly.csv");
    assert_eq!(hourly.len(), 48 * 3);
    assert_eq!(
        (&hourly[4 * 3][0], &hourly[4 * 3][2]),
        ("2021-03-01 05", "")
    );
    let blocks = read("stack.blocks.csv");
    // (16 + 6 + 2) blocks x 3 receptors x 2 species.
    assert_eq!(blocks.len(), 24 * 6);

    // Summary: missing hours, maxima, caller's fields.
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stack.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(s["missing_hours"], 10);
    assert_eq!(s["sources"], 1);
    assert_eq!(s["hours_by_year"]["2021"]["missing"], 10);
    let max = s["maxima"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["species"] == "PM25" && m["averaging"] == "1h" && m["rank"] == 1)
        .unwrap();
    // 48 * (2+1)(1+1) at receptor 2.
    assert_eq!(
        (
            max["value"].as_f64().unwrap(),
            max["receptor"].as_str().unwrap()
        ),
        (288.0, "R2")
    );
    assert!(done.table.contains("10 missing"), "{}", done.table);
    assert!(done.table.contains("2nd"), "{}", done.table);
}

#[test]
fn an_error_before_the_commit_leaves_nothing_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let rec = receptors();
    let species = vec!["SO2".to_string()];
    // An old committed set of the same run stays untouched.
    std::fs::write(dir.path().join("keep.txt"), "old").unwrap();
    let mut out = PlumeOutputs::new(
        dir.path(),
        inputs(),
        info(),
        &rec,
        &species,
        OutputOptions {
            hourly_csv: true,
            block_csv: true,
            ..Default::default()
        },
    )
    .unwrap();
    for k in 1..=5 {
        out.push_hour(stamp(k), Some(&hour_values(k, 3, 1)))
            .unwrap();
    }
    // Hour 7 after hour 5: refused.
    let e = out
        .push_hour(stamp(7), Some(&hour_values(7, 3, 1)))
        .unwrap_err();
    assert_eq!(e.exit_code(), 3);
    drop(out);
    assert_eq!(names(dir.path()), ["keep.txt"]);
    // A non-finite concentration at the third hour: refused, nothing left.
    let mut out = PlumeOutputs::new(
        dir.path(),
        inputs(),
        info(),
        &rec,
        &species,
        OutputOptions::default(),
    )
    .unwrap();
    out.push_hour(stamp(1), Some(&[1.0, 2.0, 3.0])).unwrap();
    let e = out
        .push_hour(stamp(2), Some(&[1.0, f64::INFINITY, 3.0]))
        .unwrap_err();
    assert_eq!(e.exit_code(), 5);
    assert!(e.to_string().contains("receptor 1"), "{e}");
    drop(out);
    assert_eq!(names(dir.path()), ["keep.txt"]);
    // A bad species name is a case error before anything is created.
    let e = PlumeOutputs::new(
        dir.path(),
        inputs(),
        info(),
        &rec,
        &["PM2.5".to_string()],
        OutputOptions::default(),
    )
    .err()
    .unwrap();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(names(dir.path()), ["keep.txt"]);
}

/// Throughput and size for a year at 10,000 receptors (one species), the
/// statistics alone and with every default file (hourly netCDF included).
/// `cargo test --release --test plume_stats -- --ignored --nocapture year_at_10000`
#[test]
#[ignore]
fn year_at_10000_receptors() {
    let n = 10_000;
    let rec: Vec<Receptor> = (0..n)
        .map(|i| Receptor {
            name: format!("R{i}"),
            x: (i % 100) as f64 * 50.0,
            y: (i / 100) as f64 * 50.0,
            elevation: 0.0,
            hill_height: 0.0,
            flagpole: 0.0,
        })
        .collect();
    let start = HourEnding::new(2021, 1, 1, 1).unwrap().index();
    let hour = |k: i64, buf: &mut Vec<f64>| {
        for (i, v) in buf.iter_mut().enumerate() {
            *v = ((k * 7 + i as i64 * 13) % 97) as f64 * 0.5;
        }
    };
    let mut buf = vec![0.0; n];
    let t = std::time::Instant::now();
    let mut stats = Stats::new(n, 1, &StatsOptions::default(), Path::new("met")).unwrap();
    for k in 0..8760 {
        let h = HourEnding::from_index(start + k);
        hour(k, &mut buf);
        stats
            .push_hour((h.year, h.month, h.day, h.hour), Some(&buf))
            .unwrap();
    }
    let r = stats.finish();
    let stats_s = t.elapsed().as_secs_f64();
    assert_eq!(r.hours, 8760);
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let mut out = PlumeOutputs::new(
        dir.path(),
        inputs(),
        info(),
        &rec,
        &["SO2".to_string()],
        OutputOptions::default(),
    )
    .unwrap();
    for k in 0..8760 {
        let h = HourEnding::from_index(start + k);
        hour(k, &mut buf);
        out.push_hour((h.year, h.month, h.day, h.hour), Some(&buf))
            .unwrap();
    }
    let done = out.finish(BTreeMap::new()).unwrap();
    let out_s = t.elapsed().as_secs_f64();
    let bytes: u64 = done
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    println!(
        "10000 receptors x 8760 h: statistics {stats_s:.2} s ({:.0} receptor-hours/s); with the default files {out_s:.2} s, {:.1} MB written",
        n as f64 * 8760.0 / stats_s,
        bytes as f64 / 1e6
    );
}
