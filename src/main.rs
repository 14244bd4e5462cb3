fn main() -> std::process::ExitCode {
    twofold::cli::main()
}
