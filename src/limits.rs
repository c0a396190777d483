//! Input rules the Kubernetes API enforces and we must enforce first (a key the API server
//! would reject is a sync failure found only after a push), and bounds on work a hostile or
//! mistyped input can ask for.

use std::path::Path;

use crate::error::Error;

/// The highest bcrypt cost without `--allow-high-cost`: each step doubles the time (14 is about
/// a second; 31 runs for days).
pub const MAX_BCRYPT_COST: u32 = 14;

pub fn check_bcrypt_cost(cost: u32, allow_high: bool) -> Result<(), Error> {
    if cost > MAX_BCRYPT_COST && !allow_high {
        return Err(Error::input(format!(
            "bcrypt cost `{cost}` is above {MAX_BCRYPT_COST}: each step doubles the time to hash (and for Dex to check every login)"
        ))
        .hint("leave out `--cost` for 10, or pass `--allow-high-cost` if you mean it"));
    }
    Ok(())
}

/// How deeply any YAML or JSON document we parse may nest (mappings, sequences, flow brackets):
/// our own documents need fewer than 12 levels. The YAML parser's time grows with the square of
/// the depth (a 200 KB `[[[...` took 30 s), so deeper input is refused before it is parsed.
pub const MAX_YAML_DEPTH: usize = 64;

/// The largest declaration we read: env.yaml, dbos-gitops.yaml, versions.yaml, dex-users.yaml
/// (the largest real one is a few KB).
pub const MAX_DECLARATION_BYTES: usize = 1 << 20;

/// The largest manifest stream we read: Secret and SealedSecret manifests given to `seal`,
/// `secrets`, `unseal`, the sealed files of the repository and rendered kustomize output.
pub const MAX_MANIFEST_BYTES: usize = 16 << 20;

/// The largest private-key file `unseal --key` and `reseal --key` read: a PEM key, or the
/// controller's key backup (`kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key
/// -o yaml`), about 8 KB per key: 4 MiB holds some 500 keys, forty years of 30-day renewals.
pub const MAX_KEY_FILE_BYTES: usize = 4 << 20;

/// The largest certificate file we read (`--cert`, `init env --cert`, `reseal --cert`, an
/// environment's `sealing-cert.pem`): one PEM certificate of an 8192-bit key is under 3 KB.
pub const MAX_CERT_BYTES: usize = 64 << 10;

/// The largest value-MAC key file (`--mac-key-file`, `DBOS_GITOPS_SEAL_MAC_KEY_FILE`, the
/// per-user default): base64 of 32 random bytes is 45 bytes.
pub const MAX_MAC_KEY_FILE_BYTES: usize = 4 << 10;

/// The most data a Secret may hold: the sum of the decoded `data` values, which kube-apiserver
/// refuses above `MaxSecretSize` (1 MiB, `pkg/apis/core/types.go`, checked by `ValidateSecret`
/// in `pkg/apis/core/validation/validation.go`; `stringData` is folded into `data` first).
/// The controller creates the Secret from a SealedSecret, so a larger one never becomes a
/// Secret: it fails in the cluster, after the push.
pub const MAX_SECRET_DATA_BYTES: usize = 1 << 20;

/// The largest object we write for the cluster: etcd refuses a request over 1.5 MiB by default
/// (`--max-request-bytes`, etcd's "System limits"), and a custom resource is stored as its
/// JSON. Measured as compact JSON, which is what the API server stores.
pub const MAX_OBJECT_BYTES: usize = 1_572_864;

/// The most bytes of metadata annotations (keys and values) one object may carry: the API
/// server's `TotalAnnotationSizeLimitB` (256 KiB, apimachinery `ValidateAnnotations`). The
/// value MACs of stable re-seal are one annotation, about 60 bytes per key.
pub const MAX_ANNOTATION_BYTES: usize = 256 << 10;

/// A size in bytes with its binary unit, for messages: `1048576 bytes (1 MiB)`.
pub fn shown_bytes(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!(
            "{bytes} bytes ({:.1} MiB)",
            bytes as f64 / f64::from(1 << 20)
        )
    } else if bytes >= 1 << 10 {
        format!(
            "{bytes} bytes ({:.1} KiB)",
            bytes as f64 / f64::from(1 << 10)
        )
    } else {
        format!("{bytes} bytes")
    }
}

/// The error for an input larger than its bound: names the input, the limit and what it is.
pub fn input_too_large(shown: &str, limit: usize, what: &str) -> Error {
    Error::input_in(
        shown,
        format!(
            "more than the limit of {} for {what}; nothing was read past it",
            shown_bytes(limit)
        ),
    )
}

