//! Parses the dev corpus in a loop: `cargo bench -p spendstream-ingest --bench sms`.
//! Throughput is reported in messages per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spendstream_ingest::sms::{SmsRules, parse};
use std::hint::black_box;

const DEV: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sms/dev.jsonl"));

fn corpus() -> Vec<(String, String)> {
    DEV.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            let s = v["sender"].as_str().unwrap_or_default().to_string();
            let t = v["text"].as_str().unwrap_or_default().to_string();
            (s, t)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rules = SmsRules::shipped();
    let msgs = corpus();
    let mut group = c.benchmark_group("sms");
    group.throughput(Throughput::Elements(msgs.len() as u64));
    group.bench_function("parse_dev_corpus", |b| {
        b.iter(|| {
            for (sender, text) in &msgs {
                let _ = black_box(parse(rules, black_box(sender), black_box(text)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
