//! The bare `lambda_runtime` echo with the system allocator: see [`lift_bench::peer_echo`].

fn main() -> std::process::ExitCode {
    lift_bench::peer_echo::main("peer_echo")
}
