//! `qbr`: the QBR Dashboard server and its command line (`backend::cli`).
use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = backend::cli::Cli::parse();
    if let Err(e) = backend::cli::run(cli).await {
        eprintln!("qbr: {e:#}");
        std::process::exit(1);
    }
}
