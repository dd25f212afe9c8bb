//! Python's printing, as a notebook shows it: `repr()` of a tensor exactly as PyTorch 2.13
//! prints it at its default print options (`torch/_tensor_str.py`), of a float (Python's
//! shortest round trip) and of a `torch.Size`. Only the text: what a tensor holds is read
//! from tch, and the name of its autograd node from libtorch (`grad_fn.cpp`, built by build.rs).
//!
//! PyTorch's rules, in short: every element shown shares one width; floats get 4 decimals,
//! or `0.`-style whole numbers when all are whole, or scientific notation when the largest
//! shown magnitude is over 1000 times the smallest, over 1e8, or the smallest under 1e-4 (zeros
//! and non-finite values do not count); a line holds as many elements as fit in 80 columns
//! after the indent; past 1000 elements only the first and last 3 of each dimension are shown,
//! around `...`; then the suffixes (`dtype=`, `grad_fn=<…>` or `requires_grad=True`), on a new
//! line when the last one would pass 80 columns.

use crate::error::{Error, Result};
use std::ffi::c_void;
use tch::{Device, Kind, Tensor};

// PyTorch's default print options: the elements kept at each end of a summarized dimension,
// the element count above which a tensor is summarized, the columns of a line, the decimals.
const EDGE_ITEMS: usize = 3;
const THRESHOLD: usize = 1000;
const LINE_WIDTH: usize = 80;
const PRECISION: usize = 4;
/// What continuation lines are indented by.
const PREFIX: &str = "tensor(";

/// The elements a repr shows, as Python sees them after `tolist()`: any floating dtype widened
/// exactly to f64, any integer dtype to i64.
#[derive(Clone, Debug, PartialEq)]
pub enum Elements {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

/// What a tensor's repr is made of: its whole shape; the elements shown, row-major (all, or
/// for a tensor of more than 1000, the first and last 3 along each dimension longer than 6);
/// the suffixes, in PyTorch's order (`dtype=…`, `grad_fn=<…>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub shape: Vec<usize>,
    pub elements: Elements,
    pub suffixes: Vec<String>,
}

/// `repr(t)` as PyTorch 2.13 prints it.
pub fn tensor_repr(t: &Tensor) -> Result<String> {
    Ok(shown(t)?.repr())
}

/// Python's `repr()` of a `torch.Size`: `torch.Size([27, 27])`.
pub fn size_repr(size: &[i64]) -> String {
    format!("torch.Size({size:?})")
}

/// Python's `repr()` of a float: the shortest digits that read back as `x`, positional from
/// 1e-4 up to 1e16 (`3.085660934448242`, `1.0`), scientific outside it (`1e-05`, `1.5e+16`).
pub fn float_repr(x: f64) -> String {
    if !x.is_finite() {
        return non_finite(x).into();
    }
    // Rust's Debug writes the same shortest round-trip digits as Python, switching to
    // scientific notation at the same bounds; only its exponent is written differently.
    let debug = format!("{x:?}");
    match debug.contains('e') {
        true => python_sci(&debug),
        false => debug,
    }
}

/// Python's `repr()` of a str: in single quotes, or double quotes when it holds a single
/// quote and no double quote; backslashes and the quote used escaped.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A value as Python's `repr()` writes it: strings and characters quoted, integers as they are,
/// pairs in parentheses.
pub trait PyRepr {
    fn py_repr(&self) -> String;
}

impl PyRepr for String {
    fn py_repr(&self) -> String {
        str_repr(self)
    }
}

impl PyRepr for char {
    fn py_repr(&self) -> String {
        str_repr(&self.to_string())
    }
}

impl PyRepr for i64 {
    fn py_repr(&self) -> String {
        self.to_string()
    }
}

impl<T: PyRepr + ?Sized> PyRepr for &T {
    fn py_repr(&self) -> String {
        (**self).py_repr()
    }
}

impl<A: PyRepr, B: PyRepr> PyRepr for (A, B) {
    fn py_repr(&self) -> String {
        format!("({}, {})", self.0.py_repr(), self.1.py_repr())
    }
}

