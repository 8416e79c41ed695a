fn main() {
    std::process::exit(rexim_testsuite::cli::main(std::env::args().skip(1).collect()));
}
