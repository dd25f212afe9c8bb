//! The replay as text: each cell's number, a line on what it does, and what it printed, with
//! numbers formatted as PyTorch prints them at 4 decimals.

use super::{Corners, Replay};
use std::fmt::Write as _;

/// Cells as they are written out.
struct Cells(String);

impl Cells {
    fn add(&mut self, n: u32, what: &str, body: String) {
        let _ = writeln!(self.0, "In [{n}]: {what}\n{body}\n");
    }
}

impl Replay {
    /// The replay as text, cell by cell.
    pub fn render(&self) -> String {
        let mut cells = Cells(String::new());
        self.render_data(&mut cells);
        self.render_layer(&mut cells);
        self.render_example(&mut cells);
        let t = &self.training;
        cells.add(
            43,
            "train(): 100 epochs at learning rate 50",
            format!(
                "as written: {}\n\
                 Note: `W.data = -50 * W.grad` assigns instead of stepping, so each epoch replaces W\n\
                 by the scaled gradient of the previous W{}\n\
                 with the intended `W.data += -50 * W.grad`, from the same starting weights: {}",
                outcome(&t.as_written_by_epoch, |loss| loss.to_string()),
                course(&t.as_written_by_epoch),
                outcome(&t.gradient_descent_by_epoch, |loss| format!("{loss:.4}")),
            ),
        );
        // Cells are separated by a blank line; the last one ends the output.
        let end = cells.0.trim_end().len();
        cells.0.truncate(end);
        cells.0.push('\n');
        cells.0
    }

