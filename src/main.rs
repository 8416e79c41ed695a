// glibc's malloc is a fifth of the time of an expansion (every item and
// operator result is a String); mimalloc's thread-local free lists halve that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(rexim::cli::main());
}
