//! PEM input: the sealing certificate (`--cert`, sealing-cert.pem), private keys (`unseal
//! --key`, the development key) and the TLS certificate `tls` inspects.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dbos_gitops_seal::SealingCert::from_pem_at(data, 1_800_000_000);
    let _ = dbos_gitops_seal::PrivateKeys::from_pem(data);
    let _ = dbos_gitops_generate::tls::inspect(data);
});
