fn main() {
    std::process::exit(dbos_gitops::run(std::env::args_os()));
}
