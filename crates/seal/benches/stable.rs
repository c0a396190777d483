//! Stable re-seal against its baselines, in one run (#26): an unchanged re-seal of 10 000
//! values (every MAC matches, so no value is encrypted) next to a fresh seal of the same values
//! and next to the bare MAC computation of all of them, which is the floor of a re-seal that
//! must look at every value. One changed value among them is shown too (one encryption more).
//! Prints seconds and ratios; no thresholds. Run with
//! `cargo bench -p dbos-gitops-seal --bench stable`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dbos_gitops_seal::{
    seal_stable, KeyOutcome, MacKey, SealOptions, SealedSecret, SealingCert, SecretInput,
};
use zeroize::Zeroizing;

const CERT: &[u8] = include_bytes!("../../../tests/fixtures/sealed-secrets-go/go-cert.pem");
const VALUES: usize = 10_000;

fn input(changed: Option<usize>) -> SecretInput {
    let mut data = BTreeMap::new();
    for index in 0..VALUES {
        let value = if changed == Some(index) {
            "postgresql://role:rotated@db:5432/dbos".to_string()
        } else {
            format!("postgresql://role:secret-{index}@db:5432/dbos")
        };
        data.insert(
            format!("key-{index:05}"),
            Zeroizing::new(value.into_bytes()),
        );
    }
    SecretInput {
        name: "conductor-db".into(),
        namespace: Some("dbos".into()),
        data,
        ..Default::default()
    }
}

/// Seals `input` over `existing`, as `seal --env` does: stable seal, merge, MAC annotations.
fn seal(
    cert: &SealingCert,
    key: &MacKey,
    input: &SecretInput,
    existing: Option<&SealedSecret>,
) -> (SealedSecret, usize) {
    let (fresh, stabilized) = seal_stable(
        &mut rand::rngs::OsRng,
        cert,
        input,
        &SealOptions::default(),
        existing,
        Some(key),
    )
    .expect("seal");
    let mut merged = match existing {
        Some(existing) => {
            let mut merged = existing.clone();
            merged.merge(fresh).expect("merge");
            merged
        }
        None => fresh,
    };
    stabilized.annotate(&mut merged);
    let encrypted = stabilized.keys(KeyOutcome::Added).len()
        + stabilized.keys(KeyOutcome::Changed).len()
        + stabilized.keys(KeyOutcome::Resealed).len();
    (merged, encrypted)
}

/// The floor: one MAC per value, nothing else.
fn bare_macs(cert: &SealingCert, key: &MacKey, input: &SecretInput) -> Duration {
    let label = b"dbos/conductor-db";
    let fingerprint = cert.fingerprint();
    let start = Instant::now();
    for (name, value) in &input.data {
        std::hint::black_box(key.value_mac(
            &fingerprint,
            dbos_gitops_seal::Scope::Strict,
            label,
            name,
            value,
        ));
    }
    start.elapsed()
}

fn timed<T>(run: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let result = run();
    (result, start.elapsed())
}

fn main() {
    let cert = SealingCert::from_pem(CERT).expect("fixture certificate");
    let key = MacKey::generate(&mut rand::rngs::OsRng);
    let same = input(None);
    let one_changed = input(Some(VALUES / 2));
    let mut fresh_best = Duration::MAX;
    let mut unchanged_best = Duration::MAX;
    let mut changed_best = Duration::MAX;
    let mut macs_best = Duration::MAX;
    for _ in 0..3 {
        let ((stored, encrypted), fresh) = timed(|| seal(&cert, &key, &same, None));
        assert_eq!(encrypted, VALUES);
        let ((again, encrypted), unchanged) = timed(|| seal(&cert, &key, &same, Some(&stored)));
        assert_eq!(encrypted, 0, "an unchanged re-seal encrypted values");
        assert_eq!(again, stored, "an unchanged re-seal changed the object");
        let ((_, encrypted), changed) = timed(|| seal(&cert, &key, &one_changed, Some(&stored)));
        assert_eq!(encrypted, 1);
        fresh_best = fresh_best.min(fresh);
        unchanged_best = unchanged_best.min(unchanged);
        changed_best = changed_best.min(changed);
        macs_best = macs_best.min(bare_macs(&cert, &key, &same));
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "stable re-seal of {VALUES} values, {}-bit key (best of 3; ratios are time / time)",
        cert.key_bits()
    );
    println!(
        "{:>22}  {:>10}  {:>12}  {:>12}",
        "", "seconds", "/ fresh seal", "/ bare MACs"
    );
    for (name, elapsed) in [
        ("fresh seal", fresh_best),
        ("unchanged re-seal", unchanged_best),
        ("one value changed", changed_best),
        ("bare MACs", macs_best),
    ] {
        println!(
            "{name:>22}  {:>10.4}  {:>12.3}  {:>12.2}",
            elapsed.as_secs_f64(),
            ratio(elapsed, fresh_best),
            ratio(elapsed, macs_best),
        );
    }
}
