//! `bigram --version`: this program's version and what it runs on, the first thing to ask
//! when numbers differ between machines.

use super::printer::Report;
use super::Context;
use bigram::device::{runtime, Runtime};
use serde::Serialize;

#[derive(Serialize)]
struct VersionReport {
    bigram: &'static str,
    #[serde(flatten)]
    runtime: Runtime,
    /// The thread count this run uses (`--threads`, or libtorch's choice).
    threads: i32,
}

impl Report for VersionReport {
    fn render(&self) -> String {
        let libtorch = match (&self.runtime.libtorch, &self.runtime.libtorch_dir) {
            (Some(v), Some(dir)) => format!("libtorch {v} ({})", dir.display()),
            (None, Some(dir)) => format!("libtorch of unknown version ({})", dir.display()),
            _ => "libtorch: not found among the loaded libraries".to_string(),
        };
        let runtime = &self.runtime;
        let backend = (&runtime.cuda_runtime, &runtime.cuda_backend_error);
        let devices = bigram::plural(runtime.cuda_devices, "device");
        let cuda = match (runtime.cuda_devices, backend) {
            (0, (_, Some(error))) => {
                format!("CUDA: not available (libtorch's GPU backend did not load: {error})")
            }
            (0, (Some(version), None)) => {
                format!("CUDA: not available (libtorch is built for CUDA {version}; no GPU seen)")
            }
            (0, (None, None)) => "CUDA: not available (libtorch is built without it)".to_string(),
            (_, (Some(version), _)) => format!("CUDA: available, {devices} (CUDA {version})"),
            (_, (None, _)) => format!("CUDA: available, {devices}"),
        };
        format!(
            "bigram {}\n{libtorch}\n{cuda}\nthreads: {} by default (libtorch's choice; --threads N sets it)\n",
            self.bigram, self.runtime.default_threads
        )
    }
}

pub fn run(ctx: &Context) -> anyhow::Result<()> {
    ctx.printer.print(&VersionReport {
        bigram: env!("CARGO_PKG_VERSION"),
        runtime: runtime(),
        threads: ctx.threads,
    })
}
