#[global_allocator]
static ALLOCATOR: rexim::alloc::Allocator = rexim::alloc::Allocator;

fn main() {
    std::process::exit(rexim::cli::main());
}
