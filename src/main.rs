//! The `dbops` binary: parse arguments, run, map the result to an exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(dbops::main_entry() as u8)
}