    fn render_data(&self, cells: &mut Cells) {
        let d = &self.data;
        let quoted: Vec<String> = d.first_names.iter().map(|n| format!("'{n}'")).collect();
        cells.add(
            1,
            "read names.txt, one name per line",
            format!("first three names: [{}]", quoted.join(", ")),
        );
        let bigrams: Vec<String> = d
            .first_bigrams
            .iter()
            .map(|(a, b)| format!("('{a}', '{b}')"))
            .collect();
        let first = d.first_names.first().map_or("", String::as_str);
        cells.add(
            2,
            "a name's bigrams, with '.' before and after it",
            format!("{first}: [{}]", bigrams.join(", ")),
        );
        let chars = d.vocab.chars().enumerate();
        let stoi: Vec<String> = chars.clone().map(|(i, c)| format!("'{c}': {i}")).collect();
        let itos: Vec<String> = chars.map(|(i, c)| format!("{i}: '{c}'")).collect();
        cells.add(
            4,
            "stoi: each character's index",
            format!("{{{}}}", stoi.join(", ")),
        );
        cells.add(
            5,
            "itos: back from index to character",
            format!("{{{}}}", itos.join(", ")),
        );
        cells.add(
            6,
            "X holds each bigram's first character, y the one after it",
            format!(
                "{} examples\nX[:10] = {:?}\ny[:10] = {:?}",
                d.examples, d.x_head, d.y_head
            ),
        );
        cells.add(
            7,
            "'c' one-hot encoded by hand",
            format!("index 3: {}", format_vector(&d.c_enc)),
        );
        let rows: Vec<String> = d
            .x_enc_head
            .iter()
            .map(|r| {
                format!(
                    "[{}]",
                    r.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        cells.add(
            8,
            "one_hot of X[:5] (integers)",
            format!("tensor([{}])", rows.join(",\n        ")),
        );
        cells.add(
            9,
            "converted to float for the matmul",
            format!("X_enc dtype: {}", d.x_enc_dtype),
        );
    }

    fn render_layer(&self, cells: &mut Cells) {
        let l = &self.layer;
        cells.add(
            10,
            "one neuron: 27 weights from a generator seeded with 42",
            format_vector(&l.neuron),
        );
        cells.add(
            11,
            "a one-hot input picks one weight",
            format!("c_enc @ W = tensor([{:.4}])", l.c_dot_neuron),
        );
        cells.add(
            13,
            "27 neurons: c_enc @ W picks row 3 of the 27×27 matrix",
            format_vector(&l.c_logits),
        );
        let listed: Vec<String> = self
            .data
            .vocab
            .chars()
            .zip(&l.c_logits)
            .map(|(ch, v)| format!("{ch}: {v:.4}"))
            .collect();
        cells.add(14, "each logit beside its letter", listed.join("\n"));
        cells.add(
            15,
            "logits of every example, X_enc @ W (corners)",
            format_corners(&l.logits),
        );
        cells.add(16, "exp makes them positive", format_corners(&l.exp));
        cells.add(
            17,
            "divided by their row sums: probabilities",
            format_corners(&l.probs),
        );
        let sums: Vec<String> = l
            .row_sums_ends
            .iter()
            .map(|s| format!("[{s:.4}]"))
            .collect();
        let (top, bottom) = sums.split_at(sums.len().min(3));
        cells.add(
            18,
            "every row sums to 1",
            format!(
                "tensor([{},\n        ...,\n        {}])",
                top.join(",\n        "),
                bottom.join(",\n        ")
            ),
        );
    }

    fn render_example(&self, cells: &mut Cells) {
        let e = &self.example;
        cells.add(
            19,
            "probabilities of the letter after 'c'",
            format_vector(&e.c_probs),
        );
        cells.add(
            20,
            "the untrained model's P('a' after 'c')",
            format!("P('a' after 'c') = {}", percent(e.p_a_after_c)),
        );
        cells.add(
            21,
            "negative log likelihood of that one example",
            format!("loss = tensor({:.4})", e.loss),
        );
        cells.add(
            23,
            "backward(): one derivative per weight",
            format!("W.grad size: {:?}", e.grad_shape),
        );
        let width = self.data.vocab.chars().count();
        let nonzero_rows: Vec<usize> = (0..width)
            .filter(|r| e.grad[r * width..(r + 1) * width].iter().any(|&g| g != 0.0))
            .collect();
        cells.add(
            24,
            "only the row 'c' selected has a gradient",
            format!("rows with a non-zero gradient: {nonzero_rows:?}"),
        );
        cells.add(
            25,
            "row 3 of the gradient",
            format_vector(&e.grad[3 * width..4 * width]),
        );
        cells.add(
            27,
            "after one step of 0.01 against the gradient",
            format!(
                "P('a' after 'c'): {} before, {} after",
                percent(e.p_a_after_c),
                percent(e.p_a_after_c_after_step)
            ),
        );
    }
}

/// The last loss of a run, shown by `show`, or, when some epoch's loss was not finite, a plain
/// statement that the run diverged (a bare NaN would read as a result).
fn outcome(losses: &[f64], show: impl Fn(f64) -> String) -> String {
    match losses.iter().enumerate().find(|(_, loss)| !loss.is_finite()) {
        Some((i, loss)) => format!(
            "no result:\nthe steps at learning rate 50 diverged on this data (the loss was {loss} at epoch {}).",
            i + 1
        ),
        None => losses.last().map_or_else(String::new, |&loss| show(loss)),
    }
}

/// How a run's loss behaved over its last half, as the end of a sentence: settled within half
/// a unit of the second decimal, or still moving, and how far.
fn course(losses: &[f64]) -> String {
    if losses.iter().any(|loss| !loss.is_finite()) {
        return ".".into();
    }
    let last_half = &losses[losses.len() / 2..];
    let low = last_half.iter().copied().fold(f64::INFINITY, f64::min);
    let high = last_half.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match last_half.last() {
        Some(last) if high - low < 0.005 => format!(" and the loss stalls near {last:.2}."),
        Some(_) => format!(
            ", and the loss never settles:\nit moved between {low:.2} and {high:.2} over the last {} epochs.",
            last_half.len()
        ),
        None => ".".into(),
    }
}

/// Format numbers as PyTorch does at 4 decimals: same width, right-aligned, wrapped at 80
/// columns, `indent` spaces before continuation lines. Whole numbers alone are shown as PyTorch
/// shows them, `0.` and `1.`.
fn format_row(values: &[f32], indent: usize) -> String {
    let whole = values.iter().all(|v| v.is_finite() && v.fract() == 0.0);
    let cells: Vec<String> = values
        .iter()
        .map(|v| {
            if whole {
                format!("{v:.0}.")
            } else {
                format!("{v:.4}")
            }
        })
        .collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    let per_line = ((80 - indent) / (width + 2)).max(1);
    let lines: Vec<String> = cells
        .chunks(per_line)
        .map(|chunk| {
            chunk
                .iter()
                .map(|c| format!("{c:>width$}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    lines.join(&format!(",\n{}", " ".repeat(indent)))
}

fn format_vector(values: &[f32]) -> String {
    format!("tensor([{}])", format_row(values, 8))
}

fn format_corners(m: &Corners) -> String {
    let cells: Vec<String> = m.iter().flatten().map(|v| format!("{v:.4}")).collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    let row = |r: &Vec<f32>| {
        let c: Vec<String> = r
            .iter()
            .map(|v| format!("{:>width$}", format!("{v:.4}")))
            .collect();
        match c.len() {
            6 => format!(
                "[{}, {}, {},  ..., {}, {}, {}]",
                c[0], c[1], c[2], c[3], c[4], c[5]
            ),
            _ => format!("[{}]", c.join(", ")),
        }
    };
    let rows: Vec<String> = m.iter().map(row).collect();
    let (top, bottom) = rows.split_at(rows.len().min(3));
    format!(
        "tensor([{},\n        ...,\n        {}])",
        top.join(",\n        "),
        bottom.join(",\n        ")
    )
}

fn percent(p: f32) -> String {
    format!("{:.2}%", p * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_hot_vector_is_printed_as_pytorch_prints_whole_floats() {
        // In [7] of the notebook, as PyTorch printed c's encoding.
        let mut c_enc = [0.0f32; 27];
        c_enc[3] = 1.0;
        assert_eq!(
            format_vector(&c_enc),
            "tensor([0., 0., 0., 1., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.,\n        \
             0., 0., 0., 0., 0., 0., 0., 0., 0.])"
        );
        // A vector with a fraction keeps 4 decimals (In [10]'s first weights).
        assert_eq!(format_vector(&[1.9269, 1.0]), "tensor([1.9269, 1.0000])");
    }

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
