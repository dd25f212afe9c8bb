//! The replay as text: each cell's number, a line of ours on what it does, and what it shows,
//! each value exactly as the notebook shows it (the cells kept them as text, `jupyter.rs`).

use super::Replay;
use crate::pyrepr::float_repr;
use std::fmt::Write as _;

/// Our line on what cell `n` does (the notebook's own words are not copied).
fn about(n: u32) -> &'static str {
    match n {
        1 => "read names.txt, one name per line",
        2 => "a name's bigrams, with '.' before and after it",
        4 => "stoi: each character's index",
        5 => "itos: back from index to character",
        6 => "X holds each bigram's first character, y the one after it",
        7 => "'c' one-hot encoded by hand",
        8 => "one_hot of X, its first five rows (integers)",
        9 => "converted to float for the matmul: the first row",
        10 => "one neuron: 27 weights from a generator seeded with 42",
        11 => "a one-hot input picks one weight",
        13 => "27 neurons: c_enc @ W picks row 3 of the 27×27 matrix",
        14 => "each logit beside its letter",
        15 => "logits of every example, X_enc @ W",
        16 => "exp makes them positive",
        17 => "divided by their row sums: probabilities",
        18 => "every row sums to 1",
        19 => "probabilities of the letter after 'c'",
        20 => "the untrained model's probability of 'a' after 'c'",
        21 => "negative log likelihood of that one example",
        23 => "backward(): one derivative per weight, W.grad's size",
        24 => "W.grad: only the row 'c' selected is not zero",
        25 => "row 3 of the gradient",
        27 => "P('a' after 'c') after one step of 0.01 against the gradient",
        43 => "train(): 100 epochs at learning rate 50",
        44 => "smoothing: W from seed 42 again, 100 epochs of NLL + 0.01 * (W**2).mean()",
        45 => "generation: 5 names from the smoothed W, generator seeded with 2147483647",
        _ => "",
    }
}

impl Replay {
    /// The replay as text, cell by cell.
    pub fn render(&self) -> String {
        let mut cells: Vec<u32> = self.shown.iter().map(|s| s.cell).collect();
        cells.dedup();
        let mut out = String::new();
        for cell in cells {
            if cell == 44 {
                out.push_str(
                    "The notebook ends at In [43] with a TODO, smoothing then generation; \
                     In [44] and In [45] are ours.\n\n",
                );
            }
            let _ = writeln!(out, "In [{cell}]: {}", about(cell));
            out.push_str(&self.cell_text(cell));
            out.push('\n');
        }
        // Cells are separated by a blank line; the last one ends the output.
        let end = out.trim_end().len();
        out.truncate(end);
        out.push('\n');
        out
    }

    /// What cell `cell` showed, as `render` prints it under the cell's heading: its words-only
    /// print()s, then its values; In [43] adds our note on its update line.
    pub fn cell_text(&self, cell: u32) -> String {
        if cell == 44 && divergence(&self.continuation.losses).is_some() {
            return self.divergence_note();
        }
        let mut out = String::new();
        for (_, words) in self.said.iter().filter(|(c, _)| *c == cell) {
            let _ = writeln!(out, "{words}");
        }
        for shown in self.shown.iter().filter(|s| s.cell == cell) {
            let _ = match shown.label.as_str() {
                "" => writeln!(out, "{}", shown.text),
                // A tensor of several lines starts on a line of its own, as print() has it.
                label if shown.text.contains('\n') => writeln!(out, "{label}:\n{}", shown.text),
                label => writeln!(out, "{label}: {}", shown.text),
            };
        }
        if cell == 43 {
            out.push_str(&self.training_note());
        }
        out
    }

    /// In [44] when its run diverged: that, under the cell's own label, instead of a bare NaN,
    /// and that In [45] has nothing to draw from.
    fn divergence_note(&self) -> String {
        let shown = self.shown.iter().find(|s| s.cell == 44);
        let label = shown.map_or("", |s| s.label.as_str());
        let said = outcome(&self.continuation.losses, float_repr);
        format!("{label}: {said}\nIn [45] draws no names from these weights.\n")
    }

    /// In [43]: what the cell's update line does, and what the line it means gives (ours).
    fn training_note(&self) -> String {
        let t = &self.training;
        format!(
            "Note: `W.data = -50 * W.grad` assigns instead of stepping, so each epoch replaces W\n\
             by the scaled gradient of the previous W{}\n\
             Ours, not the notebook's: `W.data += -50 * W.grad`, from the same starting weights: {}\n",
            course(&t.as_written_by_epoch),
            outcome(&t.gradient_descent_by_epoch, |loss| format!("{loss:.4}")),
        )
    }
}

/// Where a run diverged: the first epoch (from 1) whose loss was not finite, and that loss.
fn divergence(losses: &[f64]) -> Option<(usize, f64)> {
    let i = losses.iter().position(|loss| !loss.is_finite())?;
    Some((i + 1, losses[i]))
}

/// The last loss of a run, shown by `show`, or, when it diverged, a plain statement that it did
/// (a bare NaN would read as a result).
fn outcome(losses: &[f64], show: impl Fn(f64) -> String) -> String {
    match divergence(losses) {
        Some((epoch, loss)) => format!(
            "no result:\nthe steps at learning rate 50 diverged on this data (the loss was {loss} at epoch {epoch})."
        ),
        None => losses.last().map_or_else(String::new, |&loss| show(loss)),
    }
}

/// How a run's loss behaved over its last half, as the end of a sentence: settled within half
/// a unit of the second decimal, or still moving, and how far.
fn course(losses: &[f64]) -> String {
    if divergence(losses).is_some() {
        return ".".into();
    }
    let last_half = &losses[losses.len() / 2..];
    let low = last_half.iter().copied().fold(f64::INFINITY, f64::min);
    let high = last_half.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match last_half.last() {
        Some(last) if high - low < 0.005 => format!(" and the loss stalls near {last:.2}."),
        Some(_) => format!(
            ", and the loss never settles:\nit moved between {low:.2} and {high:.2} over the last {}.",
            crate::plural(last_half.len(), "epoch")
        ),
        None => ".".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_on_training_says_how_the_loss_behaved() {
        let settled: Vec<f64> = (0..100).map(|i| 3.0857 + 1e-4 / f64::from(i + 1)).collect();
        assert_eq!(course(&settled), " and the loss stalls near 3.09.");
        let swinging: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 2.9102 } else { 2.1988 })
            .collect();
        assert_eq!(
            course(&swinging),
            ", and the loss never settles:\nit moved between 2.20 and 2.91 over the last 50 epochs."
        );
        assert_eq!(outcome(&swinging, |l| format!("{l:.4}")), "2.1988");

        let mut diverging = swinging;
        diverging[36] = f64::INFINITY;
        for later in &mut diverging[37..] {
            *later = f64::NAN;
        }
        assert_eq!(course(&diverging), ".");
        let said = outcome(&diverging, |l| format!("{l:.4}"));
        assert!(said.starts_with("no result:"), "{said}");
        assert!(
            said.contains("diverged on this data (the loss was inf at epoch 37)"),
            "{said}"
        );
    }
}
