//! Ranks as threads of one process: channels carry halos, a shared slot
//! table and a barrier carry reductions. Used by the decomposition tests
//! and as the reference behaviour an MPI `Comm` must match.

use super::Comm;
use crate::grid::Side;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Barrier, Mutex};

/// One channel end per side (west, east, south, north).
type PerSide<T> = [Option<T>; 4];

struct Shared {
    slots: Mutex<Vec<Vec<f64>>>,
    barrier: Barrier,
}

pub struct LocalComm {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
    /// Senders to each neighbour's receiver for the side facing us, by our side.
    to: PerSide<Sender<Vec<f64>>>,
    /// What arrives from the neighbour across each of our sides.
    from: PerSide<Mutex<Receiver<Vec<f64>>>>,
}

impl LocalComm {
    /// One communicator per rank; `neighbours[r][side]` is the rank across
    /// that side of rank r (None at the domain's edge). Neighbour relations
    /// must be mutual.
    pub fn group(neighbours: &[[Option<usize>; 4]]) -> Vec<LocalComm> {
        let size = neighbours.len();
        let shared = Arc::new(Shared {
            slots: Mutex::new(vec![Vec::new(); size]),
            barrier: Barrier::new(size),
        });
        // receivers[r][s]: rank r hears across its side s.
        let mut senders: Vec<PerSide<Sender<Vec<f64>>>> =
            (0..size).map(|_| Default::default()).collect();
        let mut receivers: Vec<PerSide<Mutex<Receiver<Vec<f64>>>>> =
            (0..size).map(|_| Default::default()).collect();
        for (r, sides) in neighbours.iter().enumerate() {
            for side in Side::ALL {
                if let Some(n) = sides[side.index()] {
                    // r sends across `side`; n hears it across the opposite side.
                    let (tx, rx) = channel();
                    senders[r][side.index()] = Some(tx);
                    receivers[n][side.opposite().index()] = Some(Mutex::new(rx));
                }
            }
        }
        senders
            .into_iter()
            .zip(receivers)
            .enumerate()
            .map(|(rank, (to, from))| LocalComm {
                rank,
                size,
                shared: shared.clone(),
                to,
                from,
            })
            .collect()
    }

    /// Gather every rank's contribution, then combine in rank order.
    fn all_reduce(&self, mine: &[f64], combine: impl Fn(&mut [f64], &[f64])) -> Vec<f64> {
        self.shared.slots.lock().expect("no rank panicked")[self.rank] = mine.to_vec();
        self.shared.barrier.wait();
        let out = {
            let slots = self.shared.slots.lock().expect("no rank panicked");
            let mut acc = slots[0].clone();
            for s in &slots[1..] {
                combine(&mut acc, s);
            }
            acc
        };
        // Nobody writes the next round's slots before everyone has read.
        self.shared.barrier.wait();
        out
    }
}

impl Comm for LocalComm {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn max(&self, x: f64) -> f64 {
        self.all_reduce(&[x], |a, b| a[0] = a[0].max(b[0]))[0]
    }
    fn sum(&self, x: &mut [f64]) {
        let total = self.all_reduce(x, |a, b| {
            for (a, b) in a.iter_mut().zip(b) {
                *a += b;
            }
        });
        x.copy_from_slice(&total);
    }
    fn exchange(&self, side: Side, data: Vec<f64>) -> Vec<f64> {
        let s = side.index();
        let (Some(to), Some(from)) = (&self.to[s], &self.from[s]) else {
            panic!("rank {} has no neighbour across {side:?}", self.rank);
        };
        to.send(data).expect("neighbour rank alive");
        from.lock()
            .expect("no rank panicked")
            .recv()
            .expect("neighbour rank alive")
    }
}
