use jessy_core::cli::{self, Command, USAGE};
use jessy_core::config::{self, Config};
use jessy_core::storage::{self, InitError, InitOutcome};
use jessy_core::telemetry::{Telemetry, TelemetryConfig};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jessy-core: {e}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("jessy-core {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Healthcheck => healthcheck(),
        Command::InitVolume(dir) => match storage::init_volume(&dir) {
            Ok(InitOutcome::Created) => {
                println!("initialized jessy volume at {}", dir.display());
                ExitCode::SUCCESS
            }
            Ok(InitOutcome::AlreadyInitialized) => {
                println!("jessy volume at {} is already initialized", dir.display());
                ExitCode::SUCCESS
            }
            Err(InitError::Refused(msg)) => {
                eprintln!("jessy-core: {msg}");
                ExitCode::from(2)
            }
            Err(InitError::Io(msg)) => {
                eprintln!("jessy-core: {msg}");
                ExitCode::FAILURE
            }
        },
        Command::Serve => serve(),
    }
}

fn healthcheck() -> ExitCode {
    let port = match config::parse_port(
        std::env::var("JESSY_CORE_PORT")
            .ok()
            .filter(|v| !v.trim().is_empty()),
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("jessy-core: {e}");
            return ExitCode::FAILURE;
        }
    };
    match jessy_core::healthcheck::check(port, Duration::from_secs(2)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jessy-core: healthcheck failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jessy-core: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jessy-core: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let telemetry_config = TelemetryConfig::from_env();
    let telemetry = match Telemetry::init(&telemetry_config, runtime.handle().clone()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("jessy-core: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(endpoint) = &telemetry_config.traces_endpoint {
        jessy_core::log_json(serde_json::json!({
            "msg": "exporting traces",
            "endpoint": endpoint,
            "service_name": telemetry_config.service_name,
        }));
    }
    let served = runtime.block_on(jessy_core::server::run(config));
    // After the server stopped (SIGTERM/SIGINT) and before the runtime goes: it drives the last export.
    if let Err(e) = telemetry.shutdown() {
        jessy_core::log_json(serde_json::json!({"level": "warn", "msg": e}));
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jessy-core: {e}");
            ExitCode::FAILURE
        }
    }
}
