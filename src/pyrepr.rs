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

/// `repr(t)` as PyTorch 2.13 prints it: `tensor(` + the elements + the suffixes + `)`. Only
/// the elements shown are read: for a tensor of more than 1000 elements the first and last 3
/// along each dimension longer than 6, so a large tensor costs a few dozen elements, not a copy.
pub fn tensor_repr(t: &Tensor) -> Result<String> {
    let shape: Vec<usize> = t.size().iter().map(|&n| n as usize).collect();
    let summarize = t.numel() > THRESHOLD;
    let shown = match summarize {
        true => edges(t)?,
        false => t.detach().to_device(Device::Cpu),
    };
    let flat = shown.reshape([-1]);
    let kind = t.kind();
    // The elements as Python sees them after `tolist()`: any floating dtype widened exactly
    // to f64, any integer dtype to i64.
    let (texts, width) = match kind {
        Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16 => {
            floats(&Vec::<f64>::try_from(&flat.to_kind(Kind::Double))?)
        }
        Kind::Bool => aligned(
            Vec::<bool>::try_from(&flat)?
                .into_iter()
                .map(|b| if b { "True" } else { "False" }.to_string()),
        ),
        Kind::Uint8 | Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64 => aligned(
            Vec::<i64>::try_from(&flat.to_kind(Kind::Int64))?
                .iter()
                .map(i64::to_string),
        ),
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
    let indent = PREFIX.len();
    let body = match shape.contains(&0) {
        true => "[]".to_string(),
        false => nest(&texts, &shape, summarize, width, indent),
    };
    Ok(with_suffixes(&format!("{PREFIX}{body}"), &suffixes, indent))
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

/// Integers and booleans as Python writes them, right-aligned in the width of the widest, and
/// that width.
fn aligned(texts: impl Iterator<Item = String>) -> (Vec<String>, usize) {
    let texts: Vec<String> = texts.collect();
    let width = texts.iter().map(String::len).fold(1, usize::max);
    (
        texts.iter().map(|text| format!("{text:>width$}")).collect(),
        width,
    )
}

/// Each float as PyTorch's `_Formatter` writes it, right-aligned in the width they all share
/// (never cut when longer: `-0.0000`), and that width.
fn floats(v: &[f64]) -> (Vec<String>, usize) {
    // The modes, and the width, follow from the finite values other than 0 only.
    let counted: Vec<f64> = (v.iter().copied())
        .filter(|x| x.is_finite() && *x != 0.0)
        .collect();
    let magnitudes = counted.iter().map(|x| x.abs());
    let max = magnitudes.clone().fold(f64::NEG_INFINITY, f64::max);
    let min = magnitudes.fold(f64::INFINITY, f64::min);
    let int_mode = counted.iter().all(|x| *x == x.ceil());
    let sci_mode = !counted.is_empty() && (max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4);
    let write = |x: f64| match x {
        // Written alike in every mode.
        x if !x.is_finite() => non_finite(x).into(),
        // f"{x:.4e}": 1.2346e+01
        x if sci_mode => python_sci(&format!("{x:.PRECISION$e}")),
        x if int_mode => format!("{x:.0}."),
        x => format!("{x:.PRECISION$}"),
    };
    let width = (counted.iter())
        .map(|&x| write(x).len())
        .fold(1, usize::max);
    let padded = v.iter().map(|&x| format!("{:>width$}", write(x)));
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
