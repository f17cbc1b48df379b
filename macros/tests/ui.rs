//! trybuild UI tests: one file per diagnostic, with the expected compiler output beside it
//! (`.stderr`), and passing programs that run.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p petrel-macros --test ui`
//! and review every changed `.stderr` by eye.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/interface/*.rs");
    t.compile_fail("tests/ui/implements/*.rs");
    t.compile_fail("tests/ui/main/*.rs");
    t.compile_fail("tests/ui/bootargs/*.rs");
}
