//! Command-line contract.

use std::path::PathBuf;

pub const USAGE: &str =
    "usage: jessy-core [--healthcheck | init-volume <dir> | --help | --version]";

/// What the binary was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    Healthcheck,
    InitVolume(PathBuf),
    Help,
    Version,
}

/// Parses the arguments after the program name.
pub fn parse<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    match refs.as_slice() {
        [] => Ok(Command::Serve),
        ["--healthcheck"] => Ok(Command::Healthcheck),
        ["-h" | "--help"] => Ok(Command::Help),
        ["-V" | "--version"] => Ok(Command::Version),
        ["init-volume", dir] if !dir.is_empty() && !dir.starts_with('-') => {
            Ok(Command::InitVolume(PathBuf::from(dir)))
        }
        ["init-volume", ..] => Err("init-volume takes exactly one <dir> argument".to_string()),
        [other, ..] => Err(format!("unexpected argument {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(parse(Vec::<String>::new()), Ok(Command::Serve));
        assert_eq!(parse(["--healthcheck"]), Ok(Command::Healthcheck));
        assert_eq!(parse(["--help"]), Ok(Command::Help));
        assert_eq!(parse(["--version"]), Ok(Command::Version));
        assert_eq!(
            parse(["init-volume", "/data"]),
            Ok(Command::InitVolume(PathBuf::from("/data")))
        );
    }

    #[test]
    fn rejects_bad_usage() {
        assert!(parse(["init-volume"]).is_err());
        assert!(parse(["init-volume", "a", "b"]).is_err());
        assert!(parse(["init-volume", "--force"]).is_err());
        assert!(parse(["--healthcheck", "extra"]).is_err());
        assert!(parse(["serve"]).is_err());
        assert!(parse(["--port=1"]).is_err());
    }
}
