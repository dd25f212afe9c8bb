//! What a model learns from: (context, next character) pairs, listed one by one (the
//! notebook's X and y) or counted in a contexts × vocabulary matrix.

use crate::vocab::{context_count, next_context};

/// Call `f(context_row, next_index)` for each example of a name: its characters and then the
/// end token, each with the `order - 1` characters before it (start-padded with `.`).
#[inline]
pub fn for_each_pair(
    indices: &[usize],
    rows: usize,
    width: usize,
    mut f: impl FnMut(usize, usize),
) {
    let mut context = 0usize;
    for &ix in indices.iter().chain(std::iter::once(&0)) {
        f(context, ix);
        context = next_context(context, ix, width, rows);
    }
}

/// How often each next character follows each context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Contexts (rows): `width^(order-1)`.
    pub rows: usize,
    /// Vocabulary size (columns).
    pub width: usize,
    /// Row-major `rows × width` counts.
    pub cells: Vec<u64>,
}

impl Counts {
    /// All-zero counts for a vocabulary width and model order.
    pub fn new(width: usize, order: usize) -> Self {
        let rows = context_count(width, order);
        Self {
            rows,
            width,
            cells: vec![0; rows * width],
        }
    }

    /// Count every (context, next) pair of one name.
    #[inline]
    pub fn add_name(&mut self, indices: &[usize]) {
        let (rows, width) = (self.rows, self.width);
        for_each_pair(indices, rows, width, |context, next| {
            self.cells[context * width + next] += 1;
        });
    }

    /// Add another count matrix of the same shape, cell by cell.
    pub fn add(&mut self, other: &Counts) {
        debug_assert_eq!((self.rows, self.width), (other.rows, other.width));
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            *a += b;
        }
    }

    /// [`Counts::add`], or `false` (and no change) when a cell, or the total, would pass the
    /// largest count a checkpoint stores (`i64::MAX`).
    pub fn checked_add(&mut self, other: &Counts) -> bool {
        let sums: Option<Vec<u64>> = self
            .cells
            .iter()
            .zip(&other.cells)
            .map(|(a, b)| a.checked_add(*b))
            .collect();
        let Some(cells) = sums else { return false };
        let sum = Counts { cells, ..*self };
        if sum.checked_total().is_none() {
            return false;
        }
        *self = sum;
        true
    }

    /// Total number of pairs counted (the number of examples).
    pub fn total(&self) -> u64 {
        self.cells.iter().sum()
    }

    /// The total, when it stays within the largest count a checkpoint stores (`i64::MAX`);
    /// counts read from a file are checked with it before anything adds them up.
    pub fn checked_total(&self) -> Option<u64> {
        self.cells
            .iter()
            .try_fold(0u64, |t, &v| t.checked_add(v))
            .filter(|&t| t <= i64::MAX as u64)
    }

    /// The counts as a `rows × width` int64 tensor on the CPU.
    pub fn to_tensor(&self) -> tch::Tensor {
        let cells: Vec<i64> = self.cells.iter().map(|&c| c as i64).collect();
        tch::Tensor::from_slice(&cells).view([self.rows as i64, self.width as i64])
    }
}

/// Inputs and targets of every example, in file order (the notebook's X and y).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Examples {
    /// Context row of each example (for bigrams, the previous character's index).
    pub inputs: Vec<i64>,
    /// Index of the character that follows.
    pub targets: Vec<i64>,
}

impl Examples {
    /// Append the examples of one name.
    pub fn add_name(&mut self, indices: &[usize], rows: usize, width: usize) {
        for_each_pair(indices, rows, width, |context, next| {
            self.inputs.push(context as i64);
            self.targets.push(next as i64);
        });
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}
