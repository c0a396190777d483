//! The project repository dogfoods itself: environments/example is compiled by the tool, must
//! be current, and must render.

use crate::support::*;

#[test]
fn the_bundled_example_is_current_and_renders() {
    let root = project_root();
    let output = std::process::Command::new(binary())
        .args(["--repo", root.to_str().unwrap(), "build", "--check"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "environments/example is stale; run `cargo run -- build`:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let rendered = std::process::Command::new("kubectl")
        .args(["kustomize", "environments/example"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let objects = parse_yaml_stream(&String::from_utf8_lossy(&rendered.stdout));
    let scaled = find(&objects, "ScaledObject", "dbos-app-v1");
    assert_eq!(
        scaled["spec"]["triggers"][0]["metadata"]["targetValue"],
        "2"
    );
    assert!(find(&objects, "Deployment", "dbos-app-v1")["spec"]
        .get("replicas")
        .is_none());
    for object in &objects {
        let labels = &object["metadata"]["labels"];
        for key in [
            "app.kubernetes.io/name",
            "app.kubernetes.io/part-of",
            "app.kubernetes.io/managed-by",
        ] {
            assert!(
                labels.get(key).is_some(),
                "{key} missing on {}/{}",
                object["kind"],
                object["metadata"]["name"]
            );
        }
    }
    assert_eq!(names_of_kind(&objects, "SealedSecret").len(), 7);
    validate_schemas(&objects);
}
