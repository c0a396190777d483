//! `dex` (#4): placeholder
