//! [`instructions`](../instructions.rs) with mimalloc, the quick start's optional allocator, as
//! this program's: `scripts/instructions.sh` counts every case with both allocators.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "instructions.rs"]
mod instructions;

fn main() {
    instructions::main();
}
