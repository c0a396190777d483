pub fn run<I: IntoIterator<Item = std::ffi::OsString>>(_a: I) -> i32 { 0 }
