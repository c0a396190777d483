//! What a SealedSecret anywhere under `base/`, `environments/` or `argocd/` must not be, beside
//! what `sealed.rs` checks of an environment's own `secrets/`:
//!
//! - carry plain text in its template's annotations: the controller copies
//!   `spec.template.metadata` onto the Secret it makes, so those annotations are in git in the
//!   clear; `kubectl.kubernetes.io/last-applied-configuration` there holds the whole Secret as it
//!   was applied, values included (#23). Reported as a plain secret. The scope annotations
//!   (`sealedsecrets.bitnami.com/...`), which sealing writes there itself, are not.
//! - be larger than Kubernetes accepts (#23): the API server refuses a request body larger than
//!   etcd takes (etcd's default `--max-request-bytes` is 1.5 MiB, [`MAX_OBJECT_BYTES`]), and a
//!   Secret whose data adds up to more than 1 MiB ([`MAX_SECRET_DATA_BYTES`], Kubernetes'
//!   `MaxSecretSize`, checked over the sum of the values' lengths). A SealedSecret's plaintext
//!   length is known without the key: each value is base64 of `u16 RSA block length ‖ RSA block
//!   ‖ AES-GCM ciphertext ‖ 16-byte tag`, and GCM's ciphertext is as long as the plaintext.

use base64::Engine;
use serde_json::Value;

use super::finding::Finding;

/// The largest object etcd stores by default (its `--max-request-bytes`, 1.5 MiB).
pub const MAX_OBJECT_BYTES: u64 = 1_572_864;
/// The largest a Secret's data may add up to (Kubernetes `MaxSecretSize`, 1 MiB).
pub const MAX_SECRET_DATA_BYTES: u64 = 1_048_576;
const GCM_TAG_BYTES: usize = 16;
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The findings of one parsed document of `relative`.
pub fn check(relative: &str, document: &Value) -> Vec<Finding> {
    if document["kind"] != "SealedSecret" {
        return Vec::new();
    }
    let name = document["metadata"]["name"].as_str().unwrap_or("");
    let mut findings = Vec::new();
    let annotations = document["spec"]["template"]["metadata"]["annotations"].as_object();
    for (key, _) in annotations.into_iter().flatten() {
        if key.starts_with("sealedsecrets.bitnami.com/") {
            continue;
        }
        let what = if key == LAST_APPLIED {
            "which holds the whole Secret as it was applied, values included".to_string()
        } else {
            "which the controller copies onto the Secret".to_string()
        };
        findings.push(
            Finding::error(
                "plain-secret",
                relative,
                format!(
                    "SealedSecret `{name}` has the annotation `{key}` in plain text in its template, {what}"
                ),
            )
            .hint(format!(
                "remove `spec.template.metadata.annotations.{key}` (and rotate the values if it held them: they are in git history)"
            )),
        );
    }
    findings.extend(size(relative, name, document));
    findings
}

fn size(relative: &str, name: &str, document: &Value) -> Option<Finding> {
    let object = serde_json::to_vec(document).map_or(0, |bytes| bytes.len() as u64);
    let data: u64 = document["spec"]["encryptedData"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, value)| plaintext_length(value.as_str()?))
        .sum();
    let (what, limit, measured) = if object > MAX_OBJECT_BYTES {
        (
            "the API server refuses objects over 1.5 MiB",
            MAX_OBJECT_BYTES,
            object,
        )
    } else if data > MAX_SECRET_DATA_BYTES {
        (
            "Kubernetes refuses a Secret whose data is over 1 MiB",
            MAX_SECRET_DATA_BYTES,
            data,
        )
    } else {
        return None;
    };
    Some(too_large(relative, name, what, limit, measured))
}

fn too_large(relative: &str, name: &str, what: &str, limit: u64, measured: u64) -> Finding {
    let subject = if name.is_empty() {
        "the object".to_string()
    } else {
        format!("SealedSecret `{name}`")
    };
    Finding::error(
        "sealed-secret-too-large",
        relative,
        format!("{subject} is {measured} bytes: {what} ({limit} bytes), so Argo CD cannot apply it"),
    )
    .hint("split the values into several secrets, or keep large files out of Secrets (a volume, an object store)")
}

/// A file too large to be read at all: reported by its size.
pub fn unread(relative: &str, bytes: u64) -> Option<Finding> {
    (bytes > MAX_OBJECT_BYTES).then(|| {
        too_large(
            relative,
            "",
            "the API server refuses objects over 1.5 MiB",
            MAX_OBJECT_BYTES,
            bytes,
        )
    })
}

/// The length of the plaintext sealed in `value`, from its frame; `None` when it is not one.
fn plaintext_length(value: &str) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let block = usize::from(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]));
    let rest = bytes.len().checked_sub(2 + block + GCM_TAG_BYTES)?;
    Some(rest as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(plaintext: usize) -> String {
        let mut bytes = vec![1u8, 0]; // a 256-byte RSA block
        bytes.extend(vec![7u8; 256 + plaintext + GCM_TAG_BYTES]);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn plaintext_length_is_read_from_the_frame() {
        assert_eq!(plaintext_length(&frame(0)), Some(0));
        assert_eq!(plaintext_length(&frame(1000)), Some(1000));
        assert_eq!(plaintext_length("AAAA"), None);
        assert_eq!(plaintext_length("not base64!"), None);
    }

    #[test]
    fn data_over_a_mebibyte_and_objects_over_the_request_limit() {
        let sealed = |values: Vec<String>| {
            let data: serde_json::Map<String, Value> = values
                .into_iter()
                .enumerate()
                .map(|(index, value)| (format!("k{index}"), json!(value)))
                .collect();
            json!({"kind": "SealedSecret", "metadata": {"name": "big"},
                "spec": {"encryptedData": data}})
        };
        let half = MAX_SECRET_DATA_BYTES as usize / 2;
        assert!(check("x.yaml", &sealed(vec![frame(half), frame(half)])).is_empty());
        let over = check("x.yaml", &sealed(vec![frame(half), frame(half + 1)]));
        assert_eq!(over.len(), 1);
        assert!(
            over[0].message.contains("1048577 bytes"),
            "{}",
            over[0].message
        );
        assert!(over[0].message.contains("1048576"), "{}", over[0].message);
        let huge = check("x.yaml", &sealed(vec![frame(half); 3]));
        assert!(huge[0].message.contains("1.5 MiB"), "{}", huge[0].message);
    }

    #[test]
    fn template_annotations_are_plain_text_but_the_scope_is_not() {
        let object = json!({"kind": "SealedSecret", "metadata": {"name": "db"},
            "spec": {"encryptedData": {}, "template": {"metadata": {"annotations": {
                "sealedsecrets.bitnami.com/namespace-wide": "true",
                LAST_APPLIED: "{\"stringData\":{\"url\":\"postgres://u:p@h\"}}"}}}}});
        let findings = check("environments/prod/secrets/db.yaml", &object);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, "plain-secret");
        assert!(findings[0].message.contains(LAST_APPLIED));
        assert!(
            !findings[0].message.contains("postgres://"),
            "the value is not printed"
        );
    }
}
