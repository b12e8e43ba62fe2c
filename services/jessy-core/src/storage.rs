//! Layer storage: one memory-mapped file per layer under `<data>/layers/<name>.layer`.
//!
//! Writes go to a temp file in `<data>/tmp/` (same filesystem), are fsynced and
//! then renamed into `layers/`, so readers only ever see complete layers and a
//! crash mid-write leaves at most a stale temp file (removed at startup).
//! Layer files are never modified in place, which is what makes mapping them safe.

use bytes::Bytes;
use memmap2::Mmap;
use serde::Serialize;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Version of the on-disk layout, stored in `<data>/VERSION`.
pub const LAYOUT_VERSION: &str = "1";
const LAYER_EXT: &str = "layer";

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Checks a layer name against `^[a-z0-9][a-z0-9._-]{0,63}$`.
/// The first-character rule also excludes `.`, `..` and hidden files.
pub fn validate_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return Err(format!("name must be 1-64 characters, got {}", bytes.len()));
    }
    if !(bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit()) {
        return Err("name must start with [a-z0-9]".to_string());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "name must match ^[a-z0-9][a-z0-9._-]{{0,63}}$, found {c:?}"
        ));
    }
    Ok(())
}

/// One entry of the layer listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerInfo {
    pub name: String,
    pub size: u64,
}

