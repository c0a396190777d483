//! The static kustomize base, embedded from the repository's top-level `base/` so that the
//! binary writes exactly what this repository reviews and tests.

pub const BASE_FILES: &[(&str, &str)] = &[
    (
        "kustomization.yaml",
        include_str!("../../base/kustomization.yaml"),
    ),
    ("conductor.yaml", include_str!("../../base/conductor.yaml")),
    ("console.yaml", include_str!("../../base/console.yaml")),
    (
        "app-service.yaml",
        include_str!("../../base/app-service.yaml"),
    ),
    (
        "migrate-job.yaml",
        include_str!("../../base/migrate-job.yaml"),
    ),
    (
        "network-policies.yaml",
        include_str!("../../base/network-policies.yaml"),
    ),
    (
        "app-version/kustomization.yaml",
        include_str!("../../base/app-version/kustomization.yaml"),
    ),
    (
        "app-version/deployment.yaml",
        include_str!("../../base/app-version/deployment.yaml"),
    ),
    (
        "components/ha/kustomization.yaml",
        include_str!("../../base/components/ha/kustomization.yaml"),
    ),
    (
        "components/ha/conductor-pdb.yaml",
        include_str!("../../base/components/ha/conductor-pdb.yaml"),
    ),
    (
        "components/ha/conductor-ha.yaml",
        include_str!("../../base/components/ha/conductor-ha.yaml"),
    ),
    (
        "components/ha/conductor-peers.yaml",
        include_str!("../../base/components/ha/conductor-peers.yaml"),
    ),
    (
        "components/cert-manager/kustomization.yaml",
        include_str!("../../base/components/cert-manager/kustomization.yaml"),
    ),
    (
        "components/cert-manager/http01-solver-policy.yaml",
        include_str!("../../base/components/cert-manager/http01-solver-policy.yaml"),
    ),
    (
        "components/database-bootstrap/kustomization.yaml",
        include_str!("../../base/components/database-bootstrap/kustomization.yaml"),
    ),
    (
        "components/database-bootstrap/bootstrap-job.yaml",
        include_str!("../../base/components/database-bootstrap/bootstrap-job.yaml"),
    ),
    (
        "components/database-bootstrap/bootstrap.sql",
        include_str!("../../base/components/database-bootstrap/bootstrap.sql"),
    ),
    (
        "components/dex/kustomization.yaml",
        include_str!("../../base/components/dex/kustomization.yaml"),
    ),
    (
        "components/dex/dex.yaml",
        include_str!("../../base/components/dex/dex.yaml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_base_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("base");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path.strip_prefix(&root).unwrap();
                    on_disk.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = BASE_FILES
            .iter()
            .map(|(path, _)| path.to_string())
            .collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }
}
