//! The `skillbox` binary: logging setup around [`skillbox::cli::run_with`], with the operator
//! linked in for `skillbox controller`.

use skillbox::cli::{LogFormat, log_format, run_with};
use std::io::Write;

fn main() -> anyhow::Result<()> {
    let args: Vec<_> = std::env::args_os().collect();
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKILLBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log_format(&args) {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.init(),
    }
    let code = run_with(
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
        &skillbox_operator::run,
    );
    std::io::stdout().flush()?;
    std::process::exit(code);
}
