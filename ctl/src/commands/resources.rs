//! `api-resources` (from the kind registry) and `version`.

use super::Ctx;
use crate::args::{ApiResourcesArgs, OutputFormat};
use crate::printers::table::{Table, render};
use anyhow::Result;
use proto::KindInfo;
use proto::resource::ALL_KINDS;

/// The registry as kubectl's table, sorted by group then name; `namespaced` filters.
pub fn resources_table(kinds: &[&KindInfo], namespaced: Option<bool>) -> Table {
    let mut ks: Vec<&KindInfo> = kinds
        .iter()
        .copied()
        .filter(|k| namespaced.is_none_or(|n| k.namespaced == n))
        .collect();
    ks.sort_by_key(|k| (k.group, k.plural));
    Table {
        headers: ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            .map(String::from)
            .to_vec(),
        rows: ks
            .iter()
            .map(|k| {
                vec![
                    k.plural.to_string(),
                    k.short_names.join(","),
                    k.api_version.to_string(),
                    k.namespaced.to_string(),
                    k.kind.to_string(),
                ]
            })
            .collect(),
    }
}

pub fn api_resources(ctx: &Ctx, args: &ApiResourcesArgs) -> Result<()> {
    let table = resources_table(ALL_KINDS, args.namespaced);
    if ctx.output() == Some(OutputFormat::Name) {
        let mut ks: Vec<&KindInfo> = ALL_KINDS
            .iter()
            .copied()
            .filter(|k| args.namespaced.is_none_or(|n| k.namespaced == n))
            .collect();
        ks.sort_by_key(|k| (k.group, k.plural));
        for k in ks {
            if k.group.is_empty() {
                println!("{}", k.plural);
            } else {
                println!("{}.{}", k.plural, k.group);
            }
        }
    } else {
        print!("{}", render(&table, true));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_table() {
        let t = resources_table(ALL_KINDS, None);
        assert_eq!(t.rows.len(), ALL_KINDS.len());
        let pods = t.rows.iter().find(|r| r[0] == "pods").unwrap();
        assert_eq!(pods, &["pods", "po", "v1", "true", "Pod"]);
        // Core group first.
        assert_eq!(t.rows[0][2], "v1");
        let cluster = resources_table(ALL_KINDS, Some(false));
        assert!(cluster.rows.iter().all(|r| r[3] == "false"));
        assert!(cluster.rows.iter().any(|r| r[0] == "nodes"));
    }
}
