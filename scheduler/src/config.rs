//! The config file (`--config FILE`), in the shape of Kubernetes'
//! `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1), the subset this scheduler
//! implements: one profile, which plugins run at the filter and score extension points and
//! with which weights, plugin args, percentageOfNodesToScore, the queue's back-off and
//! leader election. Unknown fields are errors, as in Kubernetes.

use crate::error::Error;
use crate::framework::Framework;
use crate::plugins::{self, DEFAULT_FILTERS, DEFAULT_SCORES};
use serde::Deserialize;
use std::collections::HashMap;

pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// 0 (default): adaptive, 50% at 100 nodes down to 5%.
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<u32>,
    #[serde(default)]
    pub pod_initial_backoff_seconds: Option<u64>,
    #[serde(default)]
    pub pod_max_backoff_seconds: Option<u64>,
    #[serde(default)]
    pub leader_election: Option<LeaderElectionFile>,
    /// Accepted for compatibility; this scheduler filters nodes on one thread.
    #[serde(default)]
    pub parallelism: Option<u32>,
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaderElectionFile {
    #[serde(default)]
    pub leader_elect: Option<bool>,
    #[serde(default)]
    pub lease_duration: Option<String>,
    #[serde(default)]
    pub renew_deadline: Option<String>,
    #[serde(default)]
    pub retry_period: Option<String>,
    #[serde(default)]
    pub resource_lock: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
    #[serde(default)]
    pub resource_namespace: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    #[serde(default)]
    pub scheduler_name: Option<String>,
    #[serde(default)]
    pub percentage_of_nodes_to_score: Option<u32>,
    #[serde(default)]
    pub plugins: Option<Plugins>,
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plugins {
    /// Enables a plugin at every extension point it implements.
    #[serde(default)]
    pub multi_point: Option<PluginSet>,
    /// Pre-filter runs with filter: the two are one here (accepted for compatibility).
    #[serde(default)]
    pub pre_filter: Option<PluginSet>,
    #[serde(default)]
    pub filter: Option<PluginSet>,
    /// `DefaultPreemption` is the only post-filter plugin.
    #[serde(default)]
    pub post_filter: Option<PluginSet>,
    /// Pre-score runs with score (accepted for compatibility).
    #[serde(default)]
    pub pre_score: Option<PluginSet>,
    #[serde(default)]
    pub score: Option<PluginSet>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginSet {
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    /// `name: "*"` disables every default plugin of the extension point.
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginRef {
    pub name: String,
    /// Score weight; 0 or absent keeps the default (1 for plugins without one).
    #[serde(default)]
    pub weight: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginConfig {
    pub name: String,
    #[serde(default)]
    pub args: Option<serde_json::Value>,
}

/// Parses the YAML (or JSON) text of a config file.
pub fn parse(text: &str) -> Result<FileConfig, Error> {
    let value: serde_json::Value = serde_saphyr::from_str(text)
        .map_err(|e| Error::Config(e.to_string().lines().next().unwrap_or("").to_string()))?;
    if value.is_null() {
        return Ok(FileConfig::default());
    }
    let cfg: FileConfig =
        serde_json::from_value(value).map_err(|e| Error::Config(e.to_string()))?;
    if let Some(kind) = &cfg.kind
        && kind != "KubeSchedulerConfiguration"
    {
        return Err(Error::Config(format!(
            "kind is {kind:?}, expected KubeSchedulerConfiguration"
        )));
    }
    if cfg.profiles.len() > 1 {
        return Err(Error::Config(format!(
            "{} profiles given; this scheduler runs exactly one",
            cfg.profiles.len()
        )));
    }
    if let Some(p) = cfg.percentage_of_nodes_to_score
        && p > 100
    {
        return Err(Error::Config(format!(
            "percentageOfNodesToScore: {p} is not in 0..=100"
        )));
    }
    Ok(cfg)
}

pub fn load(path: &str) -> Result<FileConfig, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigFile {
        path: path.to_string(),
        source,
    })?;
    parse(&text)
}

/// Filter names in order, and score names with weights.
pub type Resolved = (Vec<String>, Vec<(String, i64)>);

/// The profile's plugins resolved against the defaults: filters in order, scores with
/// weights. Pure, so it can be tested without building plugins.
pub fn resolve_plugins(profile: &Profile) -> Result<Resolved, Error> {
    let known: HashMap<&str, plugins::Factory> = plugins::registry().into_iter().collect();
    let mut filters: Vec<String> = DEFAULT_FILTERS.iter().map(|s| s.to_string()).collect();
    let mut scores: Vec<(String, i64)> = DEFAULT_SCORES
        .iter()
        .map(|(n, w)| (n.to_string(), *w))
        .collect();
    let empty = Plugins::default();
    let p = profile.plugins.as_ref().unwrap_or(&empty);
    let check = |name: &str| {
        if name == "*" || name == DEFAULT_PREEMPTION || known.contains_key(name) {
            Ok(())
        } else {
            let mut names: Vec<&str> = known.keys().copied().collect();
            names.sort();
            Err(Error::Config(format!(
                "unknown plugin {name:?} (known: {})",
                names.join(", ")
            )))
        }
    };
    let apply_disabled = |list: &mut Vec<String>, set: &PluginSet| -> Result<(), Error> {
        for d in &set.disabled {
            check(&d.name)?;
            if d.name == "*" {
                list.clear();
            } else {
                list.retain(|n| n != &d.name);
            }
        }
        Ok(())
    };
    let filter_sets = [&p.multi_point, &p.pre_filter, &p.filter];
    let score_sets = [&p.multi_point, &p.pre_score, &p.score];
    for set in filter_sets.iter().copied().flatten() {
        apply_disabled(&mut filters, set)?;
    }
    for set in score_sets.iter().copied().flatten() {
        let mut names: Vec<String> = scores.iter().map(|(n, _)| n.clone()).collect();
        apply_disabled(&mut names, set)?;
        scores.retain(|(n, _)| names.contains(n));
    }
    // Enabled plugins: multiPoint adds a plugin wherever it has an implementation.
    let mut probe = HashMap::new();
    let mut kinds = |name: &str| -> Result<(bool, bool), Error> {
        check(name)?;
        if name == DEFAULT_PREEMPTION {
            return Ok((false, false));
        }
        if let Some(k) = probe.get(name) {
            return Ok(*k);
        }
        let reg = known[name](None)?;
        let k = (reg.filter.is_some(), reg.score.is_some());
        probe.insert(name.to_string(), k);
        Ok(k)
    };
    for (set, at_filter, at_score, multi) in [
        (&p.multi_point, true, true, true),
        (&p.pre_filter, true, false, false),
        (&p.filter, true, false, false),
        (&p.pre_score, false, true, false),
        (&p.score, false, true, false),
    ] {
        let Some(set) = set else { continue };
        for e in &set.enabled {
            if e.name == DEFAULT_PREEMPTION {
                continue;
            }
            let (has_filter, has_score) = kinds(&e.name)?;
            if !multi && at_filter && !has_filter {
                return Err(Error::Config(format!(
                    "plugin {} is not a filter plugin",
                    e.name
                )));
            }
            if !multi && at_score && !has_score {
                return Err(Error::Config(format!(
                    "plugin {} is not a score plugin",
                    e.name
                )));
            }
            if at_filter && has_filter && !filters.contains(&e.name) {
                filters.push(e.name.clone());
            }
            if at_score && has_score {
                let weight = match e.weight {
                    Some(w) if w < 0 => {
                        return Err(Error::Config(format!(
                            "plugin {}: weight {w} must not be negative",
                            e.name
                        )));
                    }
                    Some(w) if w > 0 => Some(w),
                    _ => None,
                };
                match scores.iter_mut().find(|(n, _)| n == &e.name) {
                    Some(entry) => {
                        if let Some(w) = weight {
                            entry.1 = w;
                        }
                    }
                    None => scores.push((e.name.clone(), weight.unwrap_or(1))),
                }
            }
        }
    }
    Ok((filters, scores))
}

pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";

/// Whether DefaultPreemption runs: on by default; off when `postFilter` or `multiPoint`
/// disables it (or "*") and does not enable it again.
pub fn preemption_enabled(profile: &Profile) -> bool {
    let Some(p) = &profile.plugins else {
        return true;
    };
    let mut on = true;
    for set in [&p.multi_point, &p.post_filter].into_iter().flatten() {
        if set
            .disabled
            .iter()
            .any(|d| d.name == "*" || d.name == DEFAULT_PREEMPTION)
        {
            on = false;
        }
    }
    for set in [&p.multi_point, &p.post_filter].into_iter().flatten() {
        if set.enabled.iter().any(|e| e.name == DEFAULT_PREEMPTION) {
            on = true;
        }
    }
    on
}

/// Builds the framework of the config's (only) profile.
pub fn build_framework(cfg: &FileConfig) -> Result<Framework, Error> {
    let profile = cfg.profiles.first().cloned().unwrap_or_default();
    let (filter_names, score_names) = resolve_plugins(&profile)?;
    let factories: HashMap<&str, plugins::Factory> = plugins::registry().into_iter().collect();
    let mut args: HashMap<&str, &serde_json::Value> = HashMap::new();
    for pc in &profile.plugin_config {
        if !factories.contains_key(pc.name.as_str()) {
            return Err(Error::Config(format!(
                "pluginConfig names unknown plugin {:?}",
                pc.name
            )));
        }
        if let Some(a) = &pc.args {
            args.insert(pc.name.as_str(), a);
        }
    }
    let mut built: HashMap<String, plugins::Registered> = HashMap::new();
    let mut get = |name: &str| -> Result<plugins::Registered, Error> {
        if let Some(r) = built.get(name) {
            return Ok(r.clone());
        }
        let r = factories[name](args.get(name).copied())?;
        built.insert(name.to_string(), r.clone());
        Ok(r)
    };
    let mut filters = Vec::new();
    for n in &filter_names {
        if let Some(f) = get(n)?.filter {
            filters.push(f);
        }
    }
    let mut scores = Vec::new();
    for (n, w) in &score_names {
        if let Some(s) = get(n)?.score {
            scores.push((s, *w));
        }
    }
    Ok(Framework {
        scheduler_name: profile
            .scheduler_name
            .clone()
            .unwrap_or_else(|| DEFAULT_SCHEDULER_NAME.to_string()),
        filters,
        scores,
        percentage_of_nodes_to_score: profile
            .percentage_of_nodes_to_score
            .or(cfg.percentage_of_nodes_to_score)
            .unwrap_or(0),
        preemption: preemption_enabled(&profile),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(yaml: &str) -> Result<Resolved, Error> {
        let cfg = parse(yaml)?;
        resolve_plugins(&cfg.profiles.first().cloned().unwrap_or_default())
    }

    #[test]
    fn defaults_without_a_file() {
        let (f, s) = resolved("").unwrap();
        assert_eq!(f, DEFAULT_FILTERS);
        assert_eq!(s.len(), DEFAULT_SCORES.len());
        assert!(s.contains(&("TaintToleration".to_string(), 3)));
        let fw = build_framework(&FileConfig::default()).unwrap();
        assert_eq!(fw.scheduler_name, "default-scheduler");
        assert_eq!(fw.filter_names(), DEFAULT_FILTERS);
    }

    #[test]
    fn enable_disable_and_weights() {
        let yaml = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: my-scheduler
  plugins:
    filter:
      disabled: [{name: NodePorts}]
    score:
      disabled: [{name: "*"}]
      enabled:
      - {name: NodeResourcesBalancedAllocation, weight: 5}
      - {name: NodeResourcesFit}
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
"#;
        let (f, s) = resolved(yaml).unwrap();
        assert!(!f.contains(&"NodePorts".to_string()));
        assert!(f.contains(&"NodeResourcesFit".to_string()));
        assert_eq!(
            s,
            [
                ("NodeResourcesBalancedAllocation".to_string(), 5),
                ("NodeResourcesFit".to_string(), 1)
            ]
        );
        let fw = build_framework(&parse(yaml).unwrap()).unwrap();
        assert_eq!(fw.scheduler_name, "my-scheduler");
        assert_eq!(fw.percentage_of_nodes_to_score, 30);
        assert_eq!(fw.scores.len(), 2);
    }

    #[test]
    fn reweighting_a_default_keeps_its_place() {
        let (_, s) = resolved(
            "profiles:\n- plugins:\n    score:\n      enabled: [{name: TaintToleration, weight: 10}]\n",
        )
        .unwrap();
        assert_eq!(s[0], ("TaintToleration".to_string(), 10));
        assert_eq!(s.len(), DEFAULT_SCORES.len());
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            (
                "profiles:\n- plugins:\n    filter:\n      enabled: [{name: Nope}]\n",
                "unknown plugin \"Nope\"",
            ),
            (
                "profiles:\n- plugins:\n    score:\n      enabled: [{name: NodePorts}]\n",
                "not a score plugin",
            ),
            (
                "profiles:\n- plugins:\n    filter:\n      enabled: [{name: NodeResourcesBalancedAllocation}]\n",
                "not a filter plugin",
            ),
            (
                "percentageOfNodesToScore: 120\n",
                "percentageOfNodesToScore",
            ),
            ("bogusField: 1\n", "bogusField"),
            ("kind: Deployment\n", "KubeSchedulerConfiguration"),
            ("profiles: [{}, {}]\n", "exactly one"),
            (
                "profiles:\n- pluginConfig:\n  - {name: NodeResourcesFit, args: {scoringStrategy: {type: Random}}}\n",
                "Random",
            ),
            (
                "profiles:\n- pluginConfig:\n  - {name: NodePorts, args: {x: 1}}\n",
                "takes no args",
            ),
        ];
        for (yaml, want) in cases {
            let err = parse(yaml)
                .and_then(|c| build_framework(&c).map(|_| ()))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn multi_point_enables_everywhere() {
        let (f, s) = resolved(
            "profiles:\n- plugins:\n    multiPoint:\n      disabled: [{name: \"*\"}]\n      enabled: [{name: TaintToleration, weight: 2}, {name: NodeResourcesBalancedAllocation}]\n",
        )
        .unwrap();
        assert_eq!(f, ["TaintToleration"]);
        assert_eq!(
            s,
            [
                ("TaintToleration".to_string(), 2),
                ("NodeResourcesBalancedAllocation".to_string(), 1)
            ]
        );
    }

    #[test]
    fn preemption_switch() {
        let fw = |y: &str| build_framework(&parse(y).unwrap()).unwrap().preemption;
        assert!(fw(""));
        assert!(!fw(
            "profiles:\n- plugins:\n    postFilter:\n      disabled: [{name: DefaultPreemption}]\n"
        ));
        assert!(!fw(
            "profiles:\n- plugins:\n    multiPoint:\n      disabled: [{name: \"*\"}]\n"
        ));
        assert!(fw(
            "profiles:\n- plugins:\n    multiPoint:\n      disabled: [{name: \"*\"}]\n      enabled: [{name: DefaultPreemption}]\n"
        ));
    }

    #[test]
    fn durations() {
        // The leaderElection durations (and the --leader-elect-* flags) parse with this.
        use proto::duration::parse_flag as parse_duration;
        use std::time::Duration;
        assert_eq!(parse_duration("15s").unwrap(), Duration::from_secs(15));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("15").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5x").is_err());
    }
}
