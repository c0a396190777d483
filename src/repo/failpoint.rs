//! A crash on demand, for the crash-consistency tests: `DBOS_GITOPS_FAILPOINT=rename:N` aborts the
//! process (`std::process::abort`, no destructor runs, like `kill -9`) just before the Nth
//! rename or removal a writing command makes; `stage:N` just before the Nth staged file is
//! written. Unset, it costs one environment lookup per command. A test switch
//! (`env_vars::Audience::Test`): a release build without the `test-hooks` feature ignores it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A staged file is about to be written.
    Stage,
    /// A rename into place or a removal is about to happen.
    Rename,
}

static TARGET: OnceLock<Option<(Step, usize)>> = OnceLock::new();
static COUNTS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

fn target() -> Option<(Step, usize)> {
    *TARGET.get_or_init(|| {
        let text = crate::env_vars::get(crate::env_vars::FAILPOINT)?;
        let (kind, count) = text.split_once(':')?;
        let step = match kind {
            "stage" => Step::Stage,
            "rename" => Step::Rename,
            _ => return None,
        };
        Some((step, count.parse().ok()?))
    })
}

/// Counts one step of `kind`; aborts the process when it is the one the failpoint names.
pub fn step(kind: Step) {
    let Some((step, at)) = target() else {
        return;
    };
    let index = match kind {
        Step::Stage => 0,
        Step::Rename => 1,
    };
    let count = COUNTS[index].fetch_add(1, Ordering::SeqCst) + 1;
    if step == kind && count == at {
        std::process::abort();
    }
}
