//! In-process generators for the secret material a DBOS Conductor environment needs.
//!
//! Operators used to produce this material by hand with
//! `openssl req -x509 -newkey ... -addext subjectAltName=...` (a self-signed serving
//! certificate) and `htpasswd -bnBC 10 "" password | tr -d ':'` (a bcrypt hash for a
//! Dex static password). Both commands are easy to get subtly wrong (a missing SAN, a
//! `$2y$` vs `$2a$` worry, a password silently truncated at 72 bytes) and both need
//! tools that are not always installed. This crate does the same work in-process, with
//! the checks built in, so the CLI can generate and validate the material itself.
//!
//! * [`tls`] issues and inspects self-signed serving certificates.
//! * [`password`] creates and checks bcrypt password hashes.

pub mod password;
pub mod tls;
