//! One crypto backend (#25): sealing, TLS to PostgreSQL and Conductor, and the certificates
//! `tls` issues all run on AWS-LC. `ring` still has an entry in Cargo.lock — rustls-webpki's
//! `alloc = ["ring?/alloc"]` is a weak feature, and Cargo's lockfile resolver lists optional
//! dependencies named by weak features even when nothing enables them (rust-lang/cargo#10801,
//! open) — but it is neither compiled nor linked. This checks the binary itself: ring's C and
//! assembly symbols all carry the `ring_core_0_17_` prefix, and the build that still used it
//! (rcgen's `ring` feature) had hundreds of them.

use crate::support::binary;

#[test]
fn the_binary_links_no_ring() {
    let bytes = std::fs::read(binary()).expect("read the dbos-gitops binary");
    let needle = b"ring_core_0_17_";
    let found = bytes
        .windows(needle.len())
        .filter(|window| window == needle)
        .count();
    assert_eq!(found, 0, "the binary carries {found} symbols of ring");
    let aws_lc = b"aws_lc_";
    assert!(
        bytes.windows(aws_lc.len()).any(|window| window == aws_lc),
        "the binary carries no AWS-LC symbols: is the check looking at the right file?"
    );
}
