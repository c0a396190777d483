//! `conductor register` (#22).

use crate::cli::ConductorRegisterArgs;
use crate::error::Error;

use super::Context;

pub fn register(_context: &Context, _arguments: ConductorRegisterArgs) -> Result<i32, Error> {
    Err(Error::input("not yet"))
}
