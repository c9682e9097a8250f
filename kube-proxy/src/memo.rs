//! Rendering with memory, shared by both backends: a service port equal to the one rendered
//! last time gets the same (shared) output back instead of being rendered again, and a sync
//! that knows which Services changed re-renders only those. Each backend keeps its own
//! assembly of the per-service output into a ruleset.

use crate::model::{NodeConfig, ServicePort, service_key};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug)]
pub struct Memo<T> {
    node: Option<NodeConfig>,
    /// By service-port key: the port last rendered and its output.
    ports: HashMap<String, (ServicePort, Arc<T>)>,
    /// By Service (`namespace/name`): its service-port keys.
    by_service: HashMap<String, Vec<String>>,
    services: BTreeMap<String, Arc<T>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            node: None,
            ports: HashMap::new(),
            by_service: HashMap::new(),
            services: BTreeMap::new(),
        }
    }
}

impl<T: Send + Sync> Memo<T> {
    /// Renders every port (reusing what did not change; a new node config renders all
    /// afresh), on several threads when many need rendering.
    pub fn render(
        &mut self,
        ports: &[ServicePort],
        node: &NodeConfig,
        render: impl Fn(&ServicePort, &NodeConfig) -> T + Sync,
    ) {
        if self.node.as_ref() != Some(node) {
            self.ports.clear();
            self.node = Some(node.clone());
        }
        let mut old = std::mem::take(&mut self.ports);
        self.by_service.clear();
        self.services.clear();
        let keyed: Vec<(String, Option<Arc<T>>)> = ports
            .iter()
            .map(|sp| {
                let key = service_key(sp);
                let reused = match old.remove(&key) {
                    Some((prev, out)) if prev == *sp => Some(out),
                    _ => None,
                };
                (key, reused)
            })
            .collect();
        let fresh = crate::parallel::map_missing(ports, &keyed, |sp| render(sp, node));
        for ((sp, (key, reused)), fresh) in ports.iter().zip(keyed).zip(fresh) {
            let Some(out) = reused.or(fresh) else {
                continue;
            };
            self.by_service
                .entry(format!("{}/{}", sp.namespace, sp.name))
                .or_default()
                .push(key.clone());
            self.services.insert(key.clone(), out.clone());
            self.ports.insert(key, (sp.clone(), out));
        }
    }

    /// Replaces the ports of one Service (`namespace/name`; empty `ports` removes it); call
    /// `render` once first, it sets the node. Returns the outputs removed and those now in
    /// place (an unchanged port's output is in both), for backends that keep totals.
    pub fn update_service(
        &mut self,
        service: &str,
        ports: &[ServicePort],
        render: impl Fn(&ServicePort, &NodeConfig) -> T,
    ) -> (Vec<Arc<T>>, Vec<Arc<T>>) {
        let node = self.node.clone().unwrap_or_default();
        let mut old: HashMap<String, (ServicePort, Arc<T>)> = HashMap::new();
        let mut removed = Vec::new();
        for key in self.by_service.remove(service).unwrap_or_default() {
            if let Some(out) = self.services.remove(&key) {
                removed.push(out);
            }
            if let Some(v) = self.ports.remove(&key) {
                old.insert(key, v);
            }
        }
        let mut keys = Vec::with_capacity(ports.len());
        let mut added = Vec::with_capacity(ports.len());
        for sp in ports {
            let key = service_key(sp);
            let out = match old.remove(&key) {
                Some((prev, out)) if prev == *sp => out,
                _ => Arc::new(render(sp, &node)),
            };
            added.push(out.clone());
            self.services.insert(key.clone(), out.clone());
            self.ports.insert(key.clone(), (sp.clone(), out));
            keys.push(key);
        }
        if !keys.is_empty() {
            self.by_service.insert(service.to_string(), keys);
        }
        (removed, added)
    }

    /// Every service port's output, by service-port key.
    pub fn services(&self) -> &BTreeMap<String, Arc<T>> {
        &self.services
    }

    /// (service ports, ready endpoints) rendered.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.ports.len(),
            self.ports.values().map(|(p, _)| p.endpoints.len()).sum(),
        )
    }
}
