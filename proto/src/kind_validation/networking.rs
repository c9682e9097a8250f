//! networking API group: Ingress (`pkg/apis/networking/validation`).

use super::Errors;
use super::rules::*;
use crate::k8s;
use crate::validation::FieldError;

pub(super) fn ingress_spec(spec: &k8s::IngressSpec, e: &mut Errors) {
    if spec.default_backend.is_none() && spec.rules.is_empty() {
        e.push(FieldError::invalid(
            "spec",
            "",
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = &spec.default_backend {
        ingress_backend(b, "spec.defaultBackend", e);
    }
    for (i, rule) in spec.rules.iter().enumerate() {
        let Some(http) = &rule.http else { continue };
        for (j, path) in http.paths.iter().enumerate() {
            let p = format!("spec.rules[{i}].http.paths[{j}]");
            if path.path_type.is_empty() {
                e.push(FieldError::required(
                    format!("{p}.pathType"),
                    "pathType must be specified",
                ));
            } else {
                supported(
                    &format!("{p}.pathType"),
                    &path.path_type,
                    &["Exact", "ImplementationSpecific", "Prefix"],
                    e,
                );
            }
            if path.path_type != "ImplementationSpecific" && !path.path.starts_with('/') {
                e.push(FieldError::invalid(
                    format!("{p}.path"),
                    &path.path,
                    "must be an absolute path",
                ));
            }
            match &path.backend {
                Some(b) => ingress_backend(b, &format!("{p}.backend"), e),
                None => e.push(FieldError::required(format!("{p}.backend"), "")),
            }
        }
    }
}

pub(super) fn ingress_backend(b: &k8s::IngressBackend, path: &str, e: &mut Errors) {
    match (&b.service, &b.resource) {
        (Some(_), Some(_)) => e.push(FieldError::invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (None, None) => e.push(FieldError::invalid(
            path,
            "",
            "resource or service backend is required",
        )),
        (Some(svc), None) => {
            if svc.name.is_empty() {
                e.push(FieldError::required(format!("{path}.service.name"), ""));
            }
            match &svc.port {
                None => e.push(FieldError::required(format!("{path}.service.port"), "")),
                Some(port) => match (port.name.is_empty(), port.number) {
                    (true, 0) => e.push(FieldError::required(
                        format!("{path}.service.port"),
                        "port name or number is required",
                    )),
                    (false, n) if n != 0 => e.push(FieldError::invalid(
                        format!("{path}.service.port"),
                        "",
                        "cannot set both port name & port number",
                    )),
                    (true, n) => port_number(&format!("{path}.service.port.number"), n, e),
                    (false, _) => {
                        for msg in is_iana_svc_name(&port.name) {
                            e.push(FieldError::invalid(
                                format!("{path}.service.port.name"),
                                &port.name,
                                msg,
                            ));
                        }
                    }
                },
            }
        }
        (None, Some(_)) => {}
    }
}
