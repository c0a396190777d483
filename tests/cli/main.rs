//! One integration test binary: each test runs the real `dbos-gitops` binary in a temporary
//! directory and checks what it printed, its exit code, and the files it wrote, rendered by the
//! real `kubectl kustomize` where that matters.

mod support;

mod build;
mod check;
mod example;
mod help;
mod render;
mod retire;
mod seal;
mod versions;

// Minted secrets (#4).
mod dex;
mod tls;
mod upstream;
