//! No credentials in the Git URL Argo CD pulls from (#23): `repo-url` in `dbos-gitops.yaml`
//! and every `repoURL`/`sourceRepos` entry under `argocd/` are committed, so a token pasted into
//! them (`https://oauth2:ghp_...@github.com/...`, what `git remote get-url origin` gives after a
//! credential-embedding clone) is published. A URL's userinfo is the part of its authority
//! before `@` (RFC 3986 §3.2.1); a plain user name of an SSH URL (`ssh://git@host/...`,
//! `git@host:org/repo`) is not a credential, a password or an HTTP(S) user is. The finding
//! never prints the credential.

use super::finding::Finding;

/// The URL's authority with its userinfo masked, when that userinfo is a credential.
pub fn credential(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (userinfo, host) = authority.rsplit_once('@')?;
    let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    if !(http || userinfo.contains(':')) {
        return None;
    }
    Some(format!("{scheme}://***@{host}{}", &rest[authority_end..]))
}

/// Findings for `dbos-gitops.yaml`'s `repo-url` and the URLs of the Argo CD manifests.
pub fn check(tree: &crate::workspace::Tree, repo_url: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(masked) = credential(repo_url) {
        findings.push(finding(crate::layout::REPO_FILE, "repo-url", &masked));
    }
    for relative in argocd_files(tree) {
        let Some(text) = tree
            .read_listed(&relative)
            .ok()
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok())
        else {
            continue;
        };
        let Ok(documents) = crate::yaml::parse_documents(std::path::Path::new(&relative), &text)
        else {
            continue; // the render check reports what kustomize makes of it
        };
        let mut seen = Vec::new();
        for document in &documents {
            urls(document, &mut seen);
        }
        seen.sort();
        seen.dedup();
        for masked in seen {
            findings.push(finding(&relative, "repoURL", &masked));
        }
    }
    findings
}

fn finding(file: &str, field: &str, masked: &str) -> Finding {
    Finding::error(
        "repo-url-credentials",
        file,
        format!("`{field}` holds credentials ({masked}): anyone with the repository can use them"),
    )
    .hint(
        "remove the `user:token@` part (Argo CD takes repository credentials from a Secret it manages), \
         run `dbos-gitops build`, and revoke the token: it is in git history",
    )
}

/// Every credential URL in `repoURL` or `sourceRepos` of `value`, masked.
fn urls(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let candidates: Vec<&str> = match (key.as_str(), inner) {
                    ("repoURL", serde_json::Value::String(url)) => vec![url],
                    ("sourceRepos", serde_json::Value::Array(items)) => {
                        items.iter().filter_map(serde_json::Value::as_str).collect()
                    }
                    _ => Vec::new(),
                };
                out.extend(candidates.into_iter().filter_map(credential));
                urls(inner, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| urls(item, out)),
        _ => {}
    }
}

fn argocd_files(tree: &crate::workspace::Tree) -> Vec<String> {
    let mut files: Vec<String> =
        super::inputs::dir_files(tree, "argocd", &super::inputs::KnownFiles::default())
            .into_iter()
            .map(|(path, _)| format!("argocd/{path}"))
            .filter(|path| path.ends_with(".yaml") || path.ends_with(".yml"))
            .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found_and_masked() {
        assert_eq!(
            credential("https://oauth2:ghp_secret@github.com/acme/x.git").as_deref(),
            Some("https://***@github.com/acme/x.git")
        );
        assert_eq!(
            credential("https://ghp_secret@github.com/acme/x.git").as_deref(),
            Some("https://***@github.com/acme/x.git")
        );
        assert!(credential("ssh://git:pw@host/x").is_some());
        assert_eq!(credential("ssh://git@github.com/acme/x.git"), None);
        assert_eq!(credential("git@github.com:acme/x.git"), None);
        assert_eq!(credential("https://github.com/acme/x.git"), None);
        assert_eq!(
            credential("https://github.com/acme/x@v1"),
            None,
            "@ in the path"
        );
    }
}