/// Refuses a SealedSecret that Kubernetes would refuse once it reaches the cluster: a Secret of
/// more than [`MAX_SECRET_DATA_BYTES`] of data, an object over [`MAX_OBJECT_BYTES`], or
/// annotations over [`MAX_ANNOTATION_BYTES`] (on the SealedSecret or on the Secret the
/// controller makes from its template). `shown` names the file or stream it is for.
pub fn check_sealed_size(
    shown: &str,
    sealed: &dbos_gitops_seal::SealedSecret,
) -> Result<(), Error> {
    let refused = |what: String, size: usize, limit: usize, who: &str| {
        Error::input(format!(
            "{shown}: {what} would be {}, over the {} {who} accepts; nothing was written",
            shown_bytes(size),
            shown_bytes(limit)
        ))
    };
    let data = sealed.secret_data_bytes();
    if data > MAX_SECRET_DATA_BYTES {
        return Err(refused(
            format!("the data of Secret `{}`", sealed.name),
            data,
            MAX_SECRET_DATA_BYTES,
            "the Kubernetes API server (MaxSecretSize)",
        )
        .hint("split the values over several secrets, or keep large files out of Secrets (mount them from a volume or an image)"));
    }
    let object = serde_json::to_vec(&sealed.to_value()).map_or(0, |json| json.len());
    if object > MAX_OBJECT_BYTES {
        return Err(refused(
            format!("the SealedSecret `{}`", sealed.name),
            object,
            MAX_OBJECT_BYTES,
            "etcd (its default --max-request-bytes)",
        )
        .hint(format!(
            "every sealed value adds an RSA block of {} bytes and a third for base64: split the values over several secrets",
            sealed_block_hint(sealed)
        )));
    }
    for (annotations, whose) in [
        (&sealed.annotations, "the SealedSecret's annotations"),
        (
            &sealed.template.annotations,
            "the Secret's annotations (from `spec.template`)",
        ),
    ] {
        let size: usize = annotations
            .iter()
            .map(|(key, value)| key.len() + value.len())
            .sum();
        if size > MAX_ANNOTATION_BYTES {
            return Err(refused(
                whose.to_string(),
                size,
                MAX_ANNOTATION_BYTES,
                "the Kubernetes API server (TotalAnnotationSizeLimitB)",
            )
            .hint("split the values over several secrets (the value MACs take about 60 bytes per key)"));
        }
    }
    Ok(())
}

/// The RSA block size of the first sealed value, for the hint (512 for a 4096-bit key).
fn sealed_block_hint(sealed: &dbos_gitops_seal::SealedSecret) -> usize {
    sealed
        .encrypted_data
        .values()
        .find_map(|value| dbos_gitops_seal::sealed_value_lengths(value))
        .map_or(512, |(block, _)| block)
}

/// All of stdin, refused past `limit` bytes (checked while reading: at most `limit + 1` bytes
/// are ever read, however much is sent).
pub fn read_stdin_bounded(limit: usize, what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    read_zeroizing(&mut std::io::stdin().lock(), 0, "stdin", limit, what)
        .map_err(|source| source.unwrap_or_else(|source| Error::io("stdin", "read", source)))
}

/// A whole file, refused past `limit` bytes (checked while reading, so `/dev/zero`, a FIFO or
/// a file that grows is refused as quickly as a large file). `what` says what the file is for
/// the message; the buffer is zeroized when dropped, so it may hold a key.
pub fn read_bounded(
    path: &Path,
    limit: usize,
    what: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let mut opened = std::fs::File::open(path).map_err(|source| Error::io(path, "read", source))?;
    let size = opened
        .metadata()
        .map(|meta| meta.len() as usize)
        .unwrap_or(0);
    read_zeroizing(&mut opened, size, &path.display().to_string(), limit, what)
        .map_err(|source| source.unwrap_or_else(|source| Error::io(path, "read", source)))
}

/// [`read_bounded`] of a file that may be missing (`None`).
pub fn read_bounded_optional(
    path: &Path,
    limit: usize,
    what: &str,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
    match std::fs::symlink_metadata(path) {
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        _ => read_bounded(path, limit, what).map(Some),
    }
}

type ReadError = Result<Error, std::io::Error>;

