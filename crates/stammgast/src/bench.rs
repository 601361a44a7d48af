#[derive(clap::Args)]
pub struct BenchOptions {}
pub async fn run(_: BenchOptions) -> anyhow::Result<()> {
    Ok(())
}
