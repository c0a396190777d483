//! Sealing throughput against its physical floor: values sealed per second for 1, 100 and
//! 10 000 values (one Secret with that many keys, through `seal_secret`, the path `seal` takes),
//! next to the bare RSA-OAEP public-key operation measured in the same run: the floor is the
//! implementation sealing uses (`SealingKey::oaep_encrypt`: our EME-OAEP with an operating-system
//! seed around AWS-LC's raw public-key operation). Beside it: aws-lc-rs's own RSA-OAEP, which
//! sealing used until it stopped drawing random bytes from AWS-LC (`ours/aws-lc-rs` is the cost
//! of that change), and the pure-Rust `rsa` crate's OAEP, used before that. Prints ratios; no
//! thresholds. Run with `cargo bench -p dbos-gitops-seal --bench seal`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dbos_gitops_seal::{seal_secret, SealOptions, SealingCert, SealingKey, SecretInput};
use rsa::{Oaep, RsaPublicKey};
use zeroize::Zeroizing;

const CERT: &[u8] = include_bytes!("../../../tests/fixtures/sealed-secrets-go/go-cert.pem");

/// The floor: the RSA-OAEP operation sealing performs, with nothing around it.
fn bare_oaep(key: &SealingKey, count: usize) -> Duration {
    let mut rng = rand::rngs::OsRng;
    let session_key = [7u8; 32];
    let mut block = vec![0u8; key.block_bytes()];
    let start = Instant::now();
    for _ in 0..count {
        key.oaep_encrypt(&mut rng, &session_key, b"dbos/conductor-db", &mut block);
        std::hint::black_box(&block);
    }
    start.elapsed()
}

/// The same operation with aws-lc-rs's RSA-OAEP (padding and seed inside AWS-LC).
fn aws_lc_rs_oaep(spki: &[u8], count: usize) -> Duration {
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey, OAEP_SHA256_MGF1SHA256};
    let key = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki).expect("spki"))
        .expect("oaep key");
    let session_key = [7u8; 32];
    let mut block = vec![0u8; key.ciphertext_size()];
    let start = Instant::now();
    for _ in 0..count {
        let label = Some(&b"dbos/conductor-db"[..]);
        std::hint::black_box(
            key.encrypt(&OAEP_SHA256_MGF1SHA256, &session_key, &mut block, label)
                .expect("encrypt"),
        );
    }
    start.elapsed()
}

/// The same operation with the pure-Rust `rsa` crate (what sealing used before AWS-LC).
fn rsa_crate_oaep(key: &RsaPublicKey, count: usize) -> Duration {
    let mut rng = rand::rngs::OsRng;
    let session_key = [7u8; 32];
    let start = Instant::now();
    for _ in 0..count {
        let padding = Oaep::new_with_label::<sha2::Sha256, _>("dbos/conductor-db");
        std::hint::black_box(
            key.encrypt(&mut rng, padding, &session_key)
                .expect("encrypt"),
        );
    }
    start.elapsed()
}

fn sealing(cert: &SealingCert, count: usize) -> Duration {
    let mut data = BTreeMap::new();
    for index in 0..count {
        data.insert(
            format!("key-{index:05}"),
            Zeroizing::new(format!("postgresql://role:secret-{index}@db:5432/dbos").into_bytes()),
        );
    }
    let input = SecretInput {
        name: "conductor-db".into(),
        namespace: Some("dbos".into()),
        data,
        ..Default::default()
    };
    let mut rng = rand::rngs::OsRng;
    let start = Instant::now();
    std::hint::black_box(
        seal_secret(&mut rng, cert, &input, &SealOptions::default()).expect("seal"),
    );
    start.elapsed()
}

/// The same work in Python's `cryptography` (bench/seal_python.py), if python3 has it.
fn python(count: usize) -> Option<Duration> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = std::process::Command::new("python3")
        .arg(format!("{root}/bench/seal_python.py"))
        .arg(format!(
            "{root}/tests/fixtures/sealed-secrets-go/go-cert.pem"
        ))
        .arg(count.to_string())
        .output()
        .ok()?;
    let seconds: f64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .ok()?;
    output
        .status
        .success()
        .then(|| Duration::from_secs_f64(seconds))
}

/// Best of `rounds` (the floor is the least disturbed run).
fn best(rounds: usize, mut run: impl FnMut() -> Duration) -> Duration {
    (0..rounds).map(|_| run()).min().expect("rounds > 0")
}

fn main() {
    let cert = SealingCert::from_pem(CERT).expect("fixture certificate");
    println!(
        "sealing with a {}-bit RSA key (values per second; oaep = bare RSA-OAEP as sealing does it; \
         aws-lc-rs = aws-lc-rs's RSA-OAEP, what sealing used before; rsa-crate = the pure-Rust \
         `rsa` crate's OAEP; seal/oaep = sealing time / oaep time; ours/aws-lc-rs = oaep time / \
         aws-lc-rs time)",
        cert.key_bits()
    );
    println!(
        "{:>8}  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}  {:>10}  {:>15}  {:>14}",
        "values",
        "seal/s",
        "oaep/s",
        "aws-lc-rs/s",
        "rsa-crate/s",
        "python/s",
        "seal/oaep",
        "ours/aws-lc-rs",
        "python/seal"
    );
    let spki = {
        use rsa::pkcs8::EncodePublicKey;
        cert.public_key().to_public_key_der().expect("spki")
    };
    for (count, rounds) in [(1usize, 200usize), (100, 5), (10_000, 1)] {
        let floor = best(rounds, || bare_oaep(cert.sealing_key(), count));
        let before = best(rounds, || aws_lc_rs_oaep(spki.as_bytes(), count));
        let old = best(rounds, || rsa_crate_oaep(cert.public_key(), count));
        let ours = best(rounds, || sealing(&cert, count));
        let rate = |elapsed: Duration| count as f64 / elapsed.as_secs_f64();
        let python = python(count);
        println!(
            "{count:>8}  {:>12.0}  {:>12.0}  {:>12.0}  {:>12.0}  {:>12}  {:>10.3}  {:>15.3}  {:>14}",
            rate(ours),
            rate(floor),
            rate(before),
            rate(old),
            python.map_or("n/a".into(), |elapsed| format!("{:.0}", rate(elapsed))),
            ours.as_secs_f64() / floor.as_secs_f64(),
            floor.as_secs_f64() / before.as_secs_f64(),
            python.map_or("n/a".into(), |elapsed| format!(
                "{:.2}",
                elapsed.as_secs_f64() / ours.as_secs_f64()
            )),
        );
    }
}
