//! placeholder, wired by its issue
fn main() {}
