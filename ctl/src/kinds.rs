//! What the user named: kinds (`po`, `deployments.apps`, `all`), names, `KIND/NAME` pairs,
//! and which namespace a request goes to.

use anyhow::{Result, anyhow, bail};
use proto::KindInfo;
use proto::resource::find_kind;

/// What `get all` lists, in kubectl's order.
pub const ALL_CATEGORY: &[&str] = &[
    "pods",
    "services",
    "daemonsets",
    "deployments",
    "replicasets",
    "statefulsets",
    "horizontalpodautoscalers",
    "cronjobs",
    "jobs",
];

pub fn resolve_kind(name: &str) -> Result<&'static KindInfo> {
    find_kind(name).ok_or_else(|| anyhow!("the server doesn't have a resource type \"{name}\""))
}

/// `po,svc` or `all` into kinds, without duplicates, in the order given.
pub fn resolve_kind_list(spec: &str) -> Result<Vec<&'static KindInfo>> {
    let mut out: Vec<&'static KindInfo> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let kinds = if part.eq_ignore_ascii_case("all") {
            ALL_CATEGORY
                .iter()
                .map(|p| resolve_kind(p))
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![resolve_kind(part)?]
        };
        for k in kinds {
            if !out.iter().any(|o| std::ptr::eq(*o, k)) {
                out.push(k);
            }
        }
    }
    if out.is_empty() {
        bail!("you must specify the type of resource to get");
    }
    Ok(out)
}

