//! Configuration from environment variables.

use std::net::IpAddr;
use std::path::PathBuf;

pub const DEFAULT_PORT: u16 = 8080;
pub const DEFAULT_BIND_HOST: &str = "0.0.0.0";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_MAX_LAYER_BYTES: usize = 16 * 1024 * 1024;

/// Runtime configuration of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `JESSY_CORE_PORT` (default 8080).
    pub port: u16,
    /// `JESSY_BIND_HOST` (default `0.0.0.0`).
    pub bind_host: IpAddr,
    /// `JESSY_DATA_DIR` (default `./data`).
    pub data_dir: PathBuf,
    /// `JESSY_MAX_LAYER_BYTES` (default 16 MiB).
    pub max_layer_bytes: usize,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any key lookup (used by tests).
    /// Unset or empty variables take their defaults; malformed ones are errors.
    pub fn from_lookup<F>(lookup: F) -> Result<Config, String>
    where
        F: Fn(&str) -> Option<String>,
    {
        let get = |key: &str| setting(&lookup, key);
        Ok(Config {
            port: parse_port(get("JESSY_CORE_PORT"))?,
            bind_host: match get("JESSY_BIND_HOST") {
                None => DEFAULT_BIND_HOST.parse().expect("valid default host"),
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("JESSY_BIND_HOST must be an IP address, got {v:?}"))?,
            },
            data_dir: get("JESSY_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            max_layer_bytes: match get("JESSY_MAX_LAYER_BYTES") {
                None => DEFAULT_MAX_LAYER_BYTES,
                Some(v) => v.parse().map_err(|_| {
                    format!("JESSY_MAX_LAYER_BYTES must be a non-negative integer, got {v:?}")
                })?,
            },
        })
    }
}

/// Parses `JESSY_CORE_PORT`; unset means the default port.
pub fn parse_port(value: Option<String>) -> Result<u16, String> {
    match value {
        None => Ok(DEFAULT_PORT),
        Some(v) => v
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("JESSY_CORE_PORT must be a port number 1-65535, got {v:?}")),
    }
}

/// The value of `key` from `lookup`, trimmed; `None` when unset or empty (both mean: take the default).
pub(crate) fn setting<F>(lookup: &F, key: &str) -> Option<String>
where
    F: Fn(&str) -> Option<String>,
{
    lookup(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A lookup over fixed `(key, value)` pairs, standing in for the environment in tests.
#[cfg(test)]
pub(crate) fn lookup_in<'a>(
    pairs: &'a [(&'a str, &'a str)],
) -> impl Fn(&str) -> Option<String> + 'a {
    move |key| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        Config::from_lookup(lookup_in(pairs))
    }

    #[test]
    fn defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.bind_host.to_string(), "0.0.0.0");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.max_layer_bytes, 16_777_216);
    }

    #[test]
    fn explicit_values() {
        let c = cfg(&[
            ("JESSY_CORE_PORT", "9000"),
            ("JESSY_BIND_HOST", "127.0.0.1"),
            ("JESSY_DATA_DIR", "/data"),
            ("JESSY_MAX_LAYER_BYTES", "1024"),
        ])
        .unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.bind_host.to_string(), "127.0.0.1");
        assert_eq!(c.data_dir, PathBuf::from("/data"));
        assert_eq!(c.max_layer_bytes, 1024);
    }

    #[test]
    fn empty_values_use_defaults() {
        let c = cfg(&[("JESSY_CORE_PORT", ""), ("JESSY_DATA_DIR", " ")]).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn invalid_values_are_errors() {
        assert!(cfg(&[("JESSY_CORE_PORT", "http")]).is_err());
        assert!(cfg(&[("JESSY_CORE_PORT", "0")]).is_err());
        assert!(cfg(&[("JESSY_CORE_PORT", "70000")]).is_err());
        assert!(cfg(&[("JESSY_BIND_HOST", "localhost:80")]).is_err());
        assert!(cfg(&[("JESSY_MAX_LAYER_BYTES", "-1")]).is_err());
        assert!(cfg(&[("JESSY_MAX_LAYER_BYTES", "16MiB")]).is_err());
    }
}
