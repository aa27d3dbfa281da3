//! History rings of counts, and the sparklines drawn from them.

use std::collections::VecDeque;

use super::StateCounts;
use crate::model::TcpState;

/// A fixed-capacity ring of samples, oldest first, for sparklines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRing {
    samples: VecDeque<u64>,
    capacity: usize,
}

impl HistoryRing {
    pub fn new(capacity: usize) -> HistoryRing {
        HistoryRing {
            samples: VecDeque::with_capacity(capacity.max(1)),
            capacity: capacity.max(1),
        }
    }
    pub fn push(&mut self, v: u64) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(v);
    }
    pub fn len(&self) -> usize {
        self.samples.len()
    }
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    pub fn last(&self) -> Option<u64> {
        self.samples.back().copied()
    }
    pub fn max(&self) -> u64 {
        self.samples.iter().copied().max().unwrap_or(0)
    }
    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.samples.iter().copied()
    }
    /// The newest `n` samples, oldest first.
    pub fn tail(&self, n: usize) -> impl Iterator<Item = u64> + '_ {
        self.samples
            .iter()
            .skip(self.len().saturating_sub(n))
            .copied()
    }
}

/// Per-state history of counts: one ring per TCP state.
#[derive(Clone, Debug)]
pub struct StateHistory {
    rings: Vec<HistoryRing>,
}

impl StateHistory {
    pub fn new(capacity: usize) -> StateHistory {
        StateHistory {
            rings: (0..12).map(|_| HistoryRing::new(capacity)).collect(),
        }
    }
    pub fn push(&mut self, counts: &StateCounts) {
        for st in TcpState::ALL {
            self.rings[st as usize].push(counts.tcp(st) as u64);
        }
    }
    pub fn get(&self, st: TcpState) -> &HistoryRing {
        &self.rings[st as usize]
    }
}

/// Unicode sparkline of the given samples, scaled to their maximum (a flat zero line is
/// drawn with the lowest block).
pub fn sparkline(samples: impl IntoIterator<Item = u64>) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let samples: Vec<u64> = samples.into_iter().collect();
    let max = samples.iter().copied().max().unwrap_or(0);
    samples
        .into_iter()
        .map(|v| {
            if max == 0 {
                BARS[0]
            } else {
                BARS[((v as f64 / max as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}
