//! The bare `lambda_runtime` echo with mimalloc, the quick start's optional allocator: what the
//! allocator alone is worth to a bare function (see [`lift_bench::peer_echo`]).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    lift_bench::peer_echo::main("peer_echo_mimalloc")
}
