fn main() -> anyhow::Result<()> {
    anyhow::bail!("{}", controller_manager::NOT_YET_BUILT)
}
