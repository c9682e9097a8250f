//! What a namespace's LimitRanges do to a Pod or a PersistentVolumeClaim, as Kubernetes'
//! LimitRanger admission plugin (`plugin/pkg/admission/limitranger`): the defaults a pod's
//! containers get and the annotation recording them, and the min / max /
//! maxLimitRequestRatio violations with Kubernetes' messages. Pure: no store, no clock.

use std::collections::BTreeMap;

use proto::k8s::{Container, LimitRange, LimitRangeItem, PersistentVolumeClaim, Pod};
use proto::quantity::Quantity;

/// The pod annotation naming what the plugin set.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

pub const CONTAINER: &str = "Container";
pub const POD: &str = "Pod";
pub const PERSISTENT_VOLUME_CLAIM: &str = "PersistentVolumeClaim";

/// A resource list with every value parsed.
type Amounts = BTreeMap<String, Quantity>;

/// Parses every value; `None` when one does not parse (object validation refuses that
/// object with a field error, which says more than a limit could).
fn parse_list(list: &BTreeMap<String, String>) -> Option<Amounts> {
    list.iter()
        .map(|(k, v)| v.parse::<Quantity>().ok().map(|q| (k.clone(), q)))
        .collect()
}

/// A LimitRange's values; one that does not parse is skipped (validation refused it when
/// the LimitRange was written, so only old data has one).
fn parse_lenient(list: &BTreeMap<String, String>) -> Amounts {
    list.iter()
        .filter_map(|(k, v)| v.parse::<Quantity>().ok().map(|q| (k.clone(), q)))
        .collect()
}

/// The defaults of a Container item as Kubernetes stores them (`SetDefaults_LimitRangeItem`):
/// a missing default limit is the max, a missing default request the default limit, else
/// the min. Applied here too so a LimitRange stored without them acts as Kubernetes' would.
/// Returns (limits, requests), raw strings as the LimitRange spells them.
fn item_defaults(item: &LimitRangeItem) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut limits = item.default.clone();
    for (k, v) in &item.max {
        limits.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut requests = item.default_request.clone();
    for (k, v) in limits.iter().chain(&item.min) {
        requests.entry(k.clone()).or_insert_with(|| v.clone());
    }
    (limits, requests)
}

/// Kubernetes' `defaultContainerResourceRequirements`: every Container item of the range
/// contributes, a later item winning for the same resource.
fn container_defaults(lr: &LimitRange) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut limits = BTreeMap::new();
    let mut requests = BTreeMap::new();
    for item in items(lr).filter(|i| i.r#type == CONTAINER) {
        let (l, r) = item_defaults(item);
        limits.extend(l);
        requests.extend(r);
    }
    (limits, requests)
}

fn items(lr: &LimitRange) -> impl Iterator<Item = &LimitRangeItem> {
    lr.spec.iter().flat_map(|s| s.limits.iter())
}

/// Fills the requests and limits a container lacks from `defaults`; returns the parts of
/// the annotation ("cpu, memory request for container web").
fn default_container(
    c: &mut Container,
    limits: &BTreeMap<String, String>,
    requests: &BTreeMap<String, String>,
    prefix: &str,
    notes: &mut Vec<String>,
) {
    if limits.is_empty() && requests.is_empty() {
        return;
    }
    let res = c.resources.get_or_insert_with(Default::default);
    let set_limits = fill_missing(&mut res.limits, limits);
    let set_requests = fill_missing(&mut res.requests, requests);
    // BTreeMap keys come sorted, as Kubernetes sorts them.
    if !set_requests.is_empty() {
        notes.push(format!(
            "{} request for {prefix} {}",
            set_requests.join(", "),
            c.name
        ));
    }
    if !set_limits.is_empty() {
        notes.push(format!(
            "{} limit for {prefix} {}",
            set_limits.join(", "),
            c.name
        ));
    }
}

fn fill_missing(
    into: &mut BTreeMap<String, String>,
    from: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut set = Vec::new();
    for (k, v) in from {
        if !into.contains_key(k) {
            into.insert(k.clone(), v.clone());
            set.push(k.clone());
        }
    }
    set
}

/// Kubernetes' `PodMutateLimitFunc` for one LimitRange: containers and init containers get
/// the range's Container defaults for what they do not set. When anything was set, the
/// `kubernetes.io/limit-ranger` annotation says what, replacing what an earlier range of
/// the namespace wrote there (as Kubernetes does). Returns the annotation, if set.
pub fn apply_defaults(lr: &LimitRange, pod: &mut Pod) -> Option<String> {
    let (limits, requests) = container_defaults(lr);
    let spec = pod.spec.as_mut()?;
    let mut notes = Vec::new();
    for c in &mut spec.containers {
        default_container(c, &limits, &requests, "container", &mut notes);
    }
    for c in &mut spec.init_containers {
        default_container(c, &limits, &requests, "init container", &mut notes);
    }
    if notes.is_empty() {
        return None;
    }
    let value = format!("LimitRanger plugin set: {}", notes.join("; "));
    pod.metadata
        .get_or_insert_with(Default::default)
        .annotations
        .insert(ANNOTATION.to_string(), value.clone());
    Some(value)
}