/// The objects a command acts on.
#[derive(Debug, PartialEq)]
pub enum Selection {
    /// Every object of these kinds (filtered by selectors).
    All(Vec<&'static KindInfo>),
    /// These objects.
    Named(Vec<(&'static KindInfo, String)>),
}

impl Selection {
    /// Whether output names must say the kind, as kubectl does when several kinds show.
    pub fn several_kinds(&self) -> bool {
        let mut first: Option<&KindInfo> = None;
        let kinds: Box<dyn Iterator<Item = &KindInfo>> = match self {
            Selection::All(ks) => Box::new(ks.iter().copied()),
            Selection::Named(ps) => Box::new(ps.iter().map(|(k, _)| *k)),
        };
        for k in kinds {
            match first {
                None => first = Some(k),
                Some(f) if !std::ptr::eq(f, k) => return true,
                _ => {}
            }
        }
        false
    }
}

/// kubectl's grammar: `TYPE[,TYPE] [NAME...]` or `TYPE/NAME [TYPE/NAME...]`, not mixed.
pub fn parse_selection(args: &[String]) -> Result<Selection> {
    let Some(first) = args.first() else {
        bail!("you must specify the type of resource");
    };
    if first.contains('/') {
        let mut pairs = Vec::new();
        for a in args {
            let Some((kind, name)) = a.split_once('/') else {
                bail!(
                    "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'ctl get resource/<resource_name>' instead of 'ctl get resource resource/<resource_name>')"
                );
            };
            if name.is_empty() {
                bail!("arguments in resource/name form must have a single resource and name");
            }
            pairs.push((resolve_kind(kind)?, name.to_string()));
        }
        return Ok(Selection::Named(pairs));
    }
    let kinds = resolve_kind_list(first)?;
    let names = &args[1..];
    if names.is_empty() {
        return Ok(Selection::All(kinds));
    }
    if let Some(bad) = names.iter().find(|n| n.contains('/')) {
        bail!(
            "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (got {bad:?})"
        );
    }
    let mut pairs = Vec::new();
    for k in &kinds {
        for n in names {
            pairs.push((*k, n.clone()));
        }
    }
    Ok(Selection::Named(pairs))
}

/// The namespace flags, as given.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    /// `-n` when given.
    pub explicit: Option<String>,
    pub all: bool,
    /// The kubeconfig context's namespace: the default when `-n` is not given.
    pub context_default: Option<String>,
}

impl Namespaces {
    pub fn effective(&self) -> &str {
        self.explicit
            .as_deref()
            .or(self.context_default.as_deref())
            .unwrap_or("default")
    }

    /// The namespace of one object of `kind` (empty for cluster-scoped kinds).
    pub fn for_object(&self, kind: &KindInfo) -> String {
        if kind.namespaced {
            self.effective().to_string()
        } else {
            String::new()
        }
    }

    /// The namespace a list of `kind` covers: empty means all.
    pub fn for_list(&self, kind: &KindInfo) -> String {
        if !kind.namespaced || self.all {
            String::new()
        } else {
            self.effective().to_string()
        }
    }

    /// The namespace a manifest's object goes to: its own, else `-n`, else `default`; a
    /// manifest namespace that contradicts an explicit `-n` is refused, as kubectl does.
    pub fn for_manifest(&self, kind: &KindInfo, manifest_ns: &str) -> Result<String> {
        if !kind.namespaced {
            return Ok(String::new());
        }
        match (&self.explicit, manifest_ns) {
            (Some(flag), m) if !m.is_empty() && m != flag => bail!(
                "the namespace from the provided object \"{m}\" does not match the namespace \"{flag}\". You must pass '--namespace={m}' to perform this operation."
            ),
            (_, m) if !m.is_empty() => Ok(m.to_string()),
            _ => Ok(self.effective().to_string()),
        }
    }
}

/// `deployment.apps/web`: kubectl's `-o name` and the subject of its status lines.
pub fn object_name(kind: &KindInfo, name: &str) -> String {
    format!("{}/{name}", kind.qualified_singular())
}

/// `object_name` of an object: its bare name when its kind is unknown.
pub fn object_name_of(object: &proto::k8s::Object) -> String {
    let name = &object.meta().name;
    match object.info() {
        Some(info) => object_name(info, name),
        None => name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn kinds_by_short_name_and_list() {
        let ks = resolve_kind_list("po,svc,deploy,rs,ns,no,cm").unwrap();
        let plurals: Vec<_> = ks.iter().map(|k| k.plural).collect();
        assert_eq!(
            plurals,
            [
                "pods",
                "services",
                "deployments",
                "replicasets",
                "namespaces",
                "nodes",
                "configmaps"
            ]
        );
        assert_eq!(resolve_kind_list("pods,po").unwrap().len(), 1);
        let err = resolve_kind("foo").unwrap_err().to_string();
        assert_eq!(err, "the server doesn't have a resource type \"foo\"");
        let all = resolve_kind_list("all").unwrap();
        assert_eq!(all[0].plural, "pods");
        assert!(all.iter().any(|k| k.plural == "deployments"));
        assert!(!all.iter().any(|k| k.plural == "configmaps"));
    }

    #[test]
    fn selections() {
        assert_eq!(
            parse_selection(&s(&["po"])).unwrap(),
            Selection::All(vec![resolve_kind("pods").unwrap()])
        );
        let Selection::Named(p) = parse_selection(&s(&["deploy", "a", "b"])).unwrap() else {
            panic!()
        };
        assert_eq!(p.len(), 2);
        assert_eq!((p[1].0.plural, p[1].1.as_str()), ("deployments", "b"));
        let sel = parse_selection(&s(&["po/a", "svc/b"])).unwrap();
        assert!(sel.several_kinds());
        let Selection::Named(p) = sel else { panic!() };
        assert_eq!((p[1].0.plural, p[1].1.as_str()), ("services", "b"));
        assert!(parse_selection(&s(&["po/a", "b"])).is_err());
        assert!(parse_selection(&s(&["po", "svc/b"])).is_err());
        assert!(parse_selection(&s(&["po/"])).is_err());
        assert!(parse_selection(&s(&["bogus"])).is_err());
        assert!(
            !parse_selection(&s(&["po", "a", "b"]))
                .unwrap()
                .several_kinds()
        );
        assert!(parse_selection(&s(&["po,svc"])).unwrap().several_kinds());
    }

    #[test]
    fn namespace_rules() {
        let pod = resolve_kind("pod").unwrap();
        let node = resolve_kind("node").unwrap();
        let none = Namespaces::default();
        let explicit = Namespaces {
            explicit: Some("prod".into()),
            all: false,
            ..Default::default()
        };
        let all = Namespaces {
            explicit: None,
            all: true,
            ..Default::default()
        };
        assert_eq!(none.for_object(pod), "default");
        let from_context = Namespaces {
            context_default: Some("dev".into()),
            ..Default::default()
        };
        assert_eq!(from_context.for_object(pod), "dev");
        assert_eq!(
            from_context.for_manifest(pod, "other").unwrap(),
            "other",
            "a context namespace is a default, not an explicit -n"
        );
        assert_eq!(explicit.for_object(pod), "prod");
        assert_eq!(explicit.for_object(node), "");
        assert_eq!(all.for_list(pod), "");
        assert_eq!(explicit.for_list(pod), "prod");
        assert_eq!(none.for_manifest(pod, "").unwrap(), "default");
        assert_eq!(none.for_manifest(pod, "x").unwrap(), "x");
        assert_eq!(explicit.for_manifest(pod, "").unwrap(), "prod");
        assert_eq!(explicit.for_manifest(pod, "prod").unwrap(), "prod");
        let err = explicit.for_manifest(pod, "x").unwrap_err().to_string();
        assert!(
            err.contains("does not match the namespace \"prod\""),
            "{err}"
        );
        assert_eq!(explicit.for_manifest(node, "x").unwrap(), "");
    }

    #[test]
    fn names() {
        let d = resolve_kind("deploy").unwrap();
        assert_eq!(object_name(d, "web"), "deployment.apps/web");
        assert_eq!(object_name(resolve_kind("po").unwrap(), "x"), "pod/x");
    }
}
