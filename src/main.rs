/// jemalloc, not glibc's malloc: after a burst (thousands of connections with unfinished
/// headers) glibc keeps the memory in its arenas, jemalloc returns it (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    // Purging then happens on jemalloc's own thread, also while the server is idle (by
    // default only allocations trigger it, so an idle server would keep the burst's
    // memory). Without it the allocator still works: nothing to stop for.
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        eprintln!("warning: jemalloc background thread not started: {e}");
    }
    twofold::cli::main()
}
