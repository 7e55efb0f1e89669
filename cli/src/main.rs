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
    // NB: unlocked handles. Holding stderr's lock for the whole run would block every other
    // thread that logs (the controller's tokio workers) until exit.
    let code = run_with(
        args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
        &skillbox_operator::run,
    );
    std::io::stdout().flush()?;
    std::process::exit(code);
}
