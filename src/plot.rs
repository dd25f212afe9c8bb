//! Pictures: the bigram heatmap and the loss curve, drawn with plotters and the embedded
//! DejaVu Sans font (no system font needed) into memory and encoded as PNG bytes. Writing them
//! is the caller's (through `io`), so a full disk is a plain write error.

use crate::error::{Error, Result};
use crate::vocab::Vocab;
use plotters::coord::ranged1d::{BoldPoints, ValueFormatter};
use plotters::coord::types::RangedCoordu32;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::Once;

const FONT: &str = "sans-serif";

fn drawing_error(e: impl std::fmt::Display) -> Error {
    Error::failed(format!("cannot draw the picture: {e}"))
}

/// What drawing gives: plotters' errors, each made one message in [`png`].
type Drawn = std::result::Result<(), Box<dyn std::error::Error>>;

/// An RGB picture of `width × height` pixels, drawn by `draw` with [`FONT`], as PNG bytes.
fn png(width: u32, height: u32, draw: impl FnOnce(&mut [u8]) -> Drawn) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    static FONT_REGISTERED: Once = Once::new();
    FONT_REGISTERED.call_once(|| {
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    draw(&mut pixels).map_err(drawing_error)?;
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .map_err(drawing_error)?;
    Ok(bytes)
}

/// What the heatmap's cells show (`heatmap --json` writes it in lower case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellValues {
    /// Bigram counts (integers).
    Counts,
    /// Probabilities of the next character (rows sum to 1).
    Probabilities,
}

/// A light-to-dark blue for `t` in [0, 1] (white for 0).
fn blue(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    // Each channel from light (t = 0) to dark (t = 1).
    let channels = [(247.0, 8.0), (251.0, 48.0), (255.0, 107.0)];
    let [r, g, b] =
        channels.map(|(light, dark): (f64, f64)| (light + (dark - light) * t).round() as u8);
    RGBColor(r, g, b)
}

/// Draw a `width × width` matrix (row-major) as a square grid of `size` pixels: each cell
/// coloured by its value and labelled with its two characters and its value. PNG bytes.
pub fn heatmap(vocab: &Vocab, values: &[f64], kind: CellValues, size: u32) -> Result<Vec<u8>> {
    let width = vocab.len();
    if values.len() != width * width {
        return Err(Error::input(
            "a heatmap needs a square matrix over the vocabulary (bigram models only)",
        ));
    }
    // The pixels, and the PNG encoded from them, at most as large again.
    let need = 2 * 3 * u64::from(size) * u64::from(size);
    crate::memory::check(need, "the heatmap's pixels", "give a smaller --size")?;
    png(size, size, |pixels| {
        let root = BitMapBackend::with_buffer(pixels, (size, size)).into_drawing_area();
        root.fill(&WHITE)?;
        let cell = size as i32 / width as i32;
        let margin = (size as i32 - cell * width as i32) / 2;
        let max = values
            .iter()
            .copied()
            .fold(0.0f64, f64::max)
            .max(f64::MIN_POSITIVE);
        let centred = |scale: f64| {
            TextStyle::from((FONT, cell as f64 * scale).into_font())
                .pos(Pos::new(HPos::Center, VPos::Center))
        };
        let (letters, numbers) = (centred(0.30), centred(0.24));
        for row in 0..width {
            for col in 0..width {
                let value = values[row * width + col];
                let t = value / max;
                let (x, y) = (margin + col as i32 * cell, margin + row as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    blue(t).filled(),
                ))?;
                let ink = if t > 0.5 { WHITE } else { RGBColor(40, 40, 40) };
                let pair: String = [vocab.char(row), vocab.char(col)].iter().collect();
                let label = match kind {
                    CellValues::Counts => format!("{value:.0}"),
                    CellValues::Probabilities => format!("{value:.3}"),
                };
                // The pair 3/10 of the way down the cell, its value 7/10.
                for (text, tenths, style) in [(pair, 3, &letters), (label, 7, &numbers)] {
                    let at = (x + cell / 2, y + cell * tenths / 10);
                    root.draw(&Text::new(text, at, style.color(&ink)))?;
                }
            }
        }
        root.present()?;
        Ok(())
    })
}

/// Draw loss curves against the epoch: each series is (name, one value per epoch). PNG bytes.
pub fn loss_curve(title: &str, series: &[(&str, &[f64])]) -> Result<Vec<u8>> {
    let epochs = series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let finite = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if epochs == 0 || !lo.is_finite() {
        return Err(Error::input("nothing to plot: no finite loss"));
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let range = (lo - pad)..(hi + pad);
    png(1200, 800, |pixels| {
        let root = BitMapBackend::with_buffer(pixels, (1200, 800)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 30))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(epoch_axis(epochs), range)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .x_labels(EPOCH_LABELS)
            .y_desc("loss")
            .label_style((FONT, 18))
            .axis_desc_style((FONT, 20))
            .draw()?;
        let colours = [
            RGBColor(31, 119, 180),
            RGBColor(255, 127, 14),
            RGBColor(44, 160, 44),
        ];
        for ((name, values), colour) in series.iter().zip(colours.into_iter().cycle()) {
            chart
                .draw_series(
                    LineSeries::new(
                        values.iter().enumerate().map(|(i, v)| (i as u32 + 1, *v)),
                        colour.stroke_width(3),
                    )
                    // One epoch is one point, which a line alone does not show.
                    .point_size(if values.len() == 1 { 6 } else { 0 }),
                )?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 20))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// At most this many labelled ticks on the epoch axis.
const EPOCH_LABELS: usize = 10;

/// The epoch axis: whole epochs from 1, so ticks fall on whole epochs and no two share a label
/// (a real axis put several ticks between two epochs, each rounded to the same number).
fn epoch_axis(epochs: usize) -> RangedCoordu32 {
    (1..epochs.max(2) as u32).into()
}

/// The labels on the x-axis of a loss curve over `epochs` epochs, as plotters draws them.
pub fn epoch_labels(epochs: usize) -> Vec<String> {
    let axis = epoch_axis(epochs);
    let ticks = axis.key_points(BoldPoints(EPOCH_LABELS));
    ticks.iter().map(|tick| axis.format_ext(tick)).collect()
}