fn read_zeroizing(
    reader: &mut dyn std::io::Read,
    size_hint: usize,
    shown: &str,
    limit: usize,
    what: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ReadError> {
    // One byte past the limit tells "exactly the limit" from "more".
    let mut reader = std::io::Read::take(reader, limit as u64 + 1);
    let mut buffer = zeroize::Zeroizing::new(Vec::with_capacity(size_hint.min(limit) + 1));
    let mut chunk = zeroize::Zeroizing::new([0u8; 8192]);
    loop {
        let read = match std::io::Read::read(&mut reader, chunk.as_mut()) {
            Ok(0) => return Ok(buffer),
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(Err(error)),
        };
        if buffer.len() + read > limit {
            return Err(Ok(input_too_large(shown, limit, what).hint(
                "pass one Secret manifest, key or certificate, not a whole dump",
            )));
        }
        if buffer.len() + read > buffer.capacity() {
            // Grow by hand: copy into a larger zeroizing buffer; the old one is cleared on drop.
            let mut larger = zeroize::Zeroizing::new(Vec::with_capacity(
                (buffer.capacity() * 2).max(buffer.len() + read),
            ));
            larger.extend_from_slice(&buffer);
            buffer = larger;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// A document with aliases may expand to at most this many times its own size (in nodes plus
/// scalar bytes) or [`MIN_ALIAS_EXPANSION_BUDGET`], whichever is larger: refuses "billion laughs"
/// and a large anchor repeated by many aliases before they fill memory.
pub const MAX_ALIAS_EXPANSION_FACTOR: usize = 4;
pub const MIN_ALIAS_EXPANSION_BUDGET: usize = 64 << 10;

/// A key of a Secret's `data`/`stringData`: `[-._a-zA-Z0-9]+`, not `.` or `..`, at most 253
/// characters (the API server's `IsConfigMapKey`).
pub fn check_secret_key(key: &str) -> Result<(), String> {
    let valid = !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "secret key {key:?} is not a valid Kubernetes key: use letters, digits, `-`, `_` and `.` (not `.` or `..` alone), at most 253 characters"
        ))
    }
}

/// A Secret's name, the one rule for it wherever a name arrives (a declaration, `seal`'s input,
/// `secrets set`): a DNS-1123 subdomain as the API server's `IsDNS1123Subdomain` has it, at most
/// 253 characters of dot-separated labels of `[a-z0-9-]`, each starting and ending with a letter
/// or digit (so no empty label: `a..b` and `a.-b` are refused). Checked before the name becomes
/// part of any path.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes
                .iter()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-')
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!(
            "secret name {name:?} is not a valid Kubernetes name: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit, at most 253 characters"
        ))
    }
}

/// Every name and key of parsed Secret inputs, before anything is sealed or written.
pub fn check_secret_inputs(
    source: &str,
    inputs: Vec<dbos_gitops_seal::SecretInput>,
) -> Result<Vec<dbos_gitops_seal::SecretInput>, Error> {
    for (index, input) in inputs.iter().enumerate() {
        let place = format!("{source}, document {} (`{}`)", index + 1, input.name);
        check_secret_name(&input.name)
            .map_err(|message| Error::input(format!("{place}: {message}")))?;
        for key in input.data.keys() {
            check_secret_key(key).map_err(|message| {
                Error::input(format!("{place}: {message}"))
                    .hint("Kubernetes rejects such a key when it applies the Secret: rename it")
            })?;
        }
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_follow_the_api_server() {
        for good in ["database-url", "tls.crt", "a_b", ".dotfile", "A9"] {
            assert!(check_secret_key(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "../x", "a b", "a/b", "é", &"k".repeat(254)] {
            assert!(check_secret_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_names_are_dns_subdomains() {
        assert!(check_secret_name("conductor-db").is_ok());
        assert!(check_secret_name("a.b-c").is_ok());
        for bad in [
            "",
            "../x",
            "A",
            "-a",
            "a-",
            "a_b",
            "a..b",
            "a.-b",
            "a.",
            &"a".repeat(254),
        ] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bcrypt_cost_is_bounded_unless_allowed() {
        assert!(check_bcrypt_cost(14, false).is_ok());
        assert!(check_bcrypt_cost(15, false).is_err());
        assert!(check_bcrypt_cost(15, true).is_ok());
    }

    #[test]
    fn plaintext_is_read_whole_and_bounded() {
        let big: Vec<u8> = (0..100_000u32).map(|index| (index % 251) as u8).collect();
        let limit = MAX_MANIFEST_BYTES;
        let read = read_zeroizing(&mut big.as_slice(), 0, "stdin", limit, "input").unwrap();
        assert_eq!(read.as_slice(), big.as_slice());
        let exact = vec![b'x'; 1000];
        let read = read_zeroizing(&mut exact.as_slice(), 0, "stdin", 1000, "input").unwrap();
        assert_eq!(read.len(), 1000, "exactly the limit is accepted");
        assert!(read_zeroizing(&mut [0u8; 1001].as_slice(), 0, "f", 1000, "input").is_err());
        let mut endless = std::io::repeat(b'x');
        let error = match read_zeroizing(&mut endless, 0, "stdin", limit, "input") {
            Err(Ok(error)) => error.report(),
            _ => panic!("an endless input was accepted"),
        };
        assert!(
            error.contains("stdin") && error.contains("limit of 16777216 bytes"),
            "{error}"
        );
    }
}
