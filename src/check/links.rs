//! Symbolic links that lead out of the repository (`path-leaves-repository`). Every other
//! command refuses to run with one (`repo::confine`), and Argo CD's checkout would not hold what
//! it points at; `check` names each of them instead, and runs nothing else (the other checks
//! would read through them).

use super::finding::Finding;
use crate::error::Error;
use crate::workspace::Tree;

/// Every link out of the repository in the tree dbos-gitops owns, as findings.
pub fn check(tree: &Tree) -> Result<Vec<Finding>, Error> {
    let mut findings = Vec::new();
    for escape in tree.links_out()? {
        let link = tree
            .read_link(&escape.link)
            .map(|target| target.display().to_string())
            .unwrap_or_default();
        findings.push(
            Finding::error(
                "path-leaves-repository",
                &escape.link,
                format!(
                    "a symbolic link to `{link}`, which leads out of the repository (to `{}`): dbos-gitops reads and writes nothing through it, and Argo CD's checkout would not hold it",
                    escape.target.display()
                ),
            )
            .hint("replace the link with the directory or file itself (a link to a place inside the repository is fine)"),
        );
    }
    Ok(findings)
}

/// The findings when a link leads out, with a note that the other checks did not run;
/// `None` when there is none.
pub fn refused(tree: &Tree) -> Result<Option<Vec<Finding>>, Error> {
    let mut findings = check(tree)?;
    if findings.is_empty() {
        return Ok(None);
    }
    findings.push(
        Finding::skipped(
            "checks-skipped",
            "",
            "the other checks did not run: they would read through a link out of the repository",
        )
        .hint("replace the links named above, then run `dbos-gitops check` again"),
    );
    Ok(Some(findings))
}