/// Kubernetes' `minConstraint`.
fn min_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    requests: &Amounts,
    limits: &Amounts,
) -> Option<String> {
    let Some(req) = requests.get(name) else {
        return Some(format!(
            "minimum {name} usage per {ty} is {enforced}.  No request is specified"
        ));
    };
    if enforced > req {
        return Some(format!(
            "minimum {name} usage per {ty} is {enforced}, but request is {req}"
        ));
    }
    match limits.get(name) {
        Some(lim) if enforced > lim => Some(format!(
            "minimum {name} usage per {ty} is {enforced}, but limit is {lim}"
        )),
        _ => None,
    }
}

/// Kubernetes' `maxConstraint`: a limit is required and neither it nor the request may
/// exceed the max.
fn max_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    requests: &Amounts,
    limits: &Amounts,
) -> Option<String> {
    let Some(lim) = limits.get(name) else {
        return Some(format!(
            "maximum {name} usage per {ty} is {enforced}.  No limit is specified"
        ));
    };
    if lim > enforced {
        return Some(format!(
            "maximum {name} usage per {ty} is {enforced}, but limit is {lim}"
        ));
    }
    match requests.get(name) {
        Some(req) if req > enforced => Some(format!(
            "maximum {name} usage per {ty} is {enforced}, but request is {req}"
        )),
        _ => None,
    }
}

/// Kubernetes' `maxRequestConstraint`, for claims, whose limits are not user input.
fn max_request_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    requests: &Amounts,
) -> Option<String> {
    let Some(req) = requests.get(name) else {
        return Some(format!(
            "maximum {name} usage per {ty} is {enforced}.  No request is specified"
        ));
    };
    (req > enforced)
        .then(|| format!("maximum {name} usage per {ty} is {enforced}, but request is {req}"))
}

/// Kubernetes' `limitRequestRatioConstraint`.
fn ratio_constraint(
    ty: &str,
    name: &str,
    enforced: &Quantity,
    requests: &Amounts,
    limits: &Amounts,
) -> Option<String> {
    let head = format!("{name} max limit to request ratio per {ty} is {enforced}");
    let req = match requests.get(name) {
        Some(r) if !r.is_zero() => r,
        _ => {
            return Some(format!(
                "{head}, but no request is specified or request is 0"
            ));
        }
    };
    let lim = match limits.get(name) {
        Some(l) if !l.is_zero() => l,
        _ => return Some(format!("{head}, but no limit is specified or limit is 0")),
    };
    exceeds_allowed(lim, req, enforced)
        .then(|| format!("{head}, but provided ratio is {}", ratio_string(lim, req)))
}

/// Whether |limit| > |request| * ratio, exactly (Kubernetes' `exceedsAllowed`).
fn exceeds_allowed(limit: &Quantity, request: &Quantity, ratio: &Quantity) -> bool {
    const NANO: i128 = 1_000_000_000;
    let (l, r, k) = (
        limit.nano().unsigned_abs(),
        request.nano().unsigned_abs(),
        ratio.nano(),
    );
    // limit / request > ratio  <=>  limit * 10^9 > request * ratio_nano (all in nano).
    match (
        l.checked_mul(NANO as u128),
        u128::try_from(k).ok().and_then(|k| r.checked_mul(k)),
    ) {
        (Some(lhs), Some(rhs)) => lhs > rhs,
        // Beyond any real quantity: an approximation is as good as the answer gets.
        _ => limit.as_f64().abs() > request.as_f64().abs() * ratio.as_f64(),
    }
}

/// |limit| / |request| to six decimals, rounded half to even (Kubernetes' `ratioString`,
/// formerly `%f` of the same ratio): `4.000000`.
fn ratio_string(limit: &Quantity, request: &Quantity) -> String {
    const SCALE: u128 = 1_000_000;
    let (l, r) = (limit.nano().unsigned_abs(), request.nano().unsigned_abs());
    let Some(num) = l.checked_mul(SCALE).filter(|_| r != 0) else {
        return format!("{:.6}", limit.as_f64().abs() / request.as_f64().abs());
    };
    let (mut q, rem) = (num / r, num % r);
    if rem * 2 > r || (rem * 2 == r && q % 2 == 1) {
        q += 1;
    }
    format!("{}.{:06}", q / SCALE, q % SCALE)
}

/// Every min / max / ratio check of `item` against one set of requests and limits.
fn check_item(item: &LimitRangeItem, requests: &Amounts, limits: &Amounts, out: &mut Vec<String>) {
    let ty = item.r#type.as_str();
    for (name, v) in parse_lenient(&item.min) {
        out.extend(min_constraint(ty, &name, &v, requests, limits));
    }
    for (name, v) in parse_lenient(&item.max) {
        out.extend(max_constraint(ty, &name, &v, requests, limits));
    }
    for (name, v) in parse_lenient(&item.max_limit_request_ratio) {
        out.extend(ratio_constraint(ty, &name, &v, requests, limits));
    }
}

