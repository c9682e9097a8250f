fn main() -> anyhow::Result<()> {
    anyhow::bail!("{}", scheduler::NOT_YET_BUILT)
}
