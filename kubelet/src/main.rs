fn main() -> anyhow::Result<()> {
    anyhow::bail!("{}", kubelet::NOT_YET_BUILT)
}