/// Python's `repr()` of a list of `items`.
pub fn list_repr<T: PyRepr>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|item| item.py_repr()).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `repr()` of a dict of `pairs`, in their order.
pub fn dict_repr<K: PyRepr, V: PyRepr>(pairs: impl IntoIterator<Item = (K, V)>) -> String {
    let pairs: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{}: {}", k.py_repr(), v.py_repr()))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Rust's scientific notation (`1.5e16`, `1e-5`) with Python's exponent, a sign and at least
/// two digits (`1.5e+16`, `1e-05`).
fn python_sci(rust: &str) -> String {
    let (mantissa, exponent) = rust.split_once('e').unwrap_or((rust, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

/// Python's spelling of inf, -inf and nan (of either sign).
fn non_finite(x: f64) -> &'static str {
    match x {
        x if x.is_nan() => "nan",
        x if x > 0.0 => "inf",
        _ => "-inf",
    }
}

/// Reads what `t`'s repr shows: for a tensor of more than 1000 elements only the edges, so a
/// large tensor costs a few dozen elements, not a copy.
fn shown(t: &Tensor) -> Result<Shown> {
    let shape: Vec<usize> = t.size().iter().map(|&n| n as usize).collect();
    let shown = match t.numel() > THRESHOLD {
        true => edges(t)?,
        false => t.detach().to_device(Device::Cpu),
    };
    let flat = shown.reshape([-1]);
    let kind = t.kind();
    let elements = match kind {
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16 => {
            Elements::Float(Vec::<f64>::try_from(&flat.to_kind(Kind::Double))?)
        }
        Kind::Bool => Elements::Bool(Vec::<bool>::try_from(&flat)?),
        Kind::Uint8 | Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64 => {
            Elements::Int(Vec::<i64>::try_from(&flat.to_kind(Kind::Int64))?)
        }
        other => {
            return Err(Error::Input(format!(
                "printing a tensor of {other:?} as PyTorch does is not supported"
            )))
        }
    };
    let mut suffixes = Vec::new();
    if let Device::Cuda(index) = t.device() {
        suffixes.push(format!("device='cuda:{index}'"));
    }
    let default_dtype = matches!(kind, Kind::Float | Kind::Int64 | Kind::Bool);
    if shape.contains(&0) {
        if shape.len() != 1 {
            // str(tuple(shape)) of two dimensions or more: (2, 0)
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            suffixes.push(format!("size=({})", dims.join(", ")));
        }
        if kind != Kind::Float {
            suffixes.push(format!("dtype={}", dtype_name(kind)));
        }
    } else if !default_dtype {
        suffixes.push(format!("dtype={}", dtype_name(kind)));
    }
    match grad_fn_name(t) {
        Some(name) => suffixes.push(format!("grad_fn=<{name}>")),
        None if t.requires_grad() => suffixes.push("requires_grad=True".into()),
        None => {}
    }
    Ok(Shown {
        shape,
        elements,
        suffixes,
    })
}

/// `t`'s first and last 3 elements along each dimension longer than 6, on the CPU (all of a
/// shorter one): what a summarized repr shows, and a large matrix's corners.
pub fn edges(t: &Tensor) -> Result<Tensor> {
    let mut edges = t.detach().to_device(Device::Cpu);
    for (dim, n) in t.size().into_iter().enumerate() {
        if n > 2 * EDGE_ITEMS as i64 {
            let (dim, edge) = (dim as i64, EDGE_ITEMS as i64);
            // t[:3] and t[-3:] along `dim`, side by side: torch.cat((t[:3], t[-3:]), dim)
            let ends = [
                edges.narrow(dim, 0, edge),
                edges.narrow(dim, n - edge, edge),
            ];
            edges = Tensor::f_cat(&ends, dim)?;
        }
    }
    Ok(edges)
}

pub fn dtype_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Float => "torch.float32",
        Kind::Double => "torch.float64",
        Kind::Half => "torch.float16",
        Kind::BFloat16 => "torch.bfloat16",
        Kind::Uint8 => "torch.uint8",
        Kind::Int8 => "torch.int8",
        Kind::Int16 => "torch.int16",
        Kind::Int => "torch.int32",
        Kind::Int64 => "torch.int64",
        Kind::Bool => "torch.bool",
        _ => "torch.unknown",
    }
}

extern "C" {
    /// `src/pyrepr/grad_fn.cpp`: the name of the tensor's grad_fn, its length returned.
    fn bigram_grad_fn_name(tensor: *const c_void, out: *mut u8, capacity: usize) -> usize;
}

/// The name Python shows for `t.grad_fn` (`MmBackward0`), read from libtorch's autograd
/// graph; None for a leaf or a tensor made without autograd.
pub fn grad_fn_name(t: &Tensor) -> Option<String> {
    let mut name = vec![0u8; 64];
    loop {
        // SAFETY: `t.as_ptr()` is the live at::Tensor tch wraps; the shim writes at most
        // `name.len()` bytes into `name` and only reads the tensor.
        let len = unsafe { bigram_grad_fn_name(t.as_ptr().cast(), name.as_mut_ptr(), name.len()) };
        if len == 0 {
            return None;
        }
        if len <= name.len() {
            name.truncate(len);
            return String::from_utf8(name).ok();
        }
        name.resize(len, 0);
    }
}

impl Shown {
    /// The repr: `tensor(` + the elements + the suffixes + `)`.
    pub fn repr(&self) -> String {
        let indent = PREFIX.len();
        let body = if self.shape.contains(&0) {
            "[]".to_string()
        } else {
            let (texts, width) = formatted(&self.elements);
            let summarize = self.shape.iter().product::<usize>() > THRESHOLD;
            nest(&texts, &self.shape, summarize, width, indent)
        };
        with_suffixes(&format!("{PREFIX}{body}"), &self.suffixes, indent)
    }
}

/// `_add_suffixes`: each suffix after `, `, or on a new line at `indent` when it would end
/// past the line width.
fn with_suffixes(text: &str, suffixes: &[String], indent: usize) -> String {
    let mut out = text.to_string();
    // PyTorch counts the last line two longer than it is; so does this.
    let mut last_line = text.len() - text.rfind('\n').map_or(0, |i| i + 1) + 2;
    for suffix in suffixes {
        if last_line + suffix.len() + 2 > LINE_WIDTH {
            out.push_str(&format!(",\n{}{suffix}", " ".repeat(indent)));
            last_line = indent + suffix.len();
        } else {
            out.push_str(&format!(", {suffix}"));
            last_line += suffix.len() + 2;
        }
    }
    out.push(')');
    out
}

/// Each element as PyTorch's `_Formatter` writes it, right-aligned in the width they all share
/// (never cut when longer: `-0.0000`), and that width.
fn formatted(elements: &Elements) -> (Vec<String>, usize) {
    let widest = |texts: &[String]| texts.iter().map(String::len).fold(1, usize::max);
    // Integers and booleans as Python writes them, as wide as the widest.
    let plain = |texts: Vec<String>| (widest(&texts), texts);
    let (width, texts) = match elements {
        Elements::Int(v) => plain(v.iter().map(i64::to_string).collect()),
        Elements::Bool(v) => plain(
            v.iter()
                .map(|&b| if b { "True" } else { "False" }.into())
                .collect(),
        ),
        Elements::Float(v) => {
            // The modes, and the width, follow from the finite values other than 0 only.
            let counted: Vec<f64> = (v.iter().copied())
                .filter(|x| x.is_finite() && *x != 0.0)
                .collect();
            let magnitudes = counted.iter().map(|x| x.abs());
            let max = magnitudes.clone().fold(f64::NEG_INFINITY, f64::max);
            let min = magnitudes.fold(f64::INFINITY, f64::min);
            let int_mode = counted.iter().all(|x| *x == x.ceil());
            let sci_mode =
                !counted.is_empty() && (max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4);
            let write = |x: f64| match x {
                // Written alike in every mode.
                x if !x.is_finite() => non_finite(x).into(),
                // f"{x:.4e}": 1.2346e+01
                x if sci_mode => python_sci(&format!("{x:.PRECISION$e}")),
                x if int_mode => format!("{x:.0}."),
                x => format!("{x:.PRECISION$}"),
            };
            let width = widest(&counted.iter().map(|&x| write(x)).collect::<Vec<_>>());
            (width, v.iter().map(|&x| write(x)).collect())
        }
    };
    let padded = texts.iter().map(|text| format!("{text:>width$}"));
    (padded.collect(), width)
}

/// The sub-tensor of `shape` whose shown elements are `texts` (row-major), its opening bracket
/// at column `indent`: a summarized dimension shows its first and last 3 around `...`, and the
/// last dimension's elements wrap at the line width.
fn nest(texts: &[String], shape: &[usize], summarize: bool, width: usize, indent: usize) -> String {
    let Some((&n, inner)) = shape.split_first() else {
        return texts[0].clone(); // 0-d: the element alone
    };
    let cut = summarize && n > 2 * EDGE_ITEMS;
    let mut parts: Vec<String> = if inner.is_empty() {
        texts.to_vec()
    } else {
        let kept = if cut { 2 * EDGE_ITEMS } else { n };
        let subs = texts.chunks(texts.len() / kept);
        subs.map(|sub| nest(sub, inner, summarize, width, indent + 1))
            .collect()
    };
    if cut {
        let ellipsis = if inner.is_empty() { " ..." } else { "..." };
        parts.insert(EDGE_ITEMS, ellipsis.into());
    }
    if inner.is_empty() {
        let per_line = (LINE_WIDTH.saturating_sub(indent) / (width + 2)).max(1);
        parts = parts.chunks(per_line).map(|line| line.join(", ")).collect();
    }
    // Sub-tensors of more dimensions are set further apart: a blank line per dimension past 1.
    let newlines = "\n".repeat(inner.len().max(1));
    format!(
        "[{}]",
        parts.join(&format!(",{newlines}{}", " ".repeat(indent + 1)))
    )
}