/// A container's requests and limits, parsed; `None` when one does not parse.
fn container_amounts(c: &Container) -> Option<(Amounts, Amounts)> {
    match &c.resources {
        Some(r) => Some((parse_list(&r.requests)?, parse_list(&r.limits)?)),
        None => Some((Amounts::new(), Amounts::new())),
    }
}

fn add_into(into: &mut Amounts, from: &Amounts) {
    for (k, v) in from {
        let sum = match into.get(k) {
            Some(have) => have.checked_add(v).unwrap_or(*have),
            None => *v,
        };
        into.insert(k.clone(), sum);
    }
}

fn max_into(into: &mut Amounts, from: &Amounts) {
    for (k, v) in from {
        if into.get(k).is_none_or(|have| v > have) {
            into.insert(k.clone(), *v);
        }
    }
}

/// A pod's requests or limits as Kubernetes' `podRequests` / `podLimits` count them: the
/// sum of its containers and sidecars (init containers with `restartPolicy: Always`), or
/// the largest init container (plus the sidecars started before it) when that is more.
fn pod_totals(per_container: &[(Amounts, bool)], init: &[(Amounts, bool)]) -> Amounts {
    let mut total = Amounts::new();
    for (amounts, _) in per_container {
        add_into(&mut total, amounts);
    }
    let mut sidecars = Amounts::new();
    let mut init_max = Amounts::new();
    for (amounts, sidecar) in init {
        let effective = if *sidecar {
            add_into(&mut total, amounts);
            add_into(&mut sidecars, amounts);
            sidecars.clone()
        } else {
            let mut e = amounts.clone();
            add_into(&mut e, &sidecars);
            e
        };
        max_into(&mut init_max, &effective);
    }
    max_into(&mut total, &init_max);
    total
}

/// Kubernetes' `PodValidateLimitFunc` for one LimitRange on a new pod: every violation, in
/// the order of the range's items, containers before init containers, resources by name.
/// Empty when a quantity of the pod does not parse (validation refuses the pod for it).
pub fn pod_violations(lr: &LimitRange, pod: &Pod) -> Vec<String> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let amounts = |cs: &[Container]| -> Option<Vec<(Amounts, Amounts, bool)>> {
        cs.iter()
            .map(|c| {
                let (req, lim) = container_amounts(c)?;
                Some((req, lim, c.restart_policy.as_deref() == Some("Always")))
            })
            .collect()
    };
    let (Some(containers), Some(init)) =
        (amounts(&spec.containers), amounts(&spec.init_containers))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items(lr) {
        match item.r#type.as_str() {
            CONTAINER => {
                for (req, lim, _) in containers.iter().chain(&init) {
                    check_item(item, req, lim, &mut out);
                }
            }
            POD => {
                let pick = |list: &[(Amounts, Amounts, bool)], requests: bool| {
                    list.iter()
                        .map(|(r, l, s)| (if requests { r } else { l }.clone(), *s))
                        .collect::<Vec<_>>()
                };
                let requests = pod_totals(&pick(&containers, true), &pick(&init, true));
                let limits = pod_totals(&pick(&containers, false), &pick(&init, false));
                check_item(item, &requests, &limits, &mut out);
            }
            _ => {}
        }
    }
    out
}

/// Kubernetes' `PersistentVolumeClaimValidateLimitFunc` for one LimitRange: the claim's
/// `spec.resources.requests` against the min and max of PersistentVolumeClaim items. On an
/// update (`old` is the stored claim) a request the update leaves as stored is not checked
/// again, so a LimitRange created later does not block, say, a label change.
pub fn claim_violations(
    lr: &LimitRange,
    claim: &PersistentVolumeClaim,
    old: Option<&PersistentVolumeClaim>,
) -> Vec<String> {
    let requests_of = |c: &PersistentVolumeClaim| {
        c.spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .map(|r| parse_list(&r.requests))
            .unwrap_or_else(|| Some(Amounts::new()))
    };
    let Some(requests) = requests_of(claim) else {
        return Vec::new();
    };
    let old_requests = old.and_then(requests_of).unwrap_or_default();
    let unchanged = |name: &str| matches!((requests.get(name), old_requests.get(name)), (Some(a), Some(b)) if a == b);
    let mut out = Vec::new();
    for item in items(lr).filter(|i| i.r#type == PERSISTENT_VOLUME_CLAIM) {
        let ty = item.r#type.as_str();
        for (name, v) in parse_lenient(&item.min) {
            if !unchanged(&name) {
                out.extend(min_constraint(ty, &name, &v, &requests, &Amounts::new()));
            }
        }
        for (name, v) in parse_lenient(&item.max) {
            if !unchanged(&name) {
                out.extend(max_request_constraint(ty, &name, &v, &requests));
            }
        }
    }
    out
}

/// Kubernetes' aggregate error text: one message as it is, several (duplicates dropped) as
/// `[a, b]`. `None` when there is nothing to say.
pub fn aggregate(messages: &[String]) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for m in messages {
        if !seen.contains(&m.as_str()) {
            seen.push(m);
        }
    }
    match seen.len() {
        0 => None,
        1 => Some(seen[0].to_string()),
        _ => Some(format!("[{}]", seen.join(", "))),
    }
}
