//! Layer write/read throughput through the storage library.
//! Ids: `layer_write/4KiB`, `layer_write/1MiB`, `layer_read/4KiB`, `layer_read/1MiB`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jessy_core::Store;
use std::hint::black_box;

const SIZES: [(&str, usize); 2] = [("4KiB", 4 * 1024), ("1MiB", 1024 * 1024)];

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::new(dir.path());
    store.ensure_layout().expect("layout");
    (dir, store)
}

fn layer_write(c: &mut Criterion) {
    let (_dir, store) = store();
    let mut group = c.benchmark_group("layer_write");
    for (label, size) in SIZES {
        let data = vec![0xA5u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &data, |b, data| {
            b.iter(|| store.write_layer("bench", black_box(data)).expect("write"));
        });
    }
    group.finish();
}

fn layer_read(c: &mut Criterion) {
    let (_dir, store) = store();
    let mut group = c.benchmark_group("layer_read");
    for (label, size) in SIZES {
        store
            .write_layer(label.to_ascii_lowercase().as_str(), &vec![0x5Au8; size])
            .expect("seed layer");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            let name = label.to_ascii_lowercase();
            b.iter(|| {
                let bytes = store
                    .read_layer(black_box(&name))
                    .expect("read")
                    .expect("exists");
                // Touch every page so the mapping is actually read.
                black_box(bytes.iter().step_by(4096).fold(0u8, |a, b| a ^ b))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, layer_write, layer_read);
criterion_main!(benches);