/// Errors from storage operations.
#[derive(Debug)]
pub enum StoreError {
    /// The layer name does not match the allowed pattern.
    InvalidName(String),
    /// The data volume directory does not exist.
    Unavailable,
    /// Any other I/O failure.
    Io(io::Error),
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        StoreError::Io(e)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::InvalidName(d) => write!(f, "invalid layer name: {d}"),
            StoreError::Unavailable => write!(f, "data volume unavailable"),
            StoreError::Io(e) => write!(f, "storage error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Handle on a data volume directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn layers_dir(&self) -> PathBuf {
        self.root.join("layers")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn layer_path(&self, name: &str) -> Result<PathBuf, StoreError> {
        validate_name(name).map_err(StoreError::InvalidName)?;
        Ok(self.layers_dir().join(format!("{name}.{LAYER_EXT}")))
    }

    /// Creates `layers/` and `tmp/` inside an existing data dir.
    /// The data dir itself is never created: it is the mounted volume.
    pub fn ensure_layout(&self) -> Result<(), StoreError> {
        if !self.root.is_dir() {
            return Err(StoreError::Unavailable);
        }
        fs::create_dir_all(self.layers_dir())?;
        fs::create_dir_all(self.tmp_dir())?;
        Ok(())
    }

    /// Removes every entry of `tmp/` (leftovers of interrupted writes).
    /// Returns how many entries were removed.
    pub fn clean_tmp(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in fs::read_dir(self.tmp_dir())? {
            let entry = entry?;
            let path = entry.path();
            let res = if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match res {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(removed)
    }

    /// Health probe: the volume exists and a file can be created and removed in `tmp/`.
    pub fn probe(&self) -> Result<(), String> {
        if !self.root.exists() {
            return Err(format!("data dir {} does not exist", self.root.display()));
        }
        if !self.root.is_dir() {
            return Err(format!(
                "data dir {} is not a directory",
                self.root.display()
            ));
        }
        self.ensure_layout()
            .map_err(|e| format!("cannot prepare data dir {}: {e}", self.root.display()))?;
        let probe = self.tmp_path("health-probe");
        File::create(&probe)
            .and_then(|mut f| f.write_all(b"ok"))
            .and_then(|_| fs::remove_file(&probe))
            .map_err(|e| format!("data dir {} is not writable: {e}", self.root.display()))
    }

    fn tmp_path(&self, label: &str) -> PathBuf {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.tmp_dir()
            .join(format!(".{label}.{}.{n}.tmp", std::process::id()))
    }

    /// Atomically writes a layer. Returns `true` when it was created, `false` when replaced.
    pub fn write_layer(&self, name: &str, data: &[u8]) -> Result<bool, StoreError> {
        let dest = self.layer_path(name)?;
        self.ensure_layout()?;
        let tmp = self.tmp_path(name);
        let result = (|| -> io::Result<bool> {
            let mut file = File::create(&tmp)?;
            file.write_all(data)?;
            file.sync_all()?;
            drop(file);
            let existed = dest.exists();
            fs::rename(&tmp, &dest)?;
            // Persist the rename itself.
            File::open(self.layers_dir())?.sync_all()?;
            Ok(!existed)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        Ok(result?)
    }

    /// Reads a layer through a memory map. `Ok(None)` when it does not exist.
    pub fn read_layer(&self, name: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.layer_path(name)?;
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return if self.root.is_dir() {
                    Ok(None)
                } else {
                    Err(StoreError::Unavailable)
                };
            }
            Err(e) => return Err(e.into()),
        };
        if file.metadata()?.len() == 0 {
            // A zero-length file cannot be mapped.
            return Ok(Some(Bytes::new()));
        }
        // SAFETY: layer files are never written in place; they are only
        // replaced by rename or unlinked, which leaves this mapping intact.
        let map = unsafe { Mmap::map(&file)? };
        Ok(Some(Bytes::from_owner(map)))
    }

    /// Deletes a layer. Returns `false` when it did not exist.
    pub fn delete_layer(&self, name: &str) -> Result<bool, StoreError> {
        let path = self.layer_path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.root.is_dir() {
                    Ok(false)
                } else {
                    Err(StoreError::Unavailable)
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Lists layers sorted by name.
    pub fn list_layers(&self) -> Result<Vec<LayerInfo>, StoreError> {
        let entries = match fs::read_dir(self.layers_dir()) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return if self.root.is_dir() {
                    Ok(Vec::new())
                } else {
                    Err(StoreError::Unavailable)
                };
            }
            Err(e) => return Err(e.into()),
        };
        let mut layers = Vec::new();
        for entry in entries {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some(name) = file_name
                .to_str()
                .and_then(|f| f.strip_suffix(".layer"))
                .filter(|n| validate_name(n).is_ok())
            else {
                continue;
            };
            let meta = match entry.metadata() {
                Ok(m) if m.is_file() => m,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            layers.push(LayerInfo {
                name: name.to_string(),
                size: meta.len(),
            });
        }
        layers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(layers)
    }

    /// Number of layers (0 when the volume is unavailable).
    pub fn layer_count(&self) -> usize {
        self.list_layers().map(|l| l.len()).unwrap_or(0)
    }
}

/// Outcome of `init-volume`.
#[derive(Debug, PartialEq, Eq)]
pub enum InitOutcome {
    Created,
    AlreadyInitialized,
}

/// Errors of `init-volume`.
#[derive(Debug)]
pub enum InitError {
    /// The directory holds something that is not a jessy volume.
    Refused(String),
    Io(String),
}

/// Creates the volume layout (`layers/`, `tmp/`, `VERSION`) in `dir`.
/// Idempotent; refuses a directory that holds anything else.
pub fn init_volume(dir: &Path) -> Result<InitOutcome, InitError> {
    let shown = dir.display();
    let expected = format!(
        "expected an empty directory or a jessy volume (layers/, tmp/, VERSION containing {LAYOUT_VERSION:?})"
    );
    let io_err = |what: &str, e: io::Error| InitError::Io(format!("{what} {shown}: {e}"));
    if dir.exists() && !dir.is_dir() {
        return Err(InitError::Refused(format!(
            "refusing to initialize {shown}: not a directory; {expected}"
        )));
    }
    let mut has_version = false;
    if dir.is_dir() {
        for entry in fs::read_dir(dir).map_err(|e| io_err("cannot read", e))? {
            let entry = entry.map_err(|e| io_err("cannot read", e))?;
            let file_name = entry.file_name();
            let name = file_name.to_string_lossy();
            let ft = entry.file_type().map_err(|e| io_err("cannot read", e))?;
            let ok = match name.as_ref() {
                "layers" | "tmp" => ft.is_dir(),
                "VERSION" => ft.is_file(),
                _ => false,
            };
            if !ok {
                return Err(InitError::Refused(format!(
                    "refusing to initialize {shown}: unexpected entry {name:?}; {expected}"
                )));
            }
            if name == "VERSION" {
                let content = fs::read_to_string(entry.path())
                    .map_err(|e| io_err("cannot read VERSION in", e))?;
                if content.trim_end() != LAYOUT_VERSION {
                    return Err(InitError::Refused(format!(
                        "refusing to initialize {shown}: VERSION contains {:?}; {expected}",
                        content.trim_end()
                    )));
                }
                has_version = true;
            }
        }
    }
    fs::create_dir_all(dir.join("layers")).map_err(|e| io_err("cannot create layers/ in", e))?;
    fs::create_dir_all(dir.join("tmp")).map_err(|e| io_err("cannot create tmp/ in", e))?;
    if has_version {
        return Ok(InitOutcome::AlreadyInitialized);
    }
    fs::write(dir.join("VERSION"), format!("{LAYOUT_VERSION}\n"))
        .map_err(|e| io_err("cannot write VERSION in", e))?;
    Ok(InitOutcome::Created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for n in [
            "a",
            "0",
            "layer-1",
            "a.b_c-d",
            "x".repeat(64).as_str(),
            "9..9",
        ] {
            assert!(validate_name(n).is_ok(), "{n} should be valid");
        }
    }

    #[test]
    fn invalid_names() {
        let long = "x".repeat(65);
        for n in [
            "",
            ".",
            "..",
            ".hidden",
            "-a",
            "_a",
            "A",
            "abC",
            "a/b",
            "a b",
            "é",
            "a\0",
            long.as_str(),
            "../etc",
        ] {
            assert!(validate_name(n).is_err(), "{n:?} should be invalid");
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.ensure_layout().unwrap();
        (dir, store)
    }

    #[test]
    fn write_read_replace_delete() {
        let (_dir, store) = store();
        assert!(store.write_layer("alpha", b"hello").unwrap());
        assert_eq!(store.read_layer("alpha").unwrap().unwrap(), &b"hello"[..]);
        assert!(!store.write_layer("alpha", b"bye").unwrap());
        assert_eq!(store.read_layer("alpha").unwrap().unwrap(), &b"bye"[..]);
        assert!(store.delete_layer("alpha").unwrap());
        assert!(!store.delete_layer("alpha").unwrap());
        assert!(store.read_layer("alpha").unwrap().is_none());
    }

    #[test]
    fn atomic_write_leaves_no_temp_files() {
        let (_dir, store) = store();
        store.write_layer("a", &[7u8; 10_000]).unwrap();
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
        assert_eq!(
            fs::read(store.layers_dir().join("a.layer")).unwrap().len(),
            10_000
        );
    }

    #[test]
    fn mapping_survives_replacement() {
        let (_dir, store) = store();
        store.write_layer("m", b"first").unwrap();
        let old = store.read_layer("m").unwrap().unwrap();
        store.write_layer("m", b"second!").unwrap();
        store.delete_layer("m").unwrap();
        assert_eq!(old, &b"first"[..]);
    }

    #[test]
    fn empty_layer() {
        let (_dir, store) = store();
        store.write_layer("empty", b"").unwrap();
        assert_eq!(store.read_layer("empty").unwrap().unwrap().len(), 0);
        assert_eq!(store.list_layers().unwrap()[0].size, 0);
    }

    #[test]
    fn list_sorted_and_filtered() {
        let (_dir, store) = store();
        store.write_layer("b", b"22").unwrap();
        store.write_layer("a", b"1").unwrap();
        fs::write(store.layers_dir().join("junk.txt"), b"x").unwrap();
        let names: Vec<_> = store.list_layers().unwrap();
        assert_eq!(
            names,
            vec![
                LayerInfo {
                    name: "a".into(),
                    size: 1
                },
                LayerInfo {
                    name: "b".into(),
                    size: 2
                }
            ]
        );
    }

    #[test]
    fn invalid_name_rejected_by_store() {
        let (_dir, store) = store();
        assert!(matches!(
            store.write_layer("..", b"x"),
            Err(StoreError::InvalidName(_))
        ));
        assert!(matches!(
            store.read_layer("A"),
            Err(StoreError::InvalidName(_))
        ));
    }

    #[test]
    fn missing_volume() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("nope"));
        assert!(store.probe().is_err());
        assert!(matches!(
            store.write_layer("a", b"x"),
            Err(StoreError::Unavailable)
        ));
        assert!(matches!(
            store.read_layer("a"),
            Err(StoreError::Unavailable)
        ));
        assert!(matches!(store.list_layers(), Err(StoreError::Unavailable)));
        assert!(!dir.path().join("nope").exists());
    }

    #[test]
    fn probe_and_clean_tmp() {
        let (_dir, store) = store();
        store.probe().unwrap();
        fs::write(store.tmp_dir().join(".stale.tmp"), b"partial").unwrap();
        fs::create_dir(store.tmp_dir().join("stale-dir")).unwrap();
        assert_eq!(store.clean_tmp().unwrap(), 2);
        assert_eq!(fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn init_volume_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let vol = dir.path().join("vol");
        assert_eq!(init_volume(&vol).unwrap(), InitOutcome::Created);
        assert_eq!(fs::read_to_string(vol.join("VERSION")).unwrap(), "1\n");
        assert!(vol.join("layers").is_dir() && vol.join("tmp").is_dir());
        assert_eq!(init_volume(&vol).unwrap(), InitOutcome::AlreadyInitialized);
        // An empty existing dir is fine too.
        assert_eq!(
            init_volume(dir.path().join("vol").as_path()).unwrap(),
            InitOutcome::AlreadyInitialized
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(init_volume(empty.path()).unwrap(), InitOutcome::Created);
    }

    #[test]
    fn init_volume_refuses_foreign_content() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        match init_volume(dir.path()) {
            Err(InitError::Refused(msg)) => {
                assert!(msg.contains("notes.txt"), "{msg}");
                assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
            }
            other => panic!("expected refusal, got {other:?}"),
        }

        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("VERSION"), b"2\n").unwrap();
        assert!(matches!(
            init_volume(dir.path()),
            Err(InitError::Refused(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("layers"), b"not a dir").unwrap();
        assert!(matches!(
            init_volume(dir.path()),
            Err(InitError::Refused(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(matches!(init_volume(&file), Err(InitError::Refused(_))));
    }
}
