//! The port as a Jupyter notebook (nbformat 4), for a learner who reads notebooks in Jupyter or
//! on a code host's viewer: one code cell per cell of the notebook, holding that cell's Rust as
//! `src/notebook.rs` writes it (read from the file itself when this program was built, so the
//! two cannot drift apart), a few words of ours before each group of cells, and each cell's
//! output as `bigram notebook` printed it in this run. Its kernel is evcxr's (Rust); nothing
//! needs to run for it to be read.

use super::Replay;
use serde_json::{json, Value};

/// The port, as compiled into this program: its cells, in its order, are the notebook's.
const PORT: &str = include_str!("../notebook.rs");

/// Our words before each group of cells: the first cell of the group, and the text.
const GROUPS: [(u32, &str); 6] = [
    (
        1,
        "## The data\n\nThe names, one per line; each name becomes bigrams with `.` before and \
         after it, and each character an index (`stoi`, `itos`). `X` holds the first character \
         of every bigram, `y` the one after it.",
    ),
    (
        7,
        "## One-hot inputs\n\nAn index becomes a row of 27 numbers with a single 1, first by \
         hand for `c`, then for all of `X` with `one_hot`.",
    ),
    (
        10,
        "## From one neuron to a layer\n\nWeights drawn from a generator seeded with 42; a \
         one-hot input times `W` picks a row of `W`. `exp` and a division by the row sums turn \
         these logits into probabilities of the next character.",
    ),
    (
        19,
        "## One example, one step\n\nThe loss of `a` after `c`, its gradient through \
         `backward()`, and one small step against it.",
    ),
    (
        40,
        "## Training\n\n`train()` repeats forward pass, `backward()` and update over every \
         example. The cell's update line assigns instead of stepping; under Out[43], a note of \
         ours gives the loss of the line it means, with In [44]'s `train_as_meant`.",
    ),
    (
        44,
        "## Past the notebook: smoothing, then generation\n\nThese cells are ours, not the \
         notebook's: they finish its TODO as the lecture does, and give the names `bigram \
         train` then `bigram sample -n 5` give.",
    ),
];

/// The Rust of each cell that `source` marks, by number. A cell starts at a line `// In [n]`
/// and runs to the next such line, a blank line or the end of its block.
pub fn code_cells(source: &str) -> Vec<(u32, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let cell = |i: usize| {
        let number = marker(lines[i])?;
        let indent = indentation(lines[i]);
        let end = (i + 1..lines.len())
            .find(|&j| {
                marker(lines[j]).is_some()
                    || lines[j].trim().is_empty()
                    || indentation(lines[j]) < indent
            })
            .unwrap_or(lines.len());
        let body: Vec<&str> = lines[i..end]
            .iter()
            .map(|line| line.get(indent..).unwrap_or(line.trim_start()))
            .collect();
        Some((number, body.join("\n").trim_end().to_string()))
    };
    (0..lines.len()).filter_map(cell).collect()
}

/// The cell a line starts: `// In [n]` followed by `:` or ` (ours)`. A cell named in prose
/// ("In [17]'s", a group "In [8], In [9]", or "In [45]" wrapped onto a line of its own) starts
/// none.
fn marker(line: &str) -> Option<u32> {
    let rest = line.trim_start().strip_prefix("// In [")?;
    let (number, after) = rest.split_once(']')?;
    let heads = after.starts_with(':') || after.starts_with(" (ours)");
    heads.then(|| number.parse().ok())?
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A notebook's `source`: its lines, each but the last ending in a newline.
fn source_lines(text: &str) -> Value {
    let lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    json!(lines)
}

impl Replay {
    /// The port as an nbformat 4 notebook, each cell's output what `bigram notebook` printed
    /// for it in this replay, if anything.
    pub fn ipynb(&self) -> String {
        let mut cells = Vec::new();
        for (number, rust) in code_cells(PORT) {
            if let Some((_, words)) = GROUPS.iter().find(|(first, _)| *first == number) {
                cells.push(json!({
                    "cell_type": "markdown",
                    "id": format!("about-{number}"),
                    "metadata": {},
                    "source": source_lines(words),
                }));
            }
            // A cell that showed nothing has no text, and no output.
            let text = Some(self.cell_text(number)).filter(|text| !text.is_empty());
            let outputs: Vec<Value> = (text.iter().map(|text| source_lines(text)))
                .map(|text| json!({"output_type": "stream", "name": "stdout", "text": text}))
                .collect();
            cells.push(json!({
                "cell_type": "code",
                "execution_count": number,
                "id": format!("in-{number}"),
                "metadata": {},
                "outputs": outputs,
                "source": source_lines(&rust),
            }));
        }
        let notebook = json!({
            "cells": cells,
            "metadata": {
                "kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"},
                "language_info": {
                    "codemirror_mode": "rust",
                    "file_extension": ".rs",
                    "mimetype": "text/rust",
                    "name": "rust",
                    "pygment_lexer": "rust",
                    "version": "",
                },
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        });
        // Jupyter's own layout: one-space indents and a final newline.
        let mut text = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut writer = serde_json::Serializer::with_formatter(&mut text, formatter);
        serde::Serialize::serialize(&notebook, &mut writer).expect("a JSON value serialises");
        String::from_utf8(text).expect("serde_json writes UTF-8") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_run_from_their_marker_to_the_next_or_the_end_of_their_block() {
        let source = "\
fn a() {
    // In [1]: a cell
    let x = 1;

    // In [2]: a comment, after In [1]
    let y = x;
}

// In [3], In [4]: a group, not a cell
    // In [2]'s prose, wrapped onto a line of its own, not a cell
    // In [2]
/// In [4]: a doc comment, not a cell
const C: u32 = 1;
";
        let cells = code_cells(source);
        assert_eq!(
            cells,
            [
                (1, "// In [1]: a cell\nlet x = 1;".to_string()),
                (
                    2,
                    "// In [2]: a comment, after In [1]\nlet y = x;".to_string()
                ),
            ]
        );
    }

    #[test]
    fn every_cell_of_the_notebook_has_its_rust_in_the_port() {
        // The notebook's cells in its order (In [30] comes last in the notebook), then ours.
        const CELLS: [u32; 32] = [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
            25, 26, 27, 40, 43, 30, 44, 45,
        ];
        let numbers: Vec<u32> = code_cells(PORT).iter().map(|(n, _)| *n).collect();
        for cell in CELLS {
            assert!(numbers.contains(&cell), "In [{cell}] has no marked Rust");
        }
        // A cell is marked once: a stray `// In [n]:` in a comment would start a second one.
        let twice: Vec<u32> = CELLS
            .into_iter()
            .filter(|cell| numbers.iter().filter(|n| *n == cell).count() > 1)
            .collect();
        assert!(twice.is_empty(), "cells marked twice: {twice:?}");
        // And nothing else, in the notebook's order: the exported notebook's cells are these.
        assert_eq!(numbers, CELLS);
    }
}
