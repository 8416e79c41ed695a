fn main() {
    std::process::exit(rexim::cli::main());
}
