//! Every benchmark's smoke pass: under `cargo test` each bench runs once on a small input and
//! checks what it computes, without timing anything (`cargo bench --bench NAME` measures).
//! The benches are compiled into this binary rather than as test binaries of their own.

#[path = "../benches/commit.rs"]
mod commit;
#[path = "../benches/contention.rs"]
mod contention;
#[path = "../benches/digest.rs"]
mod digest;
#[path = "../benches/e2e.rs"]
mod e2e;
#[path = "../benches/growth.rs"]
mod growth;
#[path = "../benches/reveal.rs"]
mod reveal;
#[path = "../benches/rewrite.rs"]
mod rewrite;
#[path = "../benches/search.rs"]
mod search;
#[path = "../benches/startup.rs"]
mod startup;

#[test]
fn commit_bench_smoke_pass() {
    commit::main();
}

#[test]
fn contention_bench_smoke_pass() {
    contention::main();
}

#[test]
fn digest_bench_smoke_pass() {
    digest::main().unwrap();
}

#[test]
fn e2e_bench_smoke_pass() {
    e2e::main();
}

#[test]
fn growth_bench_smoke_pass() {
    growth::main();
}

#[test]
fn reveal_bench_smoke_pass() {
    reveal::main();
}

#[test]
fn rewrite_bench_smoke_pass() {
    rewrite::main();
}

#[test]
fn search_bench_smoke_pass() {
    search::main().unwrap();
}

#[test]
fn startup_bench_smoke_pass() {
    startup::main();
}
